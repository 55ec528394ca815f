import { Text, View } from '@tarojs/components';
import Taro, { useRouter } from '@tarojs/taro';
import { useRef, useState } from 'react';
import { LoginGate } from '../../components/LoginGate';
import { PhotoPicker, type PendingPhoto } from '../../components/PhotoPicker';
import { RemoteView } from '../../components/StatusView';
import { CLAIM_TAG } from '../../components/tags';
import { useRemote } from '../../hooks/useRemote';
import { api } from '../../services/app';
import { uploadPhotos } from '../../services/claims';
import { messageOf } from '../../services/errors';
import { DOCUMENT_KIND_LABELS, formatDateTime, formatFen, INCIDENT_KIND_LABELS } from '../../services/format';
import { askForNotices } from '../../services/notices';
import type { Claim, DocumentKind } from '../../services/types';

const ACCEPTS_DOCUMENTS = ['reported', 'documents_needed', 'under_review'];

function Cell({ label, value }: { label: string; value: string }) {
  return (
    <View className='cell'>
      <Text className='cell__label'>{label}</Text>
      <Text className='cell__value'>{value}</Text>
    </View>
  );
}

function ClaimDetail({ claim, reload }: { claim: Claim; reload(): Promise<void> }) {
  const [photos, setPhotos] = useState<PendingPhoto[]>([]);
  const [docKind, setDocKind] = useState<DocumentKind>('invoice');
  const [busy, setBusy] = useState<string>();
  /** Set at the first tap, so a double tap cannot upload the photos twice or submit twice. */
  const working = useRef(false);

  const upload = async () => {
    if (busy || working.current || !photos.length) return;
    working.current = true;
    const sending = photos;
    setBusy(`正在上传 0/${sending.length}…`);
    let failed: PendingPhoto[] = [];
    try {
      failed = await uploadPhotos(claim.claimNumber, sending, (n) => setBusy(`正在上传 ${n}/${sending.length}…`));
    } finally {
      working.current = false;
      setBusy(undefined);
    }
    // The ones that did not go stay picked, so 重试 is one tap.
    setPhotos(failed);
    void Taro.showToast({ title: failed.length ? `${failed.length}张上传失败，请重试` : '上传成功', icon: failed.length ? 'none' : 'success' });
    await reload();
  };

  const submitDocuments = async () => {
    if (busy || working.current) return;
    working.current = true;
    setBusy('正在提交…');
    try {
      await askForNotices(['claimProgress']);
      await api.submitClaimDocuments(claim.claimNumber);
      void Taro.showToast({ title: '已提交审核', icon: 'success' });
      await reload();
    } catch (err) {
      void Taro.showToast({ title: messageOf(err), icon: 'none' });
    } finally {
      working.current = false;
      setBusy(undefined);
    }
  };

  const timeline = [...claim.timeline].reverse();
  return (
    <View className='page claim-detail'>
      <View className='card'>
        <View className='row row--between'>
          <Text className='card__title'>{claim.productName}</Text>
          <Text className={CLAIM_TAG[claim.status]}>{claim.statusLabel}</Text>
        </View>
        <Text className='card__sub'>报案号 {claim.claimNumber}</Text>
        {claim.approvedAmountFen !== undefined && <Text className='price block'>核定金额 {formatFen(claim.approvedAmountFen)}</Text>}
        {claim.paidAmountFen !== undefined && <Text className='price block'>已赔付 {formatFen(claim.paidAmountFen)}</Text>}
        {claim.rejectionReason && <Text className='form-error'>未通过原因：{claim.rejectionReason}</Text>}
      </View>

      {claim.status === 'documents_needed' && claim.neededDocuments.length > 0 && (
        <Text className='notice'>请补充以下材料：{claim.neededDocuments.join('、')}</Text>
      )}

      <Text className='section-title'>理赔进度</Text>
      <View className='card timeline'>
        {timeline.map((entry, i) => (
          <View key={`${entry.at}-${i}`} className={`timeline__item ${i === 0 ? 'timeline__item--current' : ''}`}>
            <Text className='timeline__title'>{entry.statusLabel}</Text>
            {entry.note && <Text className='timeline__note'>{entry.note}</Text>}
            <Text className='timeline__time'>
              {formatDateTime(entry.at)}
              {entry.by.kind === 'staff' ? ` · ${entry.by.name ?? '理赔专员'}` : entry.by.kind === 'customer' ? ' · 本人' : ''}
            </Text>
          </View>
        ))}
      </View>

      <Text className='section-title'>事故信息</Text>
      <View className='card'>
        <Cell label='被保险人' value={claim.insuredName} />
        <Cell label='事故类型' value={INCIDENT_KIND_LABELS[claim.incident.kind] ?? claim.incident.kind} />
        <Cell label='出险日期' value={claim.incident.occurredOn} />
        {claim.incident.place && <Cell label='出险地点' value={claim.incident.place} />}
        {claim.incident.estimatedAmountFen !== undefined && <Cell label='预估金额' value={formatFen(claim.incident.estimatedAmountFen)} />}
        <Cell label='联系电话' value={claim.contactPhone} />
        <Text className='muted block'>{claim.incident.description}</Text>
      </View>

      <Text className='section-title'>已提交材料（{claim.documents.length}）</Text>
      <View className='card'>
        {claim.documents.length === 0 && <Text className='muted'>还没有上传材料</Text>}
        {claim.documents.map((d) => (
          <View key={d.id} className='cell claim-doc'>
            <Text className='cell__label'>{DOCUMENT_KIND_LABELS[d.kind] ?? d.kind}</Text>
            <Text className='cell__value muted small'>
              {d.fileName} · {Math.max(1, Math.round(d.bytes / 1024))}KB
            </Text>
          </View>
        ))}
      </View>

      {ACCEPTS_DOCUMENTS.includes(claim.status) && (
        <>
          <Text className='section-title'>补充材料</Text>
          <View className='card'>
            <PhotoPicker photos={photos} onChange={setPhotos} kind={docKind} onKindChange={setDocKind} />
            {photos.length > 0 && (
              <View className={`btn btn--primary btn--block ${busy ? 'btn--disabled' : ''}`} onClick={() => void upload()}>
                <Text>{busy ?? `上传 ${photos.length} 张材料`}</Text>
              </View>
            )}
          </View>
        </>
      )}

      {claim.status === 'documents_needed' && (
        <View className={`btn btn--ghost btn--block ${busy ? 'btn--disabled' : ''}`} onClick={() => void submitDocuments()}>
          <Text>材料已补齐，提交审核</Text>
        </View>
      )}
    </View>
  );
}

export default function ClaimDetailPage() {
  const id = useRouter().params.id ?? '';
  const claim = useRemote(() => api.claim(id), [id]);
  return (
    <LoginGate>
      <RemoteView remote={claim}>{(c) => <ClaimDetail claim={c} reload={claim.reload} />}</RemoteView>
    </LoginGate>
  );
}
