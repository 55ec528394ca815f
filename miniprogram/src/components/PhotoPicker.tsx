import { Image, Text, View } from '@tarojs/components';
import Taro from '@tarojs/taro';
import { messageOf } from '../services/errors';
import { pickImages, type PickedImage } from '../services/files';
import { DOCUMENT_KIND_LABELS } from '../services/format';
import type { DocumentKind } from '../services/types';
import { ChipGroup } from './Field';

export interface PendingPhoto extends PickedImage {
  kind: DocumentKind;
}

const KINDS: DocumentKind[] = ['id_card', 'diagnosis', 'medical_record', 'invoice', 'expense_list', 'accident_proof', 'bank_card', 'other'];
export const MAX_PHOTOS = 9;

/** Choose claim photos (album or camera), each tagged with what it shows; uploaded by the page. */
export function PhotoPicker({
  photos,
  onChange,
  kind,
  onKindChange,
}: {
  photos: PendingPhoto[];
  onChange(photos: PendingPhoto[]): void;
  kind: DocumentKind;
  onKindChange(kind: DocumentKind): void;
}) {
  const add = async () => {
    try {
      const picked = await pickImages(MAX_PHOTOS - photos.length);
      onChange([...photos, ...picked.map((p) => ({ ...p, kind }))]);
    } catch (err) {
      const errMsg = (err as { errMsg?: string })?.errMsg ?? '';
      if (!/cancel/.test(errMsg)) void Taro.showToast({ title: messageOf(err), icon: 'none' });
    }
  };
  return (
    <View className='photo-picker'>
      <Text className='muted small'>材料类型（先选类型，再添加照片）</Text>
      <ChipGroup name='doc-kind' value={kind} onChange={onKindChange} options={KINDS.map((k) => ({ value: k, label: DOCUMENT_KIND_LABELS[k] }))} />
      <View className='photos'>
        {photos.map((photo, i) => (
          <View key={photo.path} className='photo'>
            <Image className='photo__img' src={photo.path} mode='aspectFill' />
            <Text className='photo__kind'>{DOCUMENT_KIND_LABELS[photo.kind]}</Text>
            <View className='photo__remove' onClick={() => onChange(photos.filter((_, j) => j !== i))}>
              <Text>×</Text>
            </View>
          </View>
        ))}
        {photos.length < MAX_PHOTOS && (
          <View className='photo photo--add' onClick={() => void add()}>
            <Text>＋</Text>
          </View>
        )}
      </View>
    </View>
  );
}
