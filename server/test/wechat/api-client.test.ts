import { AccessTokenModel } from '../../src/wechat/access-token.model';
import {
  WeChatApiError,
  WeChatAppApi,
  WeChatHttpClient,
  WeChatTransportError,
  customServiceMessageBody,
  isCustomServiceQuotaExhausted,
  isCustomServiceWindowClosed,
  parseJsonKeepingIds,
} from '../../src/wechat/api-client';
import { FAKE_APP, FAKE_MINI_PROGRAM, FakeWeChatApi } from '../fakes/wechat-api';
import { messages } from '../fixtures/wechat';
import { useTestDatabase } from '../support/database';

useTestDatabase(__filename);

let fake: FakeWeChatApi;
beforeEach(async () => {
  await AccessTokenModel.deleteMany({}).exec(); // tokens of the previous test's fake are meaningless now
  fake = await FakeWeChatApi.start();
});
afterEach(async () => {
  await fake.stop();
});

const noSleep = async () => {};
const http = (options: { timeoutMs?: number } = {}) => new WeChatHttpClient({ baseUrl: fake.baseUrl, sleep: noSleep, ...options });
const oaApi = () => new WeChatAppApi({ http: http(), appId: FAKE_APP.appId, appSecret: FAKE_APP.secret });
const mpApi = () => new WeChatAppApi({ http: http(), appId: FAKE_MINI_PROGRAM.appId, appSecret: FAKE_MINI_PROGRAM.secret });
const openid = 'oyORnuP8q7ou2gfYjqLzSIWZf0rs';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('parseJsonKeepingIds (§0: 64-bit ids)', () => {
  it('keeps a bare msgid exact as a string, leaves other numbers alone', () => {
    const parsed = parseJsonKeepingIds(messages.oaApi.templateSendResponse) as Record<string, unknown>;
    expect(parsed).toEqual({ errcode: 0, errmsg: 'ok', msgid: '3717005636572528642' });
    expect(JSON.parse(messages.oaApi.templateSendResponse).msgid).not.toBe(3717005636572528642n.toString());
  });

  it('does not touch "msgid" inside a string value', () => {
    const text = '{"errmsg":"bad \\"msgid\\":123 here","msgid":12,"n":1}';
    expect(parseJsonKeepingIds(text)).toEqual({ errmsg: 'bad "msgid":123 here', msgid: '12', n: 1 });
  });
});

