import { ApiClient } from '../src/services/api';
import { ApiError } from '../src/services/errors';
import { NetworkError, type HttpRequest, type HttpResponse } from '../src/services/transport';
import { queued, tokens } from './support/fakes';

/** A transport answering from a queue. */
function fakeTransport(...responses: Array<HttpResponse | Error>) {
  const { fn, requests } = queued<HttpRequest, HttpResponse>(...responses);
  return { transport: fn, requests };
}

describe('ApiClient', () => {
  it('calls the configured base URL with method, JSON body and no token for public routes', async () => {
    const { transport, requests } = fakeTransport({ status: 200, data: { items: [] } });
    const api = new ApiClient({ baseUrl: 'https://cs.example.com/', transport });
    await expect(api.quote({ productId: 'p', planId: 'a', termId: 't', insured: { birthDate: '1990-01-01' } })).resolves.toEqual({ items: [] });
    expect(requests[0]).toMatchObject({
      method: 'POST',
      url: 'https://cs.example.com/api/mp/quotes',
      data: { productId: 'p', planId: 'a', termId: 't', insured: { birthDate: '1990-01-01' } },
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      timeoutMs: 15000,
    });
    expect(requests[0].headers.Authorization).toBeUndefined();
  });

  it('uses relative URLs with an empty base (h5 served next to the API)', async () => {
    const { transport, requests } = fakeTransport({ status: 200, data: { items: [] } });
    await new ApiClient({ baseUrl: '', transport }).products();
    expect(requests[0].url).toBe('/api/mp/products');
  });

  it('sends the bearer token on user routes and encodes path segments and queries', async () => {
    const { transport, requests } = fakeTransport(
      { status: 200, data: { messages: [], state: 'bot', cursor: null } },
      { status: 200, data: {} },
    );
    const api = new ApiClient({ baseUrl: 'http://x', transport, tokens: tokens('tok-1') });
    await api.pollChat('2026-11-23T08:00:00.000Z');
    await api.claim('AXC 1/2');
    expect(requests[0]).toMatchObject({ method: 'GET', url: 'http://x/api/mp/chat/messages?after=2026-11-23T08%3A00%3A00.000Z' });
    expect(requests[0].headers.Authorization).toBe('Bearer tok-1');
    expect(requests[1].url).toBe('http://x/api/mp/claims/AXC%201%2F2');
  });

  it('leaves out an empty cursor', async () => {
    const { transport, requests } = fakeTransport({ status: 200, data: { messages: [], state: 'bot', cursor: null } });
    await new ApiClient({ baseUrl: 'http://x', transport, tokens: tokens('t') }).pollChat(null);
    expect(requests[0].url).toBe('http://x/api/mp/chat/messages');
  });

  it('parses a JSON string body (h5 responseType text)', async () => {
    const { transport } = fakeTransport({ status: 200, data: '{"items":[{"id":"accident"}]}' });
    await expect(new ApiClient({ baseUrl: '', transport }).products()).resolves.toEqual({ items: [{ id: 'accident' }] });
  });

  it('turns the server error body into an ApiError with the code, fields and a Chinese message', async () => {
    const { transport } = fakeTransport({
      status: 400,
      data: { error: { code: 'invalid_input', message: 'policyholder.idCard: check character does not match', details: { fields: ['policyholder.idCard'] } } },
    });
    const api = new ApiClient({ baseUrl: '', transport, tokens: tokens('t') });
    const err = await api.createOrder({} as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, code: 'invalid_input', fields: ['policyholder.idCard'], message: '填写的信息有误，请检查后重试' });
  });

  it('shows the server\'s own Chinese message without the field prefix', async () => {
    const { transport } = fakeTransport({
      status: 422,
      data: { error: { code: 'not_covered', message: 'incident.occurredOn: 事故日期不在保单保障期间内（2026-11-24 至 2027-11-23）', details: { fields: ['incident.occurredOn'] } } },
    });
    const err = await new ApiClient({ baseUrl: '', transport, tokens: tokens('t') }).reportClaim({} as never).catch((e: unknown) => e);
    expect((err as ApiError).message).toBe('事故日期不在保单保障期间内（2026-11-24 至 2027-11-23）');
  });

  it('reports no answer as a network error (status 0), and timeouts as such', async () => {
    const { transport } = fakeTransport(new NetworkError('request:fail timeout'), new NetworkError('request:fail'));
    const api = new ApiClient({ baseUrl: '', transport });
    await expect(api.products()).rejects.toMatchObject({ status: 0, code: 'timeout', message: '请求超时，请稍后重试' });
    await expect(api.products()).rejects.toMatchObject({ status: 0, code: 'network', message: '网络连接失败，请检查网络后重试' });
  });

  it('on a 401 forgets the token, logs in again and retries once', async () => {
    const { transport, requests } = fakeTransport(
      { status: 401, data: { error: { code: 'unauthorized', message: 'the session has ended' } } },
      { status: 200, data: { items: [] } },
    );
    const source = tokens('old', 'new');
    await expect(new ApiClient({ baseUrl: '', transport, tokens: source }).policies()).resolves.toEqual({ items: [] });
    expect(source.invalidated).toEqual(['old']);
    expect(requests.map((r) => r.headers.Authorization)).toEqual(['Bearer old', 'Bearer new']);
  });

  it('does not loop when the new token is refused too', async () => {
    const unauthorized = { status: 401, data: { error: { code: 'unauthorized', message: 'no' } } };
    const { transport, requests } = fakeTransport(unauthorized, unauthorized);
    await expect(new ApiClient({ baseUrl: '', transport, tokens: tokens('a', 'b') }).policies()).rejects.toMatchObject({ status: 401 });
    expect(requests).toHaveLength(2);
  });

  it('names non-JSON failures by status', async () => {
    const { transport } = fakeTransport({ status: 502, data: '<html>Bad Gateway</html>' });
    await expect(new ApiClient({ baseUrl: '', transport }).products()).rejects.toMatchObject({ status: 502, code: 'http_502', message: '服务器开小差了，请稍后重试' });
  });
});
