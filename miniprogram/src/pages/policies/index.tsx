import { Text, View } from '@tarojs/components';
import Taro, { useDidShow, usePullDownRefresh } from '@tarojs/taro';
import { useRef } from 'react';
import { LoginGate } from '../../components/LoginGate';
import { RemoteView } from '../../components/StatusView';
import { POLICY_TAG } from '../../components/tags';
import { useRemote } from '../../hooks/useRemote';
import { api } from '../../services/app';
import { formatDateTime, formatFen, formatSumInsured } from '../../services/format';
import type { Order } from '../../services/types';

/** Orders still waiting to be paid: after leaving the pay page, this is the way back to pay or cancel them. */
const awaitingPayment = (orders: Order[], now = Date.now()) =>
  orders.filter((o) => (o.status === 'created' || o.status === 'paying') && new Date(o.payBy).getTime() > now);

function UnpaidOrders({ orders }: { orders: Order[] }) {
  if (!orders.length) return null;
  return (
    <>
      <Text className='section-title'>待支付订单</Text>
      {orders.map((o) => (
        <View
          key={o.orderNumber}
          className='card order-card'
          onClick={() => void Taro.navigateTo({ url: `/pages/pay/index?no=${encodeURIComponent(o.orderNumber)}` })}
        >
          <View className='row row--between'>
            <Text className='card__title'>{o.productName}</Text>
            <Text className='tag tag--orange'>{o.statusLabel}</Text>
          </View>
          <Text className='card__sub'>
            {o.planName} · 被保险人 {o.insured.name} · 应付 {formatFen(o.premiumFen)}
          </Text>
          <View className='row row--between' style={{ marginTop: '12px' }}>
            <Text className='muted small'>请在 {formatDateTime(o.payBy)} 前支付</Text>
            <Text className='link'>去支付 ›</Text>
          </View>
        </View>
      ))}
      <Text className='section-title'>我的保单</Text>
    </>
  );
}

function Policies() {
  const policies = useRemote(() => api.policies().then((r) => r.items));
  // Unpaid orders are a hint on top of the policies: if they cannot be loaded, the policies still show.
  const orders = useRemote(() => api.orders().then((r) => awaitingPayment(r.items), () => [] as Order[]));
  const shown = useRef(false);
  useDidShow(() => {
    if (shown.current) {
      void policies.reload();
      void orders.reload();
    }
    shown.current = true;
  });
  usePullDownRefresh(() => void Promise.all([policies.reload(), orders.reload()]).finally(() => Taro.stopPullDownRefresh()));
  return (
    <View className='page'>
      {orders.data && <UnpaidOrders orders={orders.data} />}
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
