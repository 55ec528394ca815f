import { Picker, Text, Textarea, View } from '@tarojs/components';
import Taro, { useRouter } from '@tarojs/taro';
import { useRef, useState } from 'react';
import { ChipGroup, Field, TextField } from '../../components/Field';
import { LoginGate } from '../../components/LoginGate';
import { PhotoPicker, type PendingPhoto } from '../../components/PhotoPicker';
import { RemoteView } from '../../components/StatusView';
import { useRemote } from '../../hooks/useRemote';
import { api } from '../../services/app';
import { uploadPhotos } from '../../services/claims';
import { ApiError, fieldMessage, messageOf } from '../../services/errors';
import { INCIDENT_KIND_LABELS } from '../../services/format';
import { askForNotices } from '../../services/notices';
import type { DocumentKind, IncidentKind, PolicySummary } from '../../services/types';
import { checkDate, checkPhone, chinaToday, hasErrors } from '../../services/validation';

type Key = 'policyId' | 'kind' | 'occurredOn' | 'description' | 'amount' | 'contactPhone';

const SERVER_FIELDS: Record<string, Key> = {
  policyId: 'policyId',
  'incident.kind': 'kind',
  'incident.occurredOn': 'occurredOn',
  'incident.description': 'description',
  'incident.estimatedAmountFen': 'amount',
  contactPhone: 'contactPhone',
};

const LABELS: Record<Key, string> = {
  policyId: '出险保单',
  kind: '事故类型',
  occurredOn: '出险日期',
  description: '事故经过',
  amount: '预估金额',
  contactPhone: '联系电话',
};

/** The server takes amounts up to ¥100,000,000. */
const MAX_AMOUNT_YUAN = 100_000_000;

