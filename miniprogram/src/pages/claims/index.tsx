import { Text, View } from '@tarojs/components';
import Taro, { useDidShow, usePullDownRefresh } from '@tarojs/taro';
import { useRef } from 'react';
import { LoginGate } from '../../components/LoginGate';
import { RemoteView } from '../../components/StatusView';
import { CLAIM_TAG } from '../../components/tags';
import { useRemote } from '../../hooks/useRemote';
import { api } from '../../services/app';
import { formatDateTime, INCIDENT_KIND_LABELS } from '../../services/format';

function Claims() {
  const claims = useRemote(() => api.claims().then((r) => r.items));
  const shown = useRef(false);
  useDidShow(() => {
    if (shown.current) void claims.reload();
    shown.current = true;
  });
  usePullDownRefresh(() => void claims.reload().finally(() => Taro.stopPullDownRefresh()));
  return (
    <View className='page'>
      <RemoteView remote={claims} isEmpty={(items) => items.length === 0} emptyText='还没有理赔记录'>
        {(items) =>
          items.map((c) => (
            <View
              key={c.claimNumber}
              className='card claim-card'
              onClick={() => void Taro.navigateTo({ url: `/pages/claims/detail?id=${encodeURIComponent(c.claimNumber)}` })}
            >
              <View className='row row--between'>
                <Text className='card__title'>{c.productName}</Text>
                <Text className={CLAIM_TAG[c.status]}>{c.statusLabel}</Text>
              </View>
              <Text className='card__sub'>
                {INCIDENT_KIND_LABELS[c.incident.kind] ?? c.incident.kind} · {c.incident.occurredOn} · 被保险人 {c.insuredName}
              </Text>
              <Text className='muted small'>
                报案号 {c.claimNumber} · {formatDateTime(c.createdAt)}
              </Text>
            </View>
          ))
        }
      </RemoteView>
      <View className='bottom-bar'>
        <View className='btn btn--primary grow' onClick={() => void Taro.navigateTo({ url: '/pages/claims/new' })}>
          <Text>我要报案</Text>
        </View>
      </View>
    </View>
  );
}

export default function ClaimsPage() {
  return (
    <LoginGate>
      <Claims />
    </LoginGate>
  );
}
