import { issueStaffToken } from '../../src/agents/auth';
import { Agent } from '../../src/agents/models';
import type { ConversationPipeline } from '../../src/conversation/pipeline';
import type { ChannelName, PipelineResult } from '../../src/conversation/types';
import { chinaDate } from '../../src/insurance/dates';
import { insuranceLiveAnswers } from '../../src/insurance/live-answers';
import { Policy } from '../../src/insurance/models';
import { useTestDatabase } from '../support/database';
import { shippedKnowledgePipeline } from '../support/shipped-knowledge';
import { FATHER, MOTHER, medicalOrderFor } from './support/people';
import { World } from './support/world';

useTestDatabase(__filename);
jest.setTimeout(120_000);

const DAY = 86_400_000;

/**
 * The bot answering "我的保单" / "理赔进度" from the customer's real policies and claims: the shipped knowledge,
 * retrieval, the pipeline and the insurance records bought and reported through the mini-program API.
 */
describe('the bot answers from the customer\'s own policies and claims', () => {
  let world: World;
  let pipeline: ConversationPipeline;
  let mother: { token: string; openId: string; customerId: string };
  let father: { token: string; openId: string; customerId: string };
  let motherPolicy: string;
  let fatherPolicy: string;
  let claimNumber: string;
  let n = 0;
  const say = (channel: ChannelName, userId: string, text: string): Promise<PipelineResult> =>
    pipeline.handle({ channel, userId, dedupeKey: `bot-answers-${++n}`, kind: 'text', text, receivedAt: world.now });
  const textOf = (result: PipelineResult) => result.replies.map((r) => ('text' in r ? r.text : r.title)).join('\n');

  beforeAll(async () => {
    world = await World.start();
    pipeline = await shippedKnowledgePipeline({ liveAnswers: insuranceLiveAnswers, now: () => world.now });

    mother = await world.login();
    father = await world.login();
    ({ policyNumber: motherPolicy } = await world.buy(mother.token, medicalOrderFor(MOTHER)));
    ({ policyNumber: fatherPolicy } = await world.buy(father.token, medicalOrderFor(FATHER)));
    world.advance(2 * DAY);
    const reported = await world.api('POST', '/api/mp/claims', {
      token: mother.token,
      body: { policyId: motherPolicy, incident: { kind: 'accident', occurredOn: chinaDate(world.now), description: '骑车摔倒，手臂骨折住院' }, contactPhone: MOTHER.phone },
    });
    expect(reported.status).toBe(201);
    claimNumber = reported.body.claimNumber;
  });
  afterAll(async () => {
    await world?.stop();
  });

  it('lists a mini-program user\'s own policies, and only theirs', async () => {
    const answer = textOf(await say('miniprogram', mother.openId, '我的保单'));
    expect(answer).toContain('您名下共有 1 张保单');
    expect(answer).toContain(motherPolicy);
    expect(answer).toContain('安心保·百万医疗险');
    expect(answer).toContain('保障中');
    expect(answer).toContain('李*心'); // the insured, masked
    expect(answer).not.toContain(fatherPolicy);
    expect(answer).not.toContain(MOTHER.idCard);

    expect(textOf(await say('miniprogram', father.openId, '查一下我买的保单'))).toContain(fatherPolicy);
  });

  it('tells the claim\'s progress from the claim record', async () => {
    const answer = textOf(await say('miniprogram', mother.openId, '我的理赔进度到哪了'));
    expect(answer).toContain('您有 1 件理赔在处理中');
    expect(answer).toContain(claimNumber);
    expect(answer).toContain('已报案');
    expect(textOf(await say('miniprogram', father.openId, '理赔进度查询'))).toContain('您目前没有处理中的理赔');

    // The claims team asks for documents: the next answer says which.
    await Agent.create({ _id: 'claims-zhang', name: '张理赔', role: 'agent' });
    const staffToken = await issueStaffToken('claims-zhang');
    const asked = await world.api('POST', `/api/staff/claims/${claimNumber}/transitions`, {
      token: staffToken, body: { to: 'documents_needed', neededDocuments: ['费用清单', '出院小结'] },
    });
    expect(asked.status).toBe(200);
    const later = textOf(await say('miniprogram', mother.openId, '理赔到哪一步了'));
    expect(later).toContain('待补材料');
    expect(later).toContain('还需补充：费用清单、出院小结');
  });

  it('answers with what is written for the user\'s state: a claim being handled, a policy still in its cooling-off period', async () => {
    const claimMenu = textOf(await say('miniprogram', mother.openId, '理赔'));
    expect(claimMenu).toContain('您有理赔正在处理中');
    expect(textOf(await say('miniprogram', father.openId, '理赔'))).toMatch(/^理赔可以在线办理/); // no open claim

    // A one-year medical policy has no cooling-off period; give the father's the one a long-term product has.
    expect(textOf(await say('miniprogram', father.openId, '退保'))).toMatch(/^退保要看保单是否还在犹豫期/);
    await Policy.updateOne({ _id: fatherPolicy }, { $set: { coolingOffEndsAt: new Date(world.now.getTime() + 10 * DAY) } });
    expect(textOf(await say('miniprogram', father.openId, '退保'))).toContain('您名下有保单还在犹豫期内');
    expect(textOf(await say('official-account', 'oOA_unknown_follower', '退保'))).toMatch(/^退保要看保单是否还在犹豫期/); // nobody we know
  });

  it('links an Official Account follower with the mini-program\'s code, then answers from the same records', async () => {
    const follower = 'oOA_follower_mother';
    expect(textOf(await say('official-account', follower, '我的保单'))).toContain('绑定 123456');

    const issued = await world.api('POST', '/api/mp/binding-codes', { token: mother.token });
    expect(issued.status).toBe(201);
    const bound = await say('official-account', follower, `绑定 ${issued.body.code}`);
    expect(bound.decision).toMatchObject({ action: 'acknowledge', reason: 'account command' });
    expect(textOf(bound)).toContain('绑定成功');

    const answer = textOf(await say('official-account', follower, '我的保单'));
    expect(answer).toContain(motherPolicy);
    expect(answer).not.toContain(fatherPolicy);
    expect(textOf(await say('official-account', follower, '理赔进度'))).toContain(claimNumber);

    // A used code links nobody else.
    expect(textOf(await say('official-account', 'oOA_someone_else', `绑定 ${issued.body.code}`))).toContain('绑定码无效或已过期');
    expect(textOf(await say('official-account', 'oOA_someone_else', '我的保单'))).toContain('还没有找到您名下的保单');
    // A code of the wrong length is the command mistyped, not a question about bank cards.
    for (const text of ['绑定123', '绑定 1234567', '绑定：12345']) {
      const reply = await say('official-account', 'oOA_someone_else', text);
      expect(reply.decision).toMatchObject({ action: 'acknowledge', reason: 'account command' });
      expect(textOf(reply)).toContain('绑定码是6位数字');
    }
  });
});
