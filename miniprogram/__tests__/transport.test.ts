import Taro from '@tarojs/taro';
import { NetworkError, taroTransport } from '../src/services/transport';

const request = Taro.request as unknown as jest.Mock;

describe('taroTransport (Taro.request → wx.request / fetch)', () => {
  beforeEach(() => request.mockReset());

  it('passes method, URL, headers, body and timeout, and returns status and data', async () => {
    request.mockResolvedValue({ statusCode: 201, data: { token: 't' }, header: {} });
    const response = await taroTransport({ method: 'POST', url: 'http://x/api/mp/session', data: { code: 'c' }, headers: { A: '1' }, timeoutMs: 5000 });
    expect(response).toEqual({ status: 201, data: { token: 't' } });
    expect(request).toHaveBeenCalledWith(expect.objectContaining({
      url: 'http://x/api/mp/session', method: 'POST', data: { code: 'c' }, header: { A: '1' }, timeout: 5000, dataType: 'json',
    }));
  });

  it('resolves for HTTP errors (the client reads the error body)', async () => {
    request.mockResolvedValue({ statusCode: 404, data: { error: { code: 'x', message: 'y' } } });
    await expect(taroTransport({ method: 'GET', url: '/x', headers: {}, timeoutMs: 1 })).resolves.toMatchObject({ status: 404 });
  });

  it('rejects with a NetworkError carrying errMsg when nothing came back', async () => {
    request.mockRejectedValue({ errMsg: 'request:fail timeout' });
    const err = await taroTransport({ method: 'GET', url: '/x', headers: {}, timeoutMs: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).errMsg).toBe('request:fail timeout');
  });
});
