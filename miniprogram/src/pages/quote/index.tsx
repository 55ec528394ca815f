import { Picker, Text, View } from '@tarojs/components';
import Taro, { useRouter } from '@tarojs/taro';
import { useEffect, useMemo, useRef, useState } from 'react';
import { ChipGroup, Field, TextField } from '../../components/Field';
import { LoginGate } from '../../components/LoginGate';
import { ErrorState, RemoteView } from '../../components/StatusView';
import { useRemote } from '../../hooks/useRemote';
import { api } from '../../services/app';
import { ApiError, fieldMessage, messageOf } from '../../services/errors';
import { formatFen, formatSumInsured, RELATION_LABELS } from '../../services/format';
import type { InsuredRelation, OrderRequest, ProductDetail, Quote, QuoteRequest } from '../../services/types';
import {
  addDays, birthDateFromIdCard, checkDate, checkIdCard, checkName, checkPhone, chinaToday, hasErrors,
} from '../../services/validation';
import './index.css';

interface Form {
  planId: string;
  termId: string;
  sumInsuredFen?: number;
  options: Record<string, string>;
  startDate: string;
  tripDays: string;
  relation: InsuredRelation;
  birthDate: string;
  health: Record<string, boolean | undefined>;
  holderName: string;
  holderIdCard: string;
  holderPhone: string;
  insuredName: string;
  insuredIdCard: string;
}

type FieldKey =
  | 'tripDays' | 'startDate' | 'birthDate' | 'health' | 'holderName' | 'holderIdCard' | 'holderPhone'
  | 'insuredName' | 'insuredIdCard' | 'relation';

/** Server field names → our form fields, so a 400/422 lands next to the right input. */
const SERVER_FIELDS: Record<string, FieldKey> = {
  'policyholder.name': 'holderName',
  'policyholder.idCard': 'holderIdCard',
  'policyholder.phone': 'holderPhone',
  'insured.name': 'insuredName',
  'insured.idCard': 'insuredIdCard',
  'insured.relation': 'relation',
  'insured.birthDate': 'birthDate',
  insured: 'insuredIdCard',
  tripDays: 'tripDays',
  startDate: 'startDate',
};

const FIELD_LABELS: Record<FieldKey, string> = {
  tripDays: '行程天数',
  startDate: '出发日期',
  birthDate: '出生日期',
  health: '健康告知',
  holderName: '投保人姓名',
  holderIdCard: '身份证号',
  holderPhone: '手机号',
  insuredName: '被保险人姓名',
  insuredIdCard: '被保险人身份证号',
  relation: '与投保人关系',
};

/** Where a server field shows: insuring oneself, the insured's ID number is the one typed as the policyholder's. */
function formFieldOf(serverField: string, relation: InsuredRelation): FieldKey | undefined {
  const key = SERVER_FIELDS[serverField] ?? (serverField.startsWith('healthAnswers') ? 'health' : undefined);
  if (relation === 'self' && (key === 'insuredIdCard' || key === 'insuredName')) return key === 'insuredIdCard' ? 'holderIdCard' : 'holderName';
  return key;
}

/** The insured's ID number as typed (the policyholder's own when insuring oneself). */
const insuredIdOf = (f: Form) => (f.relation === 'self' ? f.holderIdCard : f.insuredIdCard).trim().toUpperCase();

function initialForm(p: ProductDetail): Form {
  const tripTerm = p.terms.find((t) => t.coverage.tripDays);
  return {
    planId: p.plans[0]?.id ?? '',
    termId: p.terms[0]?.id ?? '',
    sumInsuredFen: p.sumInsured ? Math.min(p.sumInsured.minFen * 3, p.sumInsured.maxFen) : undefined,
    options: Object.fromEntries(p.options.map((o) => [o.id, o.default])),
    startDate: addDays(chinaToday(), 1),
    tripDays: tripTerm ? '7' : '',
    relation: p.insuredRelations[0] ?? 'self',
    birthDate: p.insuredAge.minDays !== undefined && (p.insuredAge.maxYears ?? 99) <= 17 ? '2020-01-01' : '1990-01-01',
    health: {},
    holderName: '',
    holderIdCard: '',
    holderPhone: '',
    insuredName: '',
    insuredIdCard: '',
  };
}

function sumInsuredSteps(p: ProductDetail): number[] {
  if (!p.sumInsured) return [];
  const steps: number[] = [];
  for (let v = p.sumInsured.minFen; v <= p.sumInsured.maxFen; v += p.sumInsured.stepFen) steps.push(v);
  return steps;
}

