import { Text, View } from '@tarojs/components';
import Taro, { useRouter } from '@tarojs/taro';
import { useRef, useState } from 'react';
import { LoginGate } from '../../components/LoginGate';
import { RemoteView } from '../../components/StatusView';
import { POLICY_TAG } from '../../components/tags';
import { useRemote } from '../../hooks/useRemote';
import { api } from '../../services/app';
import { confirmDeliberately } from '../../services/confirm';
import { messageOf } from '../../services/errors';
import { formatDateTime, formatDeadline, formatFen, formatSumInsured } from '../../services/format';
import type { PolicyDetail } from '../../services/types';

function Cell({ label, value }: { label: string; value: string }) {
  return (
    <View className='cell'>
      <Text className='cell__label'>{label}</Text>
      <Text className='cell__value'>{value}</Text>
    </View>
  );
}

function Detail({ policy, reload }: { policy: PolicyDetail; reload(): Promise<void> }) {
  const [busy, setBusy] = useState(false);
  /** Set at the first tap: a second tap must not open a second dialog or send a second surrender. */
  const working = useRef(false);
  const surrender = async () => {
    if (working.current) return;
    working.current = true;
    try {
      const confirmed = await confirmDeliberately({
        title: '犹豫期退保',
        content: `退保后保障立即终止，保费 ${formatFen(policy.premiumFen)} 将全额退回原支付账户。确定退保吗？`,
        confirmText: '确定退保',
        confirmColor: '#f5222d',
      });
      if (!confirmed) return;
      setBusy(true);
      await api.surrender(policy.policyNumber);
      void Taro.showToast({ title: '已申请退保', icon: 'success' });
      await reload();
    } catch (err) {
      void Taro.showToast({ title: messageOf(err), icon: 'none', duration: 3000 });
    } finally {
      working.current = false;
      setBusy(false);
    }
  };
  const canClaim = policy.status === 'in_force' || policy.status === 'expired' || policy.status === 'pending';
  return (
    <View className='page'>
      <View className='card'>
        <View className='row row--between'>
          <Text className='card__title'>{policy.productName}</Text>
          <Text className={POLICY_TAG[policy.status]}>{policy.statusLabel}</Text>
        </View>
        <Text className='card__sub'>保单号 {policy.policyNumber}</Text>
      </View>
      {policy.status === 'surrendered' && (
        <Text className='notice policy__surrendered'>
          已在犹豫期内退保，保障已终止。保费 {formatFen(policy.premiumFen)} 将全额原路退回支付账户（微信零钱通常1–3个工作日到账，银行卡3–7个工作日）。
        </Text>
      )}

      <Text className='section-title'>保障信息</Text>
      <View className='card'>
        <Cell label='保障计划' value={`${policy.planName} · ${policy.termLabel}`} />
        <Cell label='保额' value={formatSumInsured(policy.sumInsuredFen)} />
        <Cell label='保费' value={formatFen(policy.premiumFen)} />
        <Cell label='保障期间' value={`${policy.startsOn} 至 ${policy.endsOn}`} />
        <Cell label='等待期' value={policy.waitingPeriodDays ? `${policy.waitingPeriodDays}天` : '无'} />
        {policy.coolingOff && policy.status !== 'surrendered' && <Cell label='犹豫期至' value={formatDeadline(policy.coolingOff.endsAt)} />}
        {policy.surrenderedAt && <Cell label='退保时间' value={formatDateTime(policy.surrenderedAt)} />}
        <Cell label='出单时间' value={formatDateTime(policy.issuedAt)} />
      </View>

      <Text className='section-title'>保障责任</Text>
      <View className='card'>
        {policy.benefits.map((b) => (
          <Text key={b} className='benefit'>· {b}</Text>
        ))}
      </View>

      <Text className='section-title'>人员信息</Text>
      <View className='card'>
        <Cell label='投保人' value={`${policy.policyholder.name} ${policy.policyholder.idCard}`} />
        <Cell label='被保险人' value={`${policy.insured.name}（${policy.insured.relationLabel}） ${policy.insured.idCard}`} />
        <Cell
          label='受益人'
          value={policy.beneficiary.type === 'legal' ? policy.beneficiary.label : policy.beneficiary.people.map((p) => `${p.name} ${p.sharePercent}%`).join('、')}
        />
      </View>

      <Text className='section-title'>理赔所需材料</Text>
      <View className='card'>
        <Text className='muted'>{policy.claimDocuments.join('、')}</Text>
      </View>

      {policy.coolingOff?.canSurrender && (
        <View className={`btn btn--danger btn--block ${busy ? 'btn--disabled' : ''}`} onClick={() => void surrender()}>
          <Text>犹豫期退保</Text>
        </View>
      )}

      {canClaim && (
        <View className='bottom-bar'>
          <View
            className='btn btn--primary grow'
            onClick={() => void Taro.navigateTo({ url: `/pages/claims/new?policyId=${encodeURIComponent(policy.policyNumber)}` })}
          >
            <Text>申请理赔</Text>
          </View>
        </View>
      )}
    </View>
  );
}

export default function PolicyDetailPage() {
  const id = useRouter().params.id ?? '';
  const policy = useRemote(() => api.policy(id), [id]);
  return (
    <LoginGate>
      <RemoteView remote={policy}>{(p) => <Detail policy={p} reload={policy.reload} />}</RemoteView>
    </LoginGate>
  );
}
