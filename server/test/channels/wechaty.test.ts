import pino from 'pino';
import { WechatyBuilder } from 'wechaty';
import * as PUPPET from 'wechaty-puppet';
import { PuppetMock, mock } from 'wechaty-puppet-mock';
import { loadWechatConfig } from '../../src/config/wechat-config';
import { ConversationPipeline, type KnowledgeReader } from '../../src/conversation/pipeline';
import { Message } from '../../src/conversation/models';
import { EventBus } from '../../src/events/bus';
import { attachWechatyChannel, wechatyUserId } from '../../src/channels/wechaty/channel';
import { useTestDatabase } from '../support/database';
import { scriptedUnderstander } from '../support/fake-understander';

useTestDatabase(__filename);

const knowledge: KnowledgeReader = {
  getSubIntent: (id) => ({ id, name: '线上报案', scenarioId: 'claim-report', sensitive: false, needsProduct: false }),
  selectSolution: async (id) => ({ id: `${id}|*|*`, text: '请在小程序「理赔」页在线报案。' }),
};
const understander = scriptedUnderstander([{ when: '报案', candidates: [{ subIntentId: 'claim-report/how/online', name: '线上报案', confidence: 0.9 }] }]);

function waitFor<T>(check: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const poll = () => {
      const value = check();
      if (value !== undefined) return resolve(value);
      if (Date.now() - started > timeoutMs) return reject(new Error('timed out'));
      setTimeout(poll, 20);
    };
    poll();
  });
}

describe('Wechaty channel (puppet-mock)', () => {
  const mocker = new mock.Mocker();
  const bot = WechatyBuilder.build({ puppet: new PuppetMock({ mocker }) });
  const pipeline = new ConversationPipeline({ understander, knowledge, config: loadWechatConfig(), events: new EventBus() });
  const pusher = attachWechatyChannel(bot, { pipeline, logger: pino({ level: 'silent' }) });
  let me: ReturnType<typeof mocker.createContact>;
  let user: ReturnType<typeof mocker.createContact>;
  const received: string[] = [];

  beforeAll(async () => {
    await bot.start();
    mocker.scan('https://example.invalid/qr', 1);
    me = mocker.createContact({ name: '安心保客服' });
    mocker.login(me);
    user = mocker.createContact({ name: '投保人小王' });
    user.on('message', (message) => { received.push(message.text() ?? ''); });
  });
  afterAll(async () => { await bot.stop(); });

  it('answers a contact through the same pipeline and stores the exchange', async () => {
    user.say('请问怎么报案').to(me);
    const answer = await waitFor(() => received.find((text) => text.includes('在线报案')));
    expect(answer).toBe('请在小程序「理赔」页在线报案。');
    const stored = await Message.findOne({ channel: 'wechaty', userId: user.id }).lean();
    expect(stored).toMatchObject({ text: '请问怎么报案', decision: { action: 'answer' } });
  });

  it('pushes messages to a contact (agent replies, notices)', async () => {
    const outcome = await pusher.push(user.id, [{ kind: 'text', text: '您的理赔已受理' }]);
    expect(outcome).toEqual({ ok: true });
    await waitFor(() => received.find((text) => text === '您的理赔已受理'));
    expect(await pusher.push('no-such-contact', [{ kind: 'text', text: 'x' }])).toMatchObject({ ok: false, reason: 'user_unreachable' });
  });

  it('in a group, answers what follows the @mention, not the mention itself', async () => {
    const asker = mocker.createContact({ name: '群友小张' });
    const room = mocker.createRoom({ topic: '理赔咨询群', memberIdList: [me.id, asker.id] });
    asker.say('@安心保客服 请问怎么报案', [me]).to(room);
    const message = await waitForAsync(() => Message.findOne({ channel: 'wechaty', userId: wechatyUserId(asker.id, room.id) }).lean());
    expect(message.text).toBe('请问怎么报案');
    // The group conversation is the asker's in that group, apart from their private chat, and a push goes back there.
    expect(await Message.countDocuments({ channel: 'wechaty', userId: asker.id })).toBe(0);
    expect(await pusher.push(wechatyUserId(asker.id, room.id), [{ kind: 'text', text: '群里的回复' }])).toEqual({ ok: true });
    expect(await pusher.push(wechatyUserId(asker.id, 'no-such-room'), [{ kind: 'text', text: 'x' }])).toMatchObject({ ok: false, reason: 'user_unreachable' });
  });

  it('does not answer an Official Account (its broadcasts, its auto-replies)', async () => {
    const account = mocker.createContact({ name: '某保险资讯', type: PUPPET.types.Contact.Official });
    account.say('今日推送：怎么报案才最快？').to(me);
    user.say('怎么报案').to(me); // a later message from a person is answered: the account's was skipped, not queued
    await waitForAsync(() => Message.findOne({ channel: 'wechaty', userId: user.id, text: '怎么报案' }).lean());
    expect(await Message.countDocuments({ channel: 'wechaty', userId: account.id })).toBe(0);
  });
});

async function waitForAsync<T>(check: () => Promise<T | null | undefined>, timeoutMs = 5_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value !== null && value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
