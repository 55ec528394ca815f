import { officialAccountPusher } from '../../src/channels/official-account/pusher';
import type { PushOutcome } from '../../src/conversation/delivery';
import { OFFICIAL_ACCOUNT_TEXT_BYTES, passiveReplyText } from '../../src/channels/official-account/render';
import type { OutboundMessage } from '../../src/conversation/types';
import { AccessTokenModel } from '../../src/wechat/access-token.model';
import { WeChatAppApi, WeChatHttpClient } from '../../src/wechat/api-client';
import { FAKE_APP, FakeWeChatApi } from '../fakes/wechat-api';
import { useTestDatabase } from '../support/database';

const wasNothingSent = (outcome: PushOutcome) => !outcome.ok && outcome.nothingSent === true;

useTestDatabase(__filename);

let fake: FakeWeChatApi;
beforeEach(async () => {
  await AccessTokenModel.deleteMany({}).exec();
  fake = await FakeWeChatApi.start();
});
afterEach(() => fake.stop());

const pusher = () => officialAccountPusher(new WeChatAppApi({ http: new WeChatHttpClient({ baseUrl: fake.baseUrl }), appId: FAKE_APP.appId, appSecret: FAKE_APP.secret }));
const sentTo = (openId: string) => fake.sent.custom.filter((m) => m.touser === openId);

describe('Official Account pushes and the 5-message quota (§3.2)', () => {
  const answer: OutboundMessage[] = [
    { kind: 'text', text: '温馨提示：您提到的是其他保险公司的产品，以下是本公司的规则。' },
    { kind: 'text', text: '请在小程序「我的」→「我的保单」→申请理赔。' },
    { kind: 'choices', text: '还想了解：', choices: [{ number: 1, label: '理赔材料', subIntentId: 'a/b/docs' }, { number: 2, label: '理赔进度', subIntentId: 'a/b/progress' }] },
  ];

  it('sends the replies to one message as one customer-service message, the text a passive reply would carry', async () => {
    fake.userMessaged('user-joined');
    expect(await pusher().push('user-joined', answer)).toEqual({ ok: true });
    const sent = sentTo('user-joined');
    expect(sent).toHaveLength(1);
    expect(sent[0].body).toMatchObject({ msgtype: 'text', text: { content: passiveReplyText(answer) } });
  });

  it('an answer of several replies still goes out whole when only one message of the quota is left', async () => {
    fake.userMessaged('user-last-one');
    const push = pusher();
    for (let i = 0; i < 4; i += 1) expect(await push.push('user-last-one', [{ kind: 'text', text: `客服回复 ${i}` }])).toEqual({ ok: true });
    expect(await push.push('user-last-one', answer)).toEqual({ ok: true });
    expect(sentTo('user-last-one')).toHaveLength(5);
  });

  it('keeps a news card as its own message, and starts another text only where the joined one would not fit', async () => {
    fake.userMessaged('user-mixed');
    const long = '很'.repeat(Math.floor(OFFICIAL_ACCOUNT_TEXT_BYTES / 3) - 3);
    const outcome = await pusher().push('user-mixed', [
      { kind: 'text', text: '先看这篇：' },
      { kind: 'news', title: '理赔指南', description: '三步完成', url: 'https://example.com/guide' },
      { kind: 'text', text: long },
      { kind: 'text', text: '还有问题请回复。' },
    ]);
    expect(outcome).toEqual({ ok: true });
    const sent = sentTo('user-mixed');
    expect(sent.map((m) => m.msgtype)).toEqual(['text', 'news', 'text', 'text']);
    expect(sent[2].body).toMatchObject({ text: { content: long } });
    for (const message of sent) {
      const content = (message.body.text as { content?: string } | undefined)?.content ?? '';
      expect(Buffer.byteLength(content)).toBeLessThanOrEqual(OFFICIAL_ACCOUNT_TEXT_BYTES);
    }
  });

  it('says when WeChat received nothing (no access_token, a rate limit), and only then', async () => {
    fake.userMessaged('user-errors');
    fake.failNext({ path: '/cgi-bin/stable_token', errcode: 40164 });
    const noToken = await pusher().push('user-errors', answer);
    expect(noToken).toMatchObject({ ok: false, reason: 'failed' });
    expect(wasNothingSent(noToken)).toBe(true);
    fake.failNext({ path: '/cgi-bin/message/custom/send', errcode: 45011 });
    expect(wasNothingSent(await pusher().push('user-errors', answer))).toBe(true);
    // A busy or unreadable answer to the send itself may hide a delivered message: not retried.
    fake.failNext({ path: '/cgi-bin/message/custom/send', errcode: -1 });
    const busy = await pusher().push('user-errors', answer);
    expect(busy).toMatchObject({ ok: false, reason: 'failed' });
    expect(wasNothingSent(busy)).toBe(false);
    fake.failNext({ path: '/cgi-bin/message/custom/send', errcode: 45047 });
    expect(wasNothingSent(await pusher().push('user-errors', answer))).toBe(false);
    expect(sentTo('user-errors')).toHaveLength(0);
  });
});
