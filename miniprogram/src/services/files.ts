import Taro from '@tarojs/taro';

/** A picked photo: where it is now, and a name for the server. */
export interface PickedImage {
  path: string;
  fileName: string;
  size: number;
  /** h5 only: the File the browser gave us. */
  file?: Blob;
}

export async function pickImages(count: number): Promise<PickedImage[]> {
  const result = await Taro.chooseImage({ count, sizeType: ['compressed'], sourceType: ['album', 'camera'] });
  return result.tempFiles.map((file, i) => {
    const original = (file as unknown as { originalFileObj?: File }).originalFileObj;
    const path = file.path ?? result.tempFilePaths[i];
    return {
      path,
      fileName: original?.name || path.split('/').pop() || `photo-${i + 1}.jpg`,
      size: file.size,
      file: original,
    };
  });
}

function blobToBase64(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

/** The photo's bytes as base64 (the claims API takes JSON `{kind, fileName, contentBase64}`). */
export async function readAsBase64(image: PickedImage): Promise<string> {
  if (process.env.TARO_ENV === 'h5') {
    const blob = image.file ?? (await (await fetch(image.path)).blob());
    return blobToBase64(blob);
  }
  return String(Taro.getFileSystemManager().readFileSync(image.path, 'base64'));
}
