import { api } from './app';
import { readAsBase64 } from './files';
import type { PendingPhoto } from '../components/PhotoPicker';

/** Upload picked photos to a claim one by one; returns the ones that failed (the rest are on the claim). */
export async function uploadPhotos(claimNumber: string, photos: PendingPhoto[], onProgress?: (done: number) => void): Promise<PendingPhoto[]> {
  const failed: PendingPhoto[] = [];
  for (let i = 0; i < photos.length; i++) {
    const photo = photos[i];
    try {
      const contentBase64 = await readAsBase64(photo);
      await api.uploadClaimDocument(claimNumber, { kind: photo.kind, fileName: photo.fileName.slice(-120), contentBase64 });
    } catch {
      failed.push(photo);
    }
    onProgress?.(i + 1);
  }
  return failed;
}
