import { ApiClient } from '../src/services/api';
import { ChatController } from '../src/services/chat';
import { ChatImageLoader, isPrivateImageUrl } from '../src/services/chat-images';
import { ApiError } from '../src/services/errors';
import type { PickedImage } from '../src/services/files';
import { NetworkError, type DownloadRequest, type DownloadResponse, type HttpRequest, type HttpResponse } from '../src/services/transport';
import type { ChatMessage, PollChatResult, SendChatResult } from '../src/services/types';
import { queued, tokens } from './support/fakes';

const now = '2026-11-23T08:00:00.000Z';
const OWN_IMAGE = '/api/mp/chat/images/img_0123456789abcdef0123456789abcdef';
const photo: PickedImage = { path: 'wxfile://tmp/photo-1.jpg', fileName: 'photo-1.jpg', size: 1234 };

describe('ApiClient chat photos', () => {
  it('uploads a photo as JSON with the session token, a longer timeout and the client message id', async () => {
    const sent: SendChatResult = { messages: [], state: 'bot', duplicate: false };
    const transport = queued<HttpRequest, HttpResponse>({ status: 200, data: sent });
    const api = new ApiClient({ baseUrl: 'https://cs.example.com', transport: transport.fn, tokens: tokens('tok-1') });
    await expect(api.sendChatImage('iVBORw0KGgo=', 'img-00000001')).resolves.toEqual(sent);
    expect(transport.requests[0]).toMatchObject({
      method: 'POST',
      url: 'https://cs.example.com/api/mp/chat/images',
      data: { clientMessageId: 'img-00000001', contentBase64: 'iVBORw0KGgo=' },
      headers: { Authorization: 'Bearer tok-1', 'Content-Type': 'application/json' },
      timeoutMs: 60000,
    });
  });

  it('turns a refused photo into an ApiError with the server code and a Chinese message', async () => {
    const transport = queued<HttpRequest, HttpResponse>({
      status: 413, data: { error: { code: 'document_too_large', message: 'contentBase64: the file is 9000000 bytes; at most 765000' } },
    });
    const api = new ApiClient({ baseUrl: '', transport: transport.fn, tokens: tokens('tok-1') });
    const error = await api.sendChatImage('AAAA', 'img-00000002').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 413, code: 'document_too_large', message: '文件太大，请压缩后再上传' });
  });

  it('downloads a private photo with the session header, logging in again once on a 401', async () => {
    const download = queued<DownloadRequest, DownloadResponse>({ status: 401, tempFilePath: 'x' }, { status: 200, tempFilePath: 'wxfile://tmp/dl-1.png' });
    const session = tokens('old', 'new');
    const api = new ApiClient({ baseUrl: 'https://cs.example.com', transport: jest.fn(), download: download.fn, tokens: session });
    await expect(api.downloadChatImage(OWN_IMAGE)).resolves.toBe('wxfile://tmp/dl-1.png');
    expect(download.requests.map((r) => [r.url, r.headers.Authorization])).toEqual([
      [`https://cs.example.com${OWN_IMAGE}`, 'Bearer old'],
      [`https://cs.example.com${OWN_IMAGE}`, 'Bearer new'],
    ]);
    expect(session.invalidated).toEqual(['old']);
  });

  it('reports a missing photo and a dead network as ApiErrors', async () => {
    const download = queued<DownloadRequest, DownloadResponse>({ status: 404, tempFilePath: 'x' }, new NetworkError('downloadFile:fail timeout'));
    const api = new ApiClient({ baseUrl: '', transport: jest.fn(), download: download.fn, tokens: tokens('t') });
    await expect(api.downloadChatImage(OWN_IMAGE)).rejects.toMatchObject({ status: 404, code: 'image_not_found', message: '图片不存在或已删除' });
    await expect(api.downloadChatImage(OWN_IMAGE)).rejects.toMatchObject({ status: 0, code: 'timeout' });
  });
});

describe('ChatImageLoader', () => {
  it('shows outside pictures as they are and downloads our own photos once', async () => {
    const download = jest.fn(async () => 'wxfile://tmp/dl-2.png');
    const loader = new ChatImageLoader(download);
    expect(isPrivateImageUrl('https://cdn.example.com/a.png')).toBe(false);
    expect(loader.stateOf('https://cdn.example.com/a.png')).toEqual({ status: 'ready', src: 'https://cdn.example.com/a.png' });
    await loader.load('https://cdn.example.com/a.png');
    expect(download).not.toHaveBeenCalled();

    const loading = loader.load(OWN_IMAGE);
    expect(loader.stateOf(OWN_IMAGE)).toEqual({ status: 'loading' });
    await Promise.all([loading, loader.load(OWN_IMAGE)]);
    expect(loader.stateOf(OWN_IMAGE)).toEqual({ status: 'ready', src: 'wxfile://tmp/dl-2.png' });
    expect(download).toHaveBeenCalledTimes(1);
  });

  it('keeps a failure until the user taps retry', async () => {
    const download = jest.fn<Promise<string>, [string]>()
      .mockRejectedValueOnce(new ApiError(0, 'network', 'fail'))
      .mockResolvedValueOnce('wxfile://tmp/dl-3.png');
    const loader = new ChatImageLoader(download);
    await loader.load(OWN_IMAGE);
    expect(loader.stateOf(OWN_IMAGE)).toEqual({ status: 'failed', message: '网络连接失败，请检查网络后重试' });
    await loader.load(OWN_IMAGE);
    expect(download).toHaveBeenCalledTimes(1);
    await loader.retry(OWN_IMAGE);
    expect(loader.stateOf(OWN_IMAGE)).toEqual({ status: 'ready', src: 'wxfile://tmp/dl-3.png' });
  });

  it('forgets everything on reset, including a download still on its way', async () => {
    let finish!: (path: string) => void;
    const loader = new ChatImageLoader(() => new Promise((resolve) => { finish = resolve; }));
    const loading = loader.load(OWN_IMAGE);
    loader.reset();
    finish('wxfile://tmp/previous-customer.png');
    await loading;
    expect(loader.stateOf(OWN_IMAGE)).toBeUndefined();
  });
});