function quoteRequest(p: ProductDetail, f: Form, insured: QuoteRequest['insured']): QuoteRequest {
  const trip = p.terms.find((t) => t.id === f.termId)?.coverage.tripDays;
  return {
    productId: p.id,
    planId: f.planId,
    termId: f.termId,
    ...(f.sumInsuredFen !== undefined && { sumInsuredFen: f.sumInsuredFen }),
    ...(p.options.length > 0 && { options: f.options }),
    ...(trip && { startDate: f.startDate, tripDays: Number(f.tripDays) }),
    insured,
    healthAnswers: Object.fromEntries(Object.entries(f.health).filter(([, v]) => v !== undefined)) as Record<string, boolean>,
  };
}

function QuoteForm({ product }: { product: ProductDetail }) {
  const [form, setForm] = useState<Form>(() => initialForm(product));
  const [quote, setQuote] = useState<Quote>();
  const [quoting, setQuoting] = useState(false);
  const [quoteError, setQuoteError] = useState<string>();
  const [errors, setErrors] = useState<Partial<Record<FieldKey, string>>>({});
  const [submitError, setSubmitError] = useState<string>();
  const [submitting, setSubmitting] = useState(false);
  const trip = product.terms.find((t) => t.id === form.termId)?.coverage.tripDays;
  const steps = useMemo(() => sumInsuredSteps(product), [product]);
  const seq = useRef(0);
  // Once the insured's ID number is valid, its birth date is the one the order is priced on: price the preview on
  // it too, so the premium, the cover dates and an age outside the product's range show before submitting.
  const idBirthDate = birthDateFromIdCard(insuredIdOf(form));
  const birthDate = idBirthDate ?? form.birthDate;

  const set = <K extends keyof Form>(key: K, value: Form[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setErrors((e) => ({ ...e, [key]: undefined }));
    setSubmitError(undefined);
  };

  // Price as the buyer changes the plan: the server quotes (public endpoint), the last answer wins.
  const tripDaysValid = !trip || (/^\d+$/.test(form.tripDays) && Number(form.tripDays) >= trip.min && Number(form.tripDays) <= trip.max);
  const quoteKey = JSON.stringify([form.planId, form.termId, form.sumInsuredFen, form.options, form.startDate, form.tripDays, birthDate, form.health]);
  useEffect(() => {
    if (!tripDaysValid || checkDate(birthDate, '出生日期')) return;
    const mine = ++seq.current;
    setQuoting(true);
    const timer = setTimeout(() => {
      api
        .quote(quoteRequest(product, form, { birthDate }))
        .then((q) => {
          if (mine !== seq.current) return;
          setQuote(q);
          setQuoteError(undefined);
        })
        .catch((err) => {
          if (mine !== seq.current) return;
          setQuote(undefined);
          setQuoteError(messageOf(err));
        })
        .finally(() => mine === seq.current && setQuoting(false));
    }, 250);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [quoteKey]);

  function validate(): Partial<Record<FieldKey, string>> {
    const e: Partial<Record<FieldKey, string>> = {
      holderName: checkName(form.holderName),
      holderIdCard: checkIdCard(form.holderIdCard),
      holderPhone: checkPhone(form.holderPhone),
      birthDate: checkDate(form.birthDate, '出生日期'),
    };
    if (form.relation !== 'self') {
      e.insuredName = checkName(form.insuredName);
      e.insuredIdCard = checkIdCard(form.insuredIdCard);
      if (!e.insuredIdCard && form.insuredIdCard.trim().toUpperCase() === form.holderIdCard.trim().toUpperCase()) {
        e.insuredIdCard = '被保险人是本人时，请选择“本人”';
      }
    }
    if (trip && !tripDaysValid) e.tripDays = `行程天数须为${trip.min}–${trip.max}天`;
    if (trip) e.startDate = checkDate(form.startDate, '出发日期');
    if (product.healthQuestions.some((q) => form.health[q.id] === undefined)) e.health = '请逐项回答健康告知';
    return e;
  }

  /** The reason under the button is often below the fold: say it where the customer is looking too. */
  const fail = (message: string) => {
    setSubmitError(message);
    void Taro.showToast({ title: message, icon: 'none', duration: 3000 });
  };

  async function submit() {
    if (submitting) return;
    setSubmitError(undefined);
    const e = validate();
    setErrors(e);
    if (hasErrors(e)) {
      fail('请按提示修改标红的信息');
      return;
    }
    const insuredIdCard = insuredIdOf(form);
    setSubmitting(true);
    // A preview still on its way must not replace the price the order is placed at.
    seq.current += 1;
    setQuoting(false);
    try {
      // Price once more from the insured's ID number: that birth date is the one the order is priced on.
      const final = await api.quote(quoteRequest(product, form, { idCard: insuredIdCard }));
      setQuote(final);
      if (!final.eligible || final.premiumFen === null) {
        fail(final.reasons.map((r) => r.message).join('；') || '被保险人不符合投保条件');
        return;
      }
      const birth = birthDateFromIdCard(insuredIdCard);
      if (birth && birth !== form.birthDate) setForm((f) => ({ ...f, birthDate: birth }));
      const body: OrderRequest = {
        ...quoteRequest(product, form, {}),
        policyholder: { name: form.holderName.trim(), idCard: form.holderIdCard.trim().toUpperCase(), phone: form.holderPhone.trim() },
        insured:
          form.relation === 'self'
            ? { relation: 'self' }
            : { relation: form.relation, name: form.insuredName.trim(), idCard: insuredIdCard },
        beneficiary: { type: 'legal' },
        healthAnswers: Object.fromEntries(product.healthQuestions.map((q) => [q.id, form.health[q.id] === true])),
        quotedPremiumFen: final.premiumFen,
      };
      const order = await api.createOrder(body);
      void Taro.redirectTo({ url: `/pages/pay/index?no=${encodeURIComponent(order.orderNumber)}` });
    } catch (err) {
      let message = messageOf(err);
      if (err instanceof ApiError && err.fields.length) {
        const mapped: Partial<Record<FieldKey, string>> = {};
        for (const field of err.fields) {
          const key = formFieldOf(field, form.relation);
          if (key) mapped[key] = fieldMessage(err, FIELD_LABELS[key]);
        }
        setErrors((prev) => ({ ...prev, ...mapped }));
        const first = Object.values(mapped)[0];
        // English from the server says nothing to the customer: name the field instead.
        if (first && message === '填写的信息有误，请检查后重试') message = first;
      }
      fail(message);
    } finally {
      setSubmitting(false);
    }
  }

  const premium = quote?.premiumFen;
  const reasonsText = quote && !quote.eligible ? quote.reasons.map((r) => r.message).join('；') : '';
  return (
    <View className='page quote'>
      <View className='card'>
        <Text className='card__title'>{product.name}</Text>
        <Text className='card__sub'>{product.summary}</Text>
      </View>

      <Text className='section-title'>选择方案</Text>
      <View className='card'>
        <Text className='strong'>保障计划</Text>
        <ChipGroup name='plan' value={form.planId} onChange={(v) => set('planId', v)} options={product.plans.map((p) => ({ value: p.id, label: p.name }))} />
        {product.terms.length > 1 && (
          <>
            <Text className='strong block-gap'>保障期限</Text>
            <ChipGroup name='term' value={form.termId} onChange={(v) => set('termId', v)} options={product.terms.map((t) => ({ value: t.id, label: t.label }))} />
          </>
        )}
        {steps.length > 0 && (
          <>
            <Text className='strong block-gap'>保额</Text>
            <ChipGroup
              name='sum'
              value={String(form.sumInsuredFen)}
              onChange={(v) => set('sumInsuredFen', Number(v))}
              options={steps.map((s) => ({ value: String(s), label: formatSumInsured(s) }))}
            />
          </>
        )}
        {product.options.map((o) => (
          <View key={o.id}>
            <Text className='strong block-gap'>{o.label}</Text>
            <ChipGroup
              name={`opt-${o.id}`}
              value={form.options[o.id]}
              onChange={(v) => set('options', { ...form.options, [o.id]: v })}
              options={o.choices.map((c) => ({ value: c.id, label: c.label }))}
            />
          </View>
        ))}
        {trip && (
          <>
            <Field label='出发日期' error={errors.startDate}>
              <Picker mode='date' value={form.startDate} start={addDays(chinaToday(), 1)} onChange={(e) => set('startDate', String(e.detail.value))}>
                <View className='picker-value'>{form.startDate}</View>
              </Picker>
            </Field>
            <TextField name='tripDays' label='行程天数' type='number' value={form.tripDays} onChange={(v) => set('tripDays', v)} error={errors.tripDays} hint={`${trip.min}–${trip.max}天`} />
          </>
        )}
      </View>

      <Text className='section-title'>被保险人</Text>
      <View className='card'>
        <Text className='strong'>为谁投保</Text>
        <ChipGroup
          name='relation'
          value={form.relation}
          onChange={(v) => set('relation', v)}
          options={product.insuredRelations.map((r) => ({ value: r, label: RELATION_LABELS[r] ?? r }))}
        />
        {errors.relation && <Text className='field__error flush'>{errors.relation}</Text>}
        <Field label='出生日期' error={errors.birthDate} hint={idBirthDate ? '已按被保险人身份证号填写' : '用于试算保费，投保时以身份证为准'}>
          <Picker
            mode='date'
            value={birthDate}
            start='1920-01-01'
            end={chinaToday()}
            disabled={Boolean(idBirthDate)}
            onChange={(e) => set('birthDate', String(e.detail.value))}
          >
            <View className='picker-value quote__birth-date'>{birthDate}</View>
          </Picker>
        </Field>
        {form.relation !== 'self' && (
          <>
            <TextField name='insuredName' label='姓名' value={form.insuredName} onChange={(v) => set('insuredName', v)} error={errors.insuredName} placeholder='与身份证一致' />
            <TextField name='insuredIdCard' label='身份证号' type='idcard' maxlength={18} value={form.insuredIdCard} onChange={(v) => set('insuredIdCard', v)} error={errors.insuredIdCard} placeholder='18位身份证号' />
          </>
        )}
      </View>

      {product.healthQuestions.length > 0 && (
        <>
          <Text className='section-title'>健康告知</Text>
          <View className={`card ${errors.health ? 'card--error' : ''}`}>
            {product.healthQuestions.map((q, i) => (
              <View key={q.id} className='health-q'>
                <Text className='health-q__text'>
                  {i + 1}. {q.text}
                </Text>
                <ChipGroup
                  name={`health-${q.id}`}
                  value={form.health[q.id] === undefined ? undefined : form.health[q.id] ? 'yes' : 'no'}
                  onChange={(v) => set('health', { ...form.health, [q.id]: v === 'yes' })}
                  options={[
                    { value: 'no', label: '否' },
                    { value: 'yes', label: '是' },
                  ]}
                />
              </View>
            ))}
            {errors.health && <Text className='field__error flush'>{errors.health}</Text>}
          </View>
        </>
      )}

      <Text className='section-title'>投保人（付款人）</Text>
      <View className='card'>
        <TextField name='holderName' label='姓名' value={form.holderName} onChange={(v) => set('holderName', v)} error={errors.holderName} placeholder='与身份证一致' />
        <TextField name='holderIdCard' label='身份证号' type='idcard' maxlength={18} value={form.holderIdCard} onChange={(v) => set('holderIdCard', v)} error={errors.holderIdCard} placeholder='18位身份证号' />
        <TextField name='holderPhone' label='手机号' type='number' maxlength={11} value={form.holderPhone} onChange={(v) => set('holderPhone', v)} error={errors.holderPhone} placeholder='11位手机号' />
      </View>

      {reasonsText && reasonsText !== submitError && <Text className='form-error quote__reasons'>{reasonsText}</Text>}
      {quoteError && <Text className='form-error'>试算失败：{quoteError}</Text>}
      {submitError && <Text className='form-error submit-error'>{submitError}</Text>}

      <View className='bottom-bar'>
        <View className='grow'>
          <Text className='muted'>保费 </Text>
          <Text className='price quote__premium'>
            {quoting && premium === undefined ? '计算中…' : quote && !quote.eligible ? '不可投保' : formatFen(premium)}
          </Text>
          {quote?.cover && quote.eligible && <Text className='muted small block'>保障 {quote.cover.startsOn} 至 {quote.cover.endsOn}</Text>}
        </View>
        <View className={`btn btn--primary ${submitting ? 'btn--disabled' : ''}`} onClick={() => void submit()}>
          <Text>{submitting ? '提交中…' : '提交投保'}</Text>
        </View>
      </View>
    </View>
  );
}

export default function QuotePage() {
  const params = useRouter().params;
  // Chat answers link here as `?product=…`; our own pages pass `?productId=…`.
  const productId = params.productId ?? params.product ?? '';
  const product = useRemote(() => (productId ? api.product(productId) : Promise.reject(new ApiError(404, 'unknown_product', 'no product'))), [productId]);
  if (product.error) {
    return (
      <ErrorState message={product.error} onRetry={() => void product.reload()}>
        <View className='btn btn--primary status__action' onClick={() => void Taro.switchTab({ url: '/pages/products/index' })}>
          <Text>查看全部产品</Text>
        </View>
      </ErrorState>
    );
  }
  return (
    <LoginGate>
      <RemoteView remote={product}>{(p) => <QuoteForm product={p} />}</RemoteView>
    </LoginGate>
  );
}