describe('WeChatHttpClient transport', () => {
  it('treats absent errcode or 0 as success, anything else as WeChatApiError with the errcode', async () => {
    fake.failNext({ path: '/cgi-bin/stable_token', errcode: 40164, errmsg: 'invalid ip 1.2.3.4, not in whitelist' });
    const error = await rejection(oaApi().fetchStableAccessToken());
    expect(error).toBeInstanceOf(WeChatApiError);
    expect(error).toMatchObject({ errcode: 40164, endpoint: '/cgi-bin/stable_token' });
    expect(await oaApi().fetchStableAccessToken()).toMatchObject({ accessToken: expect.stringMatching(/^tok-/) });
  });

  it('times out with a typed error (AbortSignal.timeout)', async () => {
    fake.delayNext({ path: '/cgi-bin/stable_token', ms: 400 });
    const api = new WeChatAppApi({ http: http({ timeoutMs: 100 }), appId: FAKE_APP.appId, appSecret: FAKE_APP.secret });
    const started = Date.now();
    const error = await rejection(api.fetchStableAccessToken());
    expect(error).toBeInstanceOf(WeChatTransportError);
    expect(error).toMatchObject({ code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(350);
  });

  it('reports a refused connection as network, a non-2xx as http_status, non-JSON as invalid_response', async () => {
    const closed = new WeChatHttpClient({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 2000 });
    expect(await rejection(closed.get('/x', {}))).toMatchObject({ code: 'network' });
    expect(await rejection(http().get('/no/such/endpoint', {}))).toMatchObject({ code: 'http_status', status: 404 });
    const htmlFetch: typeof fetch = async () => new Response('<html>gateway</html>', { status: 200 });
    const html = new WeChatHttpClient({ baseUrl: 'http://wechat.invalid', fetch: htmlFetch });
    expect(await rejection(html.get('/x', {}))).toMatchObject({ code: 'invalid_response' });
    const array = new WeChatHttpClient({ baseUrl: 'http://wechat.invalid', fetch: async () => new Response('[1]') });
    expect(await rejection(array.get('/x', {}))).toMatchObject({ code: 'invalid_response' });
  });

  it('never puts the secret or the token into an error message', async () => {
    fake.failNext({ path: '/cgi-bin/token', errcode: 40125, errmsg: 'invalid appsecret' });
    const error = (await rejection(oaApi().fetchAccessToken())) as Error;
    expect(error.message).not.toContain(FAKE_APP.secret);
    expect(error.message).toBe('WeChat API /cgi-bin/token failed with errcode 40125');
  });

  it('retries errcode -1 (busy) on idempotent calls, at most 3 tries', async () => {
    fake.failNext({ path: '/cgi-bin/stable_token', errcode: -1, times: 2 });
    expect(await oaApi().fetchStableAccessToken()).toMatchObject({ expiresInSeconds: 7200 });
    fake.failNext({ path: '/cgi-bin/stable_token', errcode: -1, times: 3 });
    expect(await rejection(oaApi().fetchStableAccessToken())).toMatchObject({ errcode: -1 });
    expect(fake.calls.filter((call) => call.path === '/cgi-bin/stable_token')).toHaveLength(6);
  });

  it('backs off between busy retries', async () => {
    const waits: number[] = [];
    const client = new WeChatHttpClient({ baseUrl: fake.baseUrl, busyBackoffMs: 50, sleep: async (ms) => void waits.push(ms) });
    fake.failNext({ path: '/cgi-bin/token', errcode: -1, times: 2 });
    const api = new WeChatAppApi({ http: client, appId: FAKE_APP.appId, appSecret: FAKE_APP.secret });
    await api.fetchAccessToken();
    expect(waits).toEqual([50, 100]);
  });

  it('does not retry a busy send: it may have been delivered', async () => {
    fake.userMessaged(openid);
    await oaApi().accessTokens.getAccessToken();
    fake.failNext({ path: '/cgi-bin/message/custom/send', errcode: -1 });
    expect(await rejection(oaApi().sendCustomMessage({ toUser: openid, type: 'text', content: 'hi' }))).toMatchObject({ errcode: -1 });
    expect(fake.calls.filter((call) => call.path === '/cgi-bin/message/custom/send')).toHaveLength(1);
  });
});

describe('access tokens through the API (§3.1)', () => {
  it('classic /cgi-bin/token returns a token; every call rotates it', async () => {
    const first = await oaApi().fetchAccessToken();
    const second = await oaApi().fetchAccessToken();
    expect(first.accessToken).not.toBe(second.accessToken);
    expect(fake.tokenIssues.classic).toBe(2);
  });

  it('stable token: repeated non-forced calls return the same token; force_refresh issues a new one', async () => {
    const api = oaApi();
    const a = await api.fetchStableAccessToken();
    const b = await api.fetchStableAccessToken();
    const c = await api.fetchStableAccessToken(true);
    expect(b.accessToken).toBe(a.accessToken);
    expect(c.accessToken).not.toBe(a.accessToken);
  });

  it('config errors come back as typed errcodes', async () => {
    const badSecret = new WeChatAppApi({ http: http(), appId: FAKE_APP.appId, appSecret: 'wrong' });
    expect(await rejection(badSecret.fetchStableAccessToken())).toMatchObject({ errcode: 40125 });
    const badApp = new WeChatAppApi({ http: http(), appId: 'wx0000000000000000', appSecret: 'x' });
    expect(await rejection(badApp.fetchAccessToken())).toMatchObject({ errcode: 40013 });
  });

  it('many sends share one token fetch (cached in MongoDB)', async () => {
    fake.userMessaged(openid);
    const api = oaApi();
    await Promise.all(Array.from({ length: 5 }, (_, i) => api.sendCustomMessage({ toUser: openid, type: 'text', content: `m${i}` })));
    expect(fake.tokenIssues.stable).toBe(1);
    expect(await AccessTokenModel.findById(FAKE_APP.appId).lean().exec()).toMatchObject({ accessToken: 'tok-1' });
  });

  it('another server instance (new API object) reuses the stored token', async () => {
    fake.userMessaged(openid);
    await oaApi().sendCustomMessage({ toUser: openid, type: 'text', content: 'a' });
    await oaApi().sendCustomMessage({ toUser: openid, type: 'text', content: 'b' });
    expect(fake.tokenIssues.stable).toBe(1);
  });

  it('40001 on a send: refresh once (forced, since the stable token did not change) and retry once', async () => {
    fake.userMessaged(openid);
    const api = oaApi();
    await api.accessTokens.getAccessToken();
    fake.failNext({ path: '/cgi-bin/message/custom/send', toUser: openid, errcode: 40001 });
    await api.sendCustomMessage({ toUser: openid, type: 'text', content: 'after refresh' });
    expect(fake.sent.custom).toHaveLength(1);
    expect(fake.tokenIssues).toMatchObject({ stable: 2, stableForced: 1 });
  });

  it('a token revoked on the platform (42001) is replaced and the call succeeds', async () => {
    fake.userMessaged(openid);
    const api = oaApi();
    await api.sendCustomMessage({ toUser: openid, type: 'text', content: '1' });
    fake.invalidateAccessTokens(42001);
    await api.sendCustomMessage({ toUser: openid, type: 'text', content: '2' });
    expect(fake.sent.custom.map((m) => m.body.text)).toEqual([{ content: '1' }, { content: '2' }]);
    expect(fake.tokenIssues.stableForced).toBe(0); // the platform itself no longer offers the revoked token
  });

  it('a second token error in a row reaches the caller (no loop)', async () => {
    fake.userMessaged(openid);
    const api = oaApi();
    fake.failNext({ path: '/cgi-bin/message/custom/send', errcode: 40001, times: 2 });
    expect(await rejection(api.sendCustomMessage({ toUser: openid, type: 'text', content: 'x' }))).toMatchObject({ errcode: 40001 });
    expect(fake.calls.filter((call) => call.path === '/cgi-bin/message/custom/send')).toHaveLength(2);
  });
});

describe('customer-service messages (§3.2)', () => {
  it('builds the exact wire shapes of the spec', () => {
    expect(customServiceMessageBody({ toUser: 'OPENID', type: 'text', content: 'Hello World' })).toEqual(messages.oaApi.customText);
    expect(customServiceMessageBody({ toUser: 'OPENID', type: 'image', mediaId: 'MEDIA_ID' })).toEqual(messages.oaApi.customImage);
    expect(customServiceMessageBody({ toUser: 'OPENID', type: 'text', content: 'x', kfAccount: 'test1@kftest' }).customservice).toEqual(
      messages.oaApi.customServiceAccount,
    );
    expect(
      customServiceMessageBody({ toUser: 'OPENID', type: 'news', article: { title: 'T', description: 'D', url: 'https://u', picUrl: 'https://p' } }),
    ).toEqual({ touser: 'OPENID', msgtype: 'news', news: { articles: [{ title: 'T', description: 'D', url: 'https://u', picurl: 'https://p' }] } });
  });

  it('sends text, image and news, recorded by the fake', async () => {
    fake.userMessaged(openid);
    const api = oaApi();
    await api.sendCustomMessage({ toUser: openid, type: 'text', content: '您好' });
    await api.sendCustomMessage({ toUser: openid, type: 'image', mediaId: 'MEDIA_ID' });
    await api.sendCustomMessage({ toUser: openid, type: 'news', article: { title: 't', description: 'd', url: 'https://u', picUrl: 'https://p' } });
    expect(fake.sent.custom.map((m) => m.msgtype)).toEqual(['text', 'image', 'news']);
    expect(fake.sent.custom[0]).toMatchObject({ appId: FAKE_APP.appId, touser: openid, body: { text: { content: '您好' } } });
  });

  it('45015 when the user has not written within 48 h', async () => {
    const api = oaApi();
    const never = await rejection(api.sendCustomMessage({ toUser: openid, type: 'text', content: 'x' }));
    expect(isCustomServiceWindowClosed(never)).toBe(true);
    fake.userMessaged(openid);
    fake.advanceClock(48 * 3_600_000 + 1000);
    const late = await rejection(api.sendCustomMessage({ toUser: openid, type: 'text', content: 'x' }));
    expect(late).toMatchObject({ errcode: 45015 });
  });

  it('45047 after 5 messages; the user writing again resets the quota', async () => {
    const api = oaApi();
    fake.userMessaged(openid);
    for (let i = 0; i < 5; i += 1) await api.sendCustomMessage({ toUser: openid, type: 'text', content: `${i}` });
    const sixth = await rejection(api.sendCustomMessage({ toUser: openid, type: 'text', content: '6' }));
    expect(isCustomServiceQuotaExhausted(sixth)).toBe(true);
    expect(isCustomServiceWindowClosed(sixth)).toBe(false);
    fake.userMessaged(openid);
    await api.sendCustomMessage({ toUser: openid, type: 'text', content: 'again' });
    expect(fake.sent.custom).toHaveLength(6);
  });

  it('injected failures can target one user', async () => {
    const api = oaApi();
    fake.userMessaged('user-a');
    fake.userMessaged('user-b');
    fake.failNext({ path: '/cgi-bin/message/custom/send', toUser: 'user-b', errcode: 45047 });
    await api.sendCustomMessage({ toUser: 'user-a', type: 'text', content: 'a' });
    expect(await rejection(api.sendCustomMessage({ toUser: 'user-b', type: 'text', content: 'b' }))).toMatchObject({ errcode: 45047 });
    await api.sendCustomMessage({ toUser: 'user-b', type: 'text', content: 'b2' });
    expect(fake.sent.custom.map((m) => m.touser)).toEqual(['user-a', 'user-b']);
  });

  it('43004 after the user unfollowed', async () => {
    fake.userMessaged(openid);
    fake.userUnsubscribed(openid);
    expect(await rejection(oaApi().sendCustomMessage({ toUser: openid, type: 'text', content: 'x' }))).toMatchObject({ errcode: 43004 });
  });

  it('typing indicator', async () => {
    await oaApi().setTyping(openid, true);
    await oaApi().setTyping(openid, false);
    expect(fake.sent.typing.map((r) => r.body)).toEqual([
      { touser: openid, command: 'Typing' },
      { touser: openid, command: 'CancelTyping' },
    ]);
  });

  it('uploads temporary media for an image message', async () => {
    const { mediaId, createdAt } = await oaApi().uploadTemporaryMedia('image', {
      filename: 'card.png',
      contentType: 'image/png',
      bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47]),
    });
    expect(mediaId).toBe('media-1');
    expect(createdAt).toBeGreaterThan(0);
    expect(fake.sent.media[0]).toMatchObject({ appId: FAKE_APP.appId, type: 'image' });
  });
});