describe('ChatController photos', () => {
  function fakeApi() {
    return {
      sendChat: jest.fn<Promise<SendChatResult>, [string, string]>(),
      pollChat: jest.fn<Promise<PollChatResult>, [string | null | undefined]>(),
      sendChatImage: jest.fn<Promise<SendChatResult>, [string, string]>(),
    };
  }
  const ownImage: ChatMessage = { id: 'miniprogram:c-1', author: 'user', kind: 'image', text: '', imageUrl: OWN_IMAGE, createdAt: now };
  const ack: ChatMessage = { id: 'miniprogram:c-1#0', author: 'bot', kind: 'text', text: '收到您的图片。', createdAt: now };

  it('shows the photo from the phone at once, uploads it, and keeps showing the local file', async () => {
    const api = fakeApi();
    let answer!: (r: SendChatResult) => void;
    api.sendChatImage.mockReturnValue(new Promise((r) => { answer = r; }));
    const readImage = jest.fn(async () => 'BASE64');
    const images = new ChatImageLoader(jest.fn());
    const chat = new ChatController(api, { newId: () => 'client-img-1', readImage, images });

    const sending = chat.sendImage(photo);
    expect(chat.store.get().messages).toEqual([
      expect.objectContaining({ id: 'local:client-img-1', kind: 'image', imageUrl: photo.path, localStatus: 'sending' }),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(readImage).toHaveBeenCalledWith(photo);
    expect(api.sendChatImage).toHaveBeenCalledWith('BASE64', 'client-img-1');
    answer({ messages: [ownImage, ack], state: 'bot', duplicate: false });
    await sending;

    expect(chat.store.get().messages.map((m) => [m.id, m.localStatus])).toEqual([[ownImage.id, undefined], [ack.id, undefined]]);
    expect(images.stateOf(OWN_IMAGE)).toEqual({ status: 'ready', src: photo.path });
  });

  it('marks a failed upload for a resend with the same client message id, reading the photo again', async () => {
    const api = fakeApi();
    api.sendChatImage.mockRejectedValueOnce(new ApiError(0, 'timeout', 'request:fail timeout'));
    api.sendChatImage.mockResolvedValueOnce({ messages: [ownImage, ack], state: 'bot', duplicate: true });
    const readImage = jest.fn(async () => 'BASE64');
    const chat = new ChatController(api, { newId: () => 'client-img-2', readImage });
    await chat.sendImage(photo);
    expect(chat.store.get().messages).toEqual([
      expect.objectContaining({ localStatus: 'failed', localError: '请求超时，请稍后重试', clientMessageId: 'client-img-2' }),
    ]);
    await chat.retry('client-img-2');
    expect(api.sendChatImage).toHaveBeenLastCalledWith('BASE64', 'client-img-2');
    expect(readImage).toHaveBeenCalledTimes(2);
    expect(chat.store.get().messages.map((m) => m.id)).toEqual([ownImage.id, ack.id]);
  });

  it.each([
    [new ApiError(413, 'document_too_large', 'too large'), '图片太大，请换一张较小的图片'],
    [new ApiError(413, 'payload_too_large', 'too large'), '图片太大，请换一张较小的图片'],
    [new ApiError(415, 'unsupported_document_type', 'not a photo'), '只能发送 JPG、PNG 或 WebP 格式的图片'],
  ])('does not offer a resend of a refused photo (%s), says why, and lets the user remove it', async (error, shown) => {
    const api = fakeApi();
    api.sendChatImage.mockRejectedValue(error);
    const chat = new ChatController(api, { newId: () => 'client-img-3', readImage: async () => 'BASE64' });
    await chat.sendImage(photo);
    expect(chat.store.get().messages).toEqual([expect.objectContaining({ localStatus: 'rejected', localError: shown })]);
    await chat.retry('client-img-3');
    expect(api.sendChatImage).toHaveBeenCalledTimes(1);
    chat.dismiss('client-img-3');
    expect(chat.store.get().messages).toEqual([]);
  });

  it('forgets downloaded photos on logout', () => {
    const images = new ChatImageLoader(jest.fn());
    images.remember(OWN_IMAGE, photo.path);
    const chat = new ChatController(fakeApi(), { images });
    chat.reset();
    expect(images.stateOf(OWN_IMAGE)).toBeUndefined();
  });
});
