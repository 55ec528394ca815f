import { Text, View } from '@tarojs/components';
import Taro, { useRouter } from '@tarojs/taro';
import { useEffect, useRef, useState } from 'react';
import { LoginGate } from '../../components/LoginGate';
import { ErrorState, Loading } from '../../components/StatusView';
import { api } from '../../services/app';
import { confirmDeliberately } from '../../services/confirm';
import { messageOf } from '../../services/errors';
import { askForNotices } from '../../services/notices';
import { formatDateTime, formatFen, formatSumInsured } from '../../services/format';
import type { Order, PolicyDetail } from '../../services/types';
import './index.css';

const isH5 = process.env.TARO_ENV === 'h5';
type Step = 'confirm' | 'paying' | 'waiting' | 'done' | 'failed';

/**
 * Pay for an order: the server prepays and signs the wx.requestPayment arguments; the policy exists only once
 * WeChat Pay's notify reached the server, so afterwards we poll the order. In h5 there is no WeChat Pay: the
 * "模拟支付" step starts the prepay and waits for the notify (sent by the fake WeChat Pay in tests).
 */
function Pay({ orderNumber }: { orderNumber: string }) {
  const [order, setOrder] = useState<Order>();
  const [loadError, setLoadError] = useState<string>();
  const [step, setStep] = useState<Step>('confirm');
  const [message, setMessage] = useState<string>();
  const [cancelling, setCancelling] = useState(false);
  const [policy, setPolicy] = useState<PolicyDetail>();
  const alive = useRef(true);
  /** Set synchronously, so a double tap cannot start two payments or cancellations before React re-renders. */
  const busy = useRef(false);
  const timer = useRef<ReturnType<typeof setTimeout>>();

  const load = () => {
    setLoadError(undefined);
    api.order(orderNumber).then(
      (o) => {
        setOrder(o);
        if (o.status === 'issued' || o.status === 'paid') setStep('done');
      },
      (err) => setLoadError(messageOf(err)),
    );
  };
  useEffect(() => {
    alive.current = true;
    load();
    return () => {
      alive.current = false;
      clearTimeout(timer.current);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [orderNumber]);

  /** Poll with back-off until the policy is issued (or give up after about two minutes). */
  const waitForPolicy = (delay = 800, deadline = Date.now() + 120_000) => {
    timer.current = setTimeout(async () => {
      if (!alive.current) return;
      try {
        const o = await api.order(orderNumber);
        if (!alive.current) return;
        setOrder(o);
        if (o.status === 'issued') return setStep('done');
        if (o.status === 'closed') {
          setStep('failed');
          return setMessage('订单已关闭，请重新投保');
        }
      } catch {
        /* keep waiting: a poll may fail on a flaky network */
      }
      if (Date.now() > deadline) {
        setStep('failed');
        setMessage('暂未收到支付结果。如已付款，保单会稍后出现在“我的保单”中。');
        return;
      }
      waitForPolicy(Math.min(delay * 1.5, 5_000), deadline);
    }, delay);
  };

  // Issued: say when the cover starts (the day after payment, so "已生效" alone would mislead).
  const issuedPolicyNumber = step === 'done' ? order?.policyNumber : undefined;
  useEffect(() => {
    if (!issuedPolicyNumber) return;
    api.policy(issuedPolicyNumber).then(
      (p) => alive.current && setPolicy(p),
      () => undefined,
    );
  }, [issuedPolicyNumber]);

  async function pay() {
    if (busy.current || step === 'paying' || step === 'waiting') return;
    busy.current = true;
    setStep('paying');
    setMessage(undefined);
    try {
      // Still in the tap's turn, as WeChat requires: may we tell them when the policy is issued and when it is due?
      await askForNotices(['policyIssued', 'renewalDue']);
      const started = await api.startPayment(orderNumber);
      setOrder(started.order);
      if (!isH5) await Taro.requestPayment({ ...started.requestPayment });
      setStep('waiting');
      waitForPolicy();
    } catch (err) {
      const errMsg = (err as { errMsg?: string })?.errMsg ?? '';
      setStep('failed');
      setMessage(/cancel/.test(errMsg) ? '您已取消支付，可再次支付' : messageOf(err));
    } finally {
      busy.current = false;
    }
  }

  /** 取消订单: an unpaid order the customer no longer wants (it can then no longer be paid). */
  async function cancel() {
    if (busy.current || step === 'paying' || step === 'waiting') return;
    busy.current = true;
    try {
      const confirmed = await confirmDeliberately({
        title: '取消订单',
        content: '取消后该订单将关闭、不能再支付；如需投保可重新下单。确定取消吗？',
        confirmText: '确定取消',
        cancelText: '再想想',
      });
      if (!confirmed) return;
      setCancelling(true);
      setMessage(undefined);
      const closed = await api.cancelOrder(orderNumber);
      if (!alive.current) return;
      setOrder(closed);
      setStep('confirm');
      void Taro.showToast({ title: '订单已取消', icon: 'success' });
    } catch (err) {
      void Taro.showToast({ title: messageOf(err), icon: 'none', duration: 3000 });
      load();
    } finally {
      busy.current = false;
      if (alive.current) setCancelling(false);
    }
  }

  if (loadError) return <ErrorState message={loadError} onRetry={load} />;
  if (!order) return <Loading />;

  if (step === 'done') {
    return (
      <View className='page pay'>
        <View className='card pay__result'>
          <Text className='pay__icon'>✓</Text>
          <Text className='pay__title'>{order.status === 'issued' ? '支付成功，保单已出单' : '支付成功，正在出单'}</Text>
          {order.policyNumber && <Text className='muted pay__policy-no'>保单号 {order.policyNumber}</Text>}
          {policy && (
            <Text className='muted pay__cover'>
              保障期间 {policy.startsOn} 至 {policy.endsOn}
              {policy.status === 'pending' ? `，${policy.startsOn} 零时起生效` : ''}
            </Text>
          )}
          <View
            className='btn btn--primary btn--block'
            onClick={() =>
              void Taro.redirectTo({
                url: order.policyNumber ? `/pages/policies/detail?id=${encodeURIComponent(order.policyNumber)}` : '/pages/policies/index',
              })
            }
          >
            <Text>查看保单</Text>
          </View>
          <View className='btn btn--ghost btn--block' onClick={() => void Taro.redirectTo({ url: '/pages/policies/index' })}>
            <Text>我的保单</Text>
          </View>
        </View>
      </View>
    );
  }

  return (
    <View className='page pay'>
      <View className='card'>
        <Text className='card__title'>{order.productName}</Text>
        <Text className='card__sub'>
          {order.planName} · {order.termLabel} · 保额 {formatSumInsured(order.sumInsuredFen)}
        </Text>
        <View className='cell'>
          <Text className='cell__label'>订单号</Text>
          <Text className='cell__value pay__order-no'>{order.orderNumber}</Text>
        </View>
        <View className='cell'>
          <Text className='cell__label'>投保人</Text>
          <Text className='cell__value'>{order.policyholder.name}</Text>
        </View>
        <View className='cell'>
          <Text className='cell__label'>被保险人</Text>
          <Text className='cell__value'>
            {order.insured.name}（{order.insured.relationLabel}）
          </Text>
        </View>
        <View className='cell'>
          <Text className='cell__label'>订单状态</Text>
          <Text className='cell__value'>{order.statusLabel}</Text>
        </View>
        <View className='cell'>
          <Text className='cell__label'>请在此前支付</Text>
          <Text className='cell__value'>{formatDateTime(order.payBy)}</Text>
        </View>
      </View>

      {isH5 && order.status !== 'closed' && (
        <View className='card pay__simulated'>
          <Text className='strong'>模拟支付</Text>
          <Text className='muted block'>浏览器中没有微信支付：点击下方按钮发起支付，等待微信支付结果通知（测试环境由模拟支付服务发送）。</Text>
        </View>
      )}
      {step === 'waiting' && (
        <View className='card pay__waiting'>
          <Loading text='已发起支付，正在等待支付结果…' />
        </View>
      )}
      {message && <Text className='form-error'>{message}</Text>}
      {order.status === 'closed' && <Text className='notice pay__closed'>订单已关闭，不能再支付。如需投保，请重新下单。</Text>}
      {(order.status === 'created' || order.status === 'paying') && step !== 'paying' && step !== 'waiting' && (
        <View className={`btn btn--ghost btn--block pay__cancel ${cancelling ? 'btn--disabled' : ''}`} onClick={() => void cancel()}>
          <Text>{cancelling ? '正在取消…' : '取消订单'}</Text>
        </View>
      )}

      <View className='bottom-bar'>
        <View className='grow'>
          <Text className='muted'>应付 </Text>
          <Text className='price pay__amount'>{formatFen(order.premiumFen)}</Text>
        </View>
        {order.status === 'closed' ? (
          <View
            className='btn btn--ghost pay__reorder'
            onClick={() => void Taro.redirectTo({ url: `/pages/quote/index?productId=${encodeURIComponent(order.productId)}` })}
          >
            <Text>重新投保</Text>
          </View>
        ) : (
          <View className={`btn btn--primary pay__button ${step === 'paying' || step === 'waiting' ? 'btn--disabled' : ''}`} onClick={() => void pay()}>
            <Text>{step === 'paying' ? '正在发起…' : step === 'waiting' ? '等待结果…' : isH5 ? '模拟支付' : '微信支付'}</Text>
          </View>
        )}
      </View>
    </View>
  );
}

export default function PayPage() {
  const orderNumber = useRouter().params.no ?? '';
  return (
    <LoginGate>
      <Pay orderNumber={orderNumber} />
    </LoginGate>
  );
}