describe('menu, template and subscription messages (§3.3, §3.4, §4.3)', () => {
  it('creates a menu', async () => {
    const menu = {
      button: [
        { name: '理赔', type: 'click' as const, key: 'CLAIM' },
        { name: '更多', sub_button: [{ name: '官网', type: 'view' as const, url: 'https://example.com' }] },
      ],
    };
    await oaApi().createMenu(menu);
    expect(fake.sent.menus[0].body).toEqual(menu);
  });

  it('a menu the platform refuses is a typed error', async () => {
    const tooMany = { button: Array.from({ length: 4 }, (_, i) => ({ name: `b${i}`, type: 'click' as const, key: `K${i}` })) };
    expect(await rejection(oaApi().createMenu(tooMany))).toMatchObject({ errcode: 40016 });
  });

  it('template send: wire shape of §3.3 and a 64-bit msgid kept exact', async () => {
    const result = await oaApi().sendTemplateMessage({
      toUser: 'OPENID',
      templateId: 'TID',
      url: 'https://…',
      miniProgram: { appId: 'wx…', pagePath: 'pages/x?id=1' },
      clientMsgId: 'dedupe-id',
      data: { thing1: '…', time2: '2024年5月1日 10:00' },
    });
    expect(fake.sent.templates[0].body).toEqual(messages.oaApi.templateSend);
    expect(result.msgId).toBe('3717005636572528643');
  });

  it('OA subscription notice (bizsend) shape of §3.4', async () => {
    await oaApi().sendSubscribeNotice({
      toUser: 'OPENID',
      templateId: 'TID',
      page: 'https://…',
      miniProgram: { appId: 'wx…', pagePath: '…' },
      data: { thing1: '…' },
    });
    expect(fake.sent.bizsend[0].body).toEqual(messages.oaApi.bizsend);
  });

  it('mini-program subscription message shape of §4.3; 43101 when not accepted', async () => {
    await mpApi().sendMiniProgramSubscribeMessage({
      toUser: 'MP_OPENID',
      templateId: 'TID',
      page: 'pages/policy/detail?id=1',
      miniProgramState: 'formal',
      lang: 'zh_CN',
      data: { thing1: '车险续保提醒', time2: '2024-05-01 10:00', amount3: '¥1,000.00' },
    });
    expect(fake.sent.subscribe[0]).toMatchObject({ appId: FAKE_MINI_PROGRAM.appId, body: messages.oaApi.miniProgramSubscribeSend });
    fake.failNext({ path: '/cgi-bin/message/subscribe/send', errcode: 43101 });
    expect(await rejection(mpApi().sendMiniProgramSubscribeMessage({ toUser: 'MP_OPENID', templateId: 'TID', data: {} }))).toMatchObject({
      errcode: 43101,
    });
  });
});

