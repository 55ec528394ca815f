import { Text, View } from '@tarojs/components';
import Taro, { useDidShow, usePullDownRefresh } from '@tarojs/taro';
import { useRef } from 'react';
import { LoginGate } from '../../components/LoginGate';
import { RemoteView } from '../../components/StatusView';
import { POLICY_TAG } from '../../components/tags';
import { useRemote } from '../../hooks/useRemote';
import { api } from '../../services/app';
import { formatFen, formatSumInsured } from '../../services/format';

function Policies() {
  const policies = useRemote(() => api.policies().then((r) => r.items));
  const shown = useRef(false);
  useDidShow(() => {
    if (shown.current) void policies.reload();
    shown.current = true;
  });
  usePullDownRefresh(() => void policies.reload().finally(() => Taro.stopPullDownRefresh()));
  return (
    <View className='page'>
      <RemoteView
        remote={policies}
        isEmpty={(items) => items.length === 0}
        emptyText='您还没有保单'
        emptyAction={
          <View className='btn btn--primary status__action' onClick={() => void Taro.switchTab({ url: '/pages/products/index' })}>
            <Text>去看看保险</Text>
          </View>
        }
      >
        {(items) =>
          items.map((p) => (
            <View
              key={p.policyNumber}
              className='card policy-card'
              onClick={() => void Taro.navigateTo({ url: `/pages/policies/detail?id=${encodeURIComponent(p.policyNumber)}` })}
            >
              <View className='row row--between'>
                <Text className='card__title'>{p.productName}</Text>
                <Text className={POLICY_TAG[p.status]}>{p.statusLabel}</Text>
              </View>
              <Text className='card__sub'>
                {p.planName} · 被保险人 {p.insuredName} · 保额 {formatSumInsured(p.sumInsuredFen)}
              </Text>
              <View className='row row--between' style={{ marginTop: '12px' }}>
                <Text className='muted small'>
                  {p.startsOn} 至 {p.endsOn}
                </Text>
                <Text className='muted small'>保费 {formatFen(p.premiumFen)}</Text>
              </View>
              <Text className='muted small'>保单号 {p.policyNumber}</Text>
            </View>
          ))
        }
      </RemoteView>
    </View>
  );
}

export default function PoliciesPage() {
  return (
    <LoginGate>
      <Policies />
    </LoginGate>
  );
}
