import { loadWechatConfig } from '../../src/config/wechat-config';
import { ConversationPipeline, type KnowledgeReader, type LiveAnswers } from '../../src/conversation/pipeline';
import { EventBus } from '../../src/events/bus';
import { useTestDatabase } from '../support/database';
import { scriptedUnderstander } from '../support/fake-understander';

useTestDatabase(__filename);

const knowledge: KnowledgeReader = {
  getSubIntent: (id) => ({ id, name: '查看我名下的保单', scenarioId: 'policy-service', sensitive: false, needsProduct: false, live: id.endsWith('/list') ? 'my-policies' : undefined }),
  selectSolution: async (id) => ({ id: `${id}|*|*`, text: '请在小程序「我的保单」查看。' }),
};
const understander = scriptedUnderstander([
  { when: '我的保单', candidates: [{ subIntentId: 'policy-service/my-policies/list', name: '查看我名下的保单', confidence: 0.9 }] },
  { when: '怎么报案', candidates: [{ subIntentId: 'claim-report/how/online', name: '线上报案', confidence: 0.9 }] },
]);
const asked: Array<{ kind: string; userId: string }> = [];
const live: LiveAnswers = {
  async answer(kind, user) {
    asked.push({ kind, userId: user.userId });
    return user.userId === 'linked' ? '您名下共有 1 张保单：安心重疾险' : undefined;
  },
  async command(text, user) {
    return /^绑定 \d{6}$/.test(text) && user.channel === 'official-account' ? '绑定成功！' : undefined;
  },
};
const pipeline = new ConversationPipeline({ understander, knowledge, config: loadWechatConfig(), events: new EventBus(), liveAnswers: live });
let n = 0;
const say = (userId: string, text: string) => pipeline.handle({ channel: 'official-account', userId, dedupeKey: `live-${++n}`, kind: 'text', text, receivedAt: new Date() });

describe('answers from the user\'s own data', () => {
  it('answers 我的保单 from live data, and falls back on the written solution', async () => {
    expect((await say('linked', '我的保单')).replies).toEqual([{ kind: 'text', text: '您名下共有 1 张保单：安心重疾险' }]);
    expect((await say('stranger', '我的保单')).replies).toEqual([{ kind: 'text', text: '请在小程序「我的保单」查看。' }]);
    expect(asked).toEqual([{ kind: 'my-policies', userId: 'linked' }, { kind: 'my-policies', userId: 'stranger' }]);
  });

  it('leaves other sub-intents to the written solution', async () => {
    await say('linked', '怎么报案');
    expect(asked).toHaveLength(2);
  });

  it('runs a binding command before understanding', async () => {
    const result = await say('follower', '绑定 123456');
    expect(result.replies).toEqual([{ kind: 'text', text: '绑定成功！' }]);
    expect(result.decision).toMatchObject({ action: 'acknowledge', reason: 'account command' });
  });
});