function NewClaim({ policies, presetPolicyId }: { policies: PolicySummary[]; presetPolicyId?: string }) {
  const today = chinaToday();
  const claimable = policies.filter((p) => p.status !== 'surrendered');
  const [policyId, setPolicyId] = useState(presetPolicyId ?? (claimable.length === 1 ? claimable[0].policyNumber : ''));
  const [kind, setKind] = useState<IncidentKind>('accident');
  const [occurredOn, setOccurredOn] = useState(today);
  const [description, setDescription] = useState('');
  const [place, setPlace] = useState('');
  const [amount, setAmount] = useState('');
  const [contactPhone, setContactPhone] = useState('');
  const [photos, setPhotos] = useState<PendingPhoto[]>([]);
  const [docKind, setDocKind] = useState<DocumentKind>('accident_proof');
  const [errors, setErrors] = useState<Partial<Record<Key, string>>>({});
  const [submitError, setSubmitError] = useState<string>();
  const [progress, setProgress] = useState<string>();
  /** Set at the first tap, so a double tap cannot report the claim twice. */
  const working = useRef(false);

  const validate = () => {
    const e: Partial<Record<Key, string>> = {
      policyId: policyId ? undefined : '请选择出险的保单',
      occurredOn: checkDate(occurredOn, '出险日期') ?? (occurredOn > today ? '出险日期不能晚于今天' : undefined),
      description: description.trim().length < 5 ? '请描述事故经过（至少5个字）' : undefined,
      amount: !amount.trim()
        ? undefined
        : !/^\d+(\.\d{1,2})?$/.test(amount.trim())
          ? '请填写金额（元），最多两位小数'
          : Number(amount.trim()) > MAX_AMOUNT_YUAN
            ? '预估金额不能超过1亿元'
            : undefined,
      contactPhone: checkPhone(contactPhone),
    };
    return e;
  };

  /** The reason under the button may be below the fold: say it where the customer is looking too. */
  const fail = (message: string) => {
    setSubmitError(message);
    void Taro.showToast({ title: message, icon: 'none', duration: 3000 });
  };

  async function submit() {
    if (progress || working.current) return;
    const e = validate();
    setErrors(e);
    setSubmitError(undefined);
    if (hasErrors(e)) {
      fail('请按提示修改标红的信息');
      return;
    }
    working.current = true;
    setProgress('正在提交报案…');
    try {
      // Still in the tap's turn, as WeChat requires: may we tell them how the claim goes?
      await askForNotices(['claimProgress']);
      const amountFen = amount.trim() ? Math.round(Number(amount.trim()) * 100) : undefined;
      const claim = await api.reportClaim({
        policyId,
        incident: {
          kind,
          occurredOn,
          description: description.trim(),
          ...(place.trim() && { place: place.trim() }),
          ...(amountFen && { estimatedAmountFen: amountFen }),
        },
        contactPhone: contactPhone.trim(),
      });
      let failed = 0;
      if (photos.length) {
        setProgress(`正在上传材料 0/${photos.length}…`);
        failed = (await uploadPhotos(claim.claimNumber, photos, (done) => setProgress(`正在上传材料 ${done}/${photos.length}…`))).length;
      }
      if (failed) void Taro.showToast({ title: `${failed}张材料上传失败，可在详情页补传`, icon: 'none', duration: 3000 });
      else void Taro.showToast({ title: '报案成功', icon: 'success' });
      void Taro.redirectTo({ url: `/pages/claims/detail?id=${encodeURIComponent(claim.claimNumber)}` });
    } catch (err) {
      working.current = false;
      setProgress(undefined);
      const existing = err instanceof ApiError && err.code === 'claim_already_reported' ? err.details.claimNumber : undefined;
      if (typeof existing === 'string') {
        // The same incident is already a claim: offer that claim rather than a dead end.
        setSubmitError(messageOf(err));
        const { confirm } = await Taro.showModal({ title: '已报过案', content: messageOf(err), confirmText: '查看案件', cancelText: '关闭' });
        if (confirm) void Taro.redirectTo({ url: `/pages/claims/detail?id=${encodeURIComponent(existing)}` });
        return;
      }
      let message = messageOf(err);
      if (err instanceof ApiError) {
        const mapped: Partial<Record<Key, string>> = {};
        for (const field of err.fields) if (SERVER_FIELDS[field]) mapped[SERVER_FIELDS[field]] = fieldMessage(err, LABELS[SERVER_FIELDS[field]]);
        setErrors((prev) => ({ ...prev, ...mapped }));
        const first = Object.values(mapped)[0];
        if (first && message === '填写的信息有误，请检查后重试') message = first;
      }
      fail(message);
    }
  }

  if (claimable.length === 0) {
    return (
      <View className='status status--empty'>
        <Text className='status__text'>您还没有可以报案的保单</Text>
        <View className='btn btn--primary status__action' onClick={() => void Taro.switchTab({ url: '/pages/products/index' })}>
          <Text>去看看保险</Text>
        </View>
      </View>
    );
  }

  return (
    <View className='page claim-new'>
      <Text className='section-title'>出险保单</Text>
      <View className='card'>
        <ChipGroup
          name='policy'
          value={policyId}
          onChange={setPolicyId}
          options={claimable.map((p) => ({ value: p.policyNumber, label: `${p.productName}（${p.insuredName}）` }))}
        />
        {errors.policyId && <Text className='field__error flush'>{errors.policyId}</Text>}
      </View>

      <Text className='section-title'>事故信息</Text>
      <View className='card'>
        <Text className='strong'>事故类型</Text>
        <ChipGroup<IncidentKind>
          name='incident'
          value={kind}
          onChange={(v) => setKind(v)}
          options={(['accident', 'illness', 'hospitalization', 'outpatient', 'trip', 'other'] as IncidentKind[]).map((k) => ({ value: k, label: INCIDENT_KIND_LABELS[k] }))}
        />
        <Field label='出险日期' error={errors.occurredOn}>
          <Picker mode='date' value={occurredOn} end={today} onChange={(e) => setOccurredOn(String(e.detail.value))}>
            <View className='picker-value'>{occurredOn}</View>
          </Picker>
        </Field>
        <View className={`field field--stacked ${errors.description ? 'field--error' : ''}`}>
          <Text className='field__label'>事故经过</Text>
          <Textarea
            className='textarea claim-description'
            value={description}
            maxlength={1000}
            placeholder='请描述时间、地点和经过，例如：下楼梯时摔倒，右脚踝骨折，在市第一医院就诊'
            onInput={(e) => setDescription(e.detail.value)}
          />
          {errors.description && <Text className='field__error flush'>{errors.description}</Text>}
        </View>
        <TextField name='place' label='出险地点' value={place} onChange={setPlace} placeholder='选填' maxlength={100} />
        <TextField name='amount' label='预估金额' type='digit' value={amount} onChange={setAmount} placeholder='选填，单位：元' error={errors.amount} />
        <TextField name='contactPhone' label='联系电话' type='number' maxlength={11} value={contactPhone} onChange={setContactPhone} placeholder='理赔员将通过此号码联系您' error={errors.contactPhone} />
      </View>

      <Text className='section-title'>理赔材料（可稍后补充）</Text>
      <View className='card'>
        <PhotoPicker photos={photos} onChange={setPhotos} kind={docKind} onKindChange={setDocKind} />
      </View>

      {submitError && <Text className='form-error'>{submitError}</Text>}
      <View className='bottom-bar'>
        <View className={`btn btn--primary grow ${progress ? 'btn--disabled' : ''}`} onClick={() => void submit()}>
          <Text>{progress ?? '提交报案'}</Text>
        </View>
      </View>
    </View>
  );
}

export default function NewClaimPage() {
  const presetPolicyId = useRouter().params.policyId;
  const policies = useRemote(() => api.policies().then((r) => r.items));
  return (
    <LoginGate>
      <RemoteView remote={policies}>{(items) => <NewClaim policies={items} presetPolicyId={presetPolicyId} />}</RemoteView>
    </LoginGate>
  );
}
