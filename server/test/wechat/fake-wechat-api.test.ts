import { FAKE_APP, FAKE_MINI_PROGRAM, FakeWeChatApi } from '../fakes/wechat-api';

/** The fake's own contract (§8), for the tests that will lean on it. */

let fake: FakeWeChatApi;
beforeEach(async () => {
  fake = await FakeWeChatApi.start({ startTime: Date.UTC(2024, 4, 1) });
});
afterEach(async () => {
  await fake.stop();
});

const getJson = async (path: string) => (await fetch(fake.baseUrl + path, { signal: AbortSignal.timeout(5_000) })).json() as Promise<Record<string, unknown>>;
const postJson = async (path: string, body: unknown) =>
  (await fetch(fake.baseUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  }).then((response) => response.json())) as Record<string, unknown>;

async function classicToken(): Promise<string> {
  const body = await getJson(`/cgi-bin/token?grant_type=client_credential&appid=${FAKE_APP.appId}&secret=${FAKE_APP.secret}`);
  return String(body.access_token);
}

it('listens on 127.0.0.1 only', () => {
  expect(fake.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
});

it('classic tokens rotate: the previous one works for 5 more minutes, then 42001', async () => {
  const first = await classicToken();
  const second = await classicToken();
  expect(second).not.toBe(first);
  expect(await postJson(`/cgi-bin/message/custom/typing?access_token=${first}`, { touser: 'o', command: 'Typing' })).toMatchObject({ errcode: 0 });
  fake.advanceClock(5 * 60_000 + 1);
  expect(await postJson(`/cgi-bin/message/custom/typing?access_token=${first}`, { touser: 'o', command: 'Typing' })).toMatchObject({ errcode: 42001 });
  expect(await postJson(`/cgi-bin/message/custom/typing?access_token=${second}`, { touser: 'o', command: 'Typing' })).toMatchObject({ errcode: 0 });
});

it('tokens expire after their lifetime', async () => {
  const token = await classicToken();
  fake.advanceClock(7200 * 1000);
  expect(await postJson(`/cgi-bin/message/custom/typing?access_token=${token}`, { touser: 'o', command: 'Typing' })).toMatchObject({ errcode: 42001 });
});

it('a missing token is 41001, an unknown one 40001, an OA token on WeCom 40014', async () => {
  expect(await postJson('/cgi-bin/message/custom/typing', { touser: 'o', command: 'Typing' })).toMatchObject({ errcode: 41001 });
  expect(await postJson('/cgi-bin/message/custom/typing?access_token=nope', { touser: 'o', command: 'Typing' })).toMatchObject({ errcode: 40001 });
  const token = await classicToken();
  expect(await postJson(`/cgi-bin/message/send?access_token=${token}`, { touser: 'zhangsan', msgtype: 'text', agentid: 1000002, text: { content: 'x' } })).toMatchObject({
    errcode: 40014,
  });
});

it('POST /__fake/user-message opens the 48 h window over HTTP', async () => {
  const token = await classicToken();
  const send = () => postJson(`/cgi-bin/message/custom/send?access_token=${token}`, { touser: 'o1', msgtype: 'text', text: { content: 'hi' } });
  expect(await send()).toMatchObject({ errcode: 45015 });
  expect(await postJson('/__fake/user-message', { openid: 'o1' })).toEqual({ ok: true });
  expect(await send()).toMatchObject({ errcode: 0 });
});

it('the window can be switched off for tests that do not care', async () => {
  const relaxed = await FakeWeChatApi.start({ enforceCustomServiceWindow: false });
  try {
    const body = (await (
      await fetch(`${relaxed.baseUrl}/cgi-bin/token?grant_type=client_credential&appid=${FAKE_APP.appId}&secret=${FAKE_APP.secret}`)
    ).json()) as { access_token: string };
    const response = await fetch(`${relaxed.baseUrl}/cgi-bin/message/custom/send?access_token=${body.access_token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ touser: 'anyone', msgtype: 'text', text: { content: 'x' } }),
    });
    expect(await response.json()).toMatchObject({ errcode: 0 });
  } finally {
    await relaxed.stop();
  }
});

it('rejects malformed custom messages with 47001', async () => {
  fake.userMessaged('o');
  const token = await classicToken();
  expect(await postJson(`/cgi-bin/message/custom/send?access_token=${token}`, { touser: 'o', msgtype: 'text', text: {} })).toMatchObject({ errcode: 47001 });
  const raw = await fetch(`${fake.baseUrl}/cgi-bin/message/custom/send?access_token=${token}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{not json',
  });
  expect(await raw.json()).toMatchObject({ errcode: 47001 });
});

it('phone-number codes work once', async () => {
  fake.addPhoneCode('phone-code', '13123456789');
  const token = await classicToken();
  expect(await postJson(`/wxa/business/getuserphonenumber?access_token=${token}`, { code: 'phone-code' })).toMatchObject({
    errcode: 0,
    phone_info: { phoneNumber: '13123456789', countryCode: 86 },
  });
  expect(await postJson(`/wxa/business/getuserphonenumber?access_token=${token}`, { code: 'phone-code' })).toMatchObject({ errcode: 40029 });
});

it('login codes can be bound to one app', async () => {
  fake.addLoginCode('c', { openid: 'o', appId: FAKE_MINI_PROGRAM.appId });
  const base = `/sns/jscode2session?grant_type=authorization_code&js_code=c`;
  expect(await getJson(`${base}&appid=${FAKE_APP.appId}&secret=${FAKE_APP.secret}`)).toMatchObject({ errcode: 40029 });
});

it('uploaded media can be fetched back', async () => {
  const token = await classicToken();
  const form = new FormData();
  form.append('media', new Blob([Buffer.from('AMR')], { type: 'audio/amr' }), 'v.amr');
  const uploaded = (await (await fetch(`${fake.baseUrl}/cgi-bin/media/upload?access_token=${token}&type=voice`, { method: 'POST', body: form })).json()) as {
    media_id: string;
  };
  const media = await fetch(`${fake.baseUrl}/cgi-bin/media/get?access_token=${token}&media_id=${uploaded.media_id}`);
  expect(media.headers.get('content-type')).toBe('application/octet-stream');
  expect((await media.arrayBuffer()).byteLength).toBeGreaterThan(3);
  expect(await getJson(`/cgi-bin/media/get?access_token=${token}&media_id=missing`)).toMatchObject({ errcode: 40007 });
});

it('delays and failures apply to the next matching calls only', async () => {
  fake.failNext({ path: '/cgi-bin/token', errcode: -1, times: 2 });
  const url = `/cgi-bin/token?grant_type=client_credential&appid=${FAKE_APP.appId}&secret=${FAKE_APP.secret}`;
  expect(await getJson(url)).toMatchObject({ errcode: -1 });
  expect(await getJson(url)).toMatchObject({ errcode: -1 });
  expect(await getJson(url)).toMatchObject({ expires_in: 7200 });
  fake.delayNext({ path: '/cgi-bin/token', ms: 150 });
  const started = Date.now();
  await getJson(url);
  expect(Date.now() - started).toBeGreaterThanOrEqual(140);
});

it('records calls without their query strings (which hold secrets)', async () => {
  await classicToken();
  expect(fake.calls).toEqual([{ method: 'GET', path: '/cgi-bin/token' }]);
  expect(JSON.stringify(fake.calls)).not.toContain(FAKE_APP.secret);
});