describe('mini-program code2Session (§4.1)', () => {
  const fixture = messages.oaApi.code2session;

  it('maps the wechatpy fixture to camelCase', async () => {
    fake.addLoginCode('code-1', fixture);
    expect(await mpApi().code2Session('code-1')).toEqual({ openId: fixture.openid, sessionKey: fixture.session_key, unionId: fixture.unionid });
  });

  it('unionid is optional', async () => {
    fake.addLoginCode('code-2', { openid: 'o-no-union', session_key: 'k' });
    expect(await mpApi().code2Session('code-2')).toEqual({ openId: 'o-no-union', sessionKey: 'k', unionId: undefined });
  });

  it('a code works once; then 40029', async () => {
    fake.addLoginCode('code-3', fixture);
    await mpApi().code2Session('code-3');
    expect(await rejection(mpApi().code2Session('code-3'))).toMatchObject({ errcode: 40029 });
    expect(await rejection(mpApi().code2Session('never-issued'))).toMatchObject({ errcode: 40029 });
  });

  it('a wrong secret is 40125', async () => {
    fake.addLoginCode('code-4', fixture);
    const api = new WeChatAppApi({ http: http(), appId: FAKE_MINI_PROGRAM.appId, appSecret: 'wrong' });
    expect(await rejection(api.code2Session('code-4'))).toMatchObject({ errcode: 40125 });
  });
});
