import { UserDelivery } from '../../src/conversation/delivery';
import type { OutboundMessage } from '../../src/conversation/types';
import { chinaDate } from '../../src/insurance/dates';
import { InsuranceNotice } from '../../src/insurance/models';
import { SubscriptionNotifier } from '../../src/insurance/notices';
import { WeChatApiError } from '../../src/wechat/api-client';
import { useTestDatabase } from '../support/database';
import { FATHER, idCardFor, MOTHER, medicalOrderFor } from './support/people';
import { TEMPLATES, World } from './support/world';

useTestDatabase(__filename);

const DAY = 86_400_000;
const UNION_ID = 'oUnion_anxin_mother';
const childOrder = {
  productId: 'children',
  planId: 'plus',
  termId: 'to-30',
  sumInsuredFen: 20_000_000,
  policyholder: MOTHER,
  insured: { relation: 'child', name: '王小安', idCard: idCardFor('2025-01-09', '136') },
  healthAnswers: { 'premature-birth': false, 'hospitalized-2y': false, congenital: false },
};

let world: World;
let mother: { token: string; openId: string; customerId: string };
let father: { token: string; openId: string; customerId: string };
let medicalPolicy: string;

beforeAll(async () => {
  world = await World.start();
  mother = await world.login({ unionId: UNION_ID });
  father = await world.login();
  ({ policyNumber: medicalPolicy } = await world.buy(mother.token, medicalOrderFor(MOTHER)));
  await world.buy(mother.token, childOrder);
  await world.buy(father.token, medicalOrderFor(FATHER));
  world.advance(2 * DAY);
  await world.api('POST', '/api/mp/claims', {
    token: mother.token,
    body: { policyId: medicalPolicy, incident: { kind: 'accident', occurredOn: chinaDate(world.now), description: '骑车摔倒，手臂骨折住院' }, contactPhone: MOTHER.phone },
  });
});
afterAll(async () => {
  await world.stop();
});

describe('facts for the bot and linking Official Account followers', () => {
  it('knows nothing about a chat user who is not linked', async () => {
    expect(await world.insurance.facts.forUser({ openId: 'oOA_stranger' })).toEqual({ linked: false });
    expect(await world.insurance.facts.forUser({ unionId: 'oUnion_nobody' })).toEqual({ linked: false });
  });

  it('finds the customer by mini-program openid or unionid, with live policies and open claims', async () => {
    const facts = await world.insurance.facts.forUser({ unionId: UNION_ID }, world.now);
    if (!facts.linked) throw new Error('not linked');
    expect(facts.customerId).toBe(mother.customerId);
    expect(facts.policies).toHaveLength(2);
    expect(facts.policies.find((p) => p.policyNumber === medicalPolicy)).toMatchObject({
      productName: '安心保·百万医疗险',
      insuredName: '李*心',
      status: 'in_force',
      statusLabel: '保障中',
      endsOn: '2026-03-10',
    });
    expect(facts.policies.find((p) => p.productName.includes('少儿'))).toMatchObject({ insuredName: '王*安', coolingOffEndsAt: expect.any(Date) });
    expect(facts.openClaims).toEqual([expect.objectContaining({ policyNumber: medicalPolicy, status: 'reported', statusLabel: '已报案', neededDocuments: [] })]);
    expect(JSON.stringify(facts)).not.toContain(MOTHER.idCard);
    expect(await world.insurance.facts.forUser({ openId: mother.openId })).toMatchObject({ linked: true, customerId: mother.customerId });
  });

  it('links a follower with a code from the mini-program, once', async () => {
    const issued = await world.api('POST', '/api/mp/binding-codes', { token: mother.token });
    expect(issued.status).toBe(201);
    expect(issued.body.code).toMatch(/^\d{6}$/);
    const redeemed = await world.insurance.bindings.redeem({ oaOpenId: 'oOA_mother', code: issued.body.code, now: world.now });
    expect(redeemed).toEqual({ ok: true, customerId: mother.customerId });
    expect(await world.insurance.facts.forUser({ openId: 'oOA_mother' })).toMatchObject({ linked: true, customerId: mother.customerId });
    expect(await world.insurance.bindings.redeem({ oaOpenId: 'oOA_someone', code: issued.body.code, now: world.now })).toEqual({ ok: false, reason: 'invalid_or_expired' });
  });

  it('refuses expired codes, and stops guessing after five wrong tries', async () => {
    const issued = await world.api('POST', '/api/mp/binding-codes', { token: father.token });
    const expired = await world.insurance.bindings.redeem({ oaOpenId: 'oOA_father', code: issued.body.code, now: new Date(world.now.getTime() + 11 * 60_000) });
    expect(expired).toEqual({ ok: false, reason: 'invalid_or_expired' });

    const fresh = await world.api('POST', '/api/mp/binding-codes', { token: father.token });
    const wrong = fresh.body.code === '000000' ? '000001' : '000000';
    for (let i = 0; i < 5; i += 1) {
      expect((await world.insurance.bindings.redeem({ oaOpenId: 'oOA_guesser', code: wrong, now: world.now })).ok).toBe(false);
    }
    expect(await world.insurance.bindings.redeem({ oaOpenId: 'oOA_guesser', code: fresh.body.code, now: world.now })).toEqual({ ok: false, reason: 'too_many_attempts' });
    expect(await world.insurance.bindings.redeem({ oaOpenId: 'oOA_father', code: fresh.body.code, now: world.now })).toEqual({ ok: true, customerId: father.customerId });
  });

  it('links a follower by unionid', async () => {
    expect(await world.insurance.bindings.linkByUnionId('oOA_mother_2', UNION_ID, world.now)).toBe(mother.customerId);
    expect(await world.insurance.bindings.linkByUnionId('oOA_x', 'oUnion_nobody', world.now)).toBeUndefined();
    expect(await world.insurance.facts.forUser({ openId: 'oOA_mother_2' })).toMatchObject({ linked: true });
  });

  it('tells a linked follower through the Official Account when the subscription message cannot reach them', async () => {
    const pushed: Array<{ userId: string; messages: OutboundMessage[] }> = [];
    const transcript: string[] = [];
    const delivery = new UserDelivery(async (_channel, userId) => transcript.push(userId));
    delivery.register('official-account', { push: async (userId, messages) => (pushed.push({ userId, messages }), { ok: true }) });
    const notifier = new SubscriptionNotifier({
      sender: { sendMiniProgramSubscribeMessage: async () => Promise.reject(new WeChatApiError(43101, 'user refuse to accept the msg', '/cgi-bin/message/subscribe/send')) },
      templates: TEMPLATES,
      delivery,
    });
    const outcome = await notifier.notify(father.customerId, { kind: 'renewal_due', policyId: 'AXP1', productName: '安心保·百万医疗险', endsOn: '2026-03-10' });
    expect(outcome).toEqual({ ok: true });
    expect(pushed).toEqual([{ userId: 'oOA_father', messages: [expect.objectContaining({ kind: 'text', text: expect.stringContaining('2026-03-10 到期') })] }]);
    expect(transcript).toEqual(['oOA_father']);
  });
});

describe('renewal reminders by subscription message', () => {
  it('reminds each renewable policy once, within the window, and retries only transient failures', async () => {
    world.setNow(new Date('2026-01-04T02:00:00Z'));
    expect(await world.insurance.sendRenewalReminders(30)).toEqual({ due: 0, sent: 0, alreadySent: 0, notDelivered: 0 });

    world.setNow(new Date('2026-02-14T02:00:00Z'));
    world.wechat.failNext({ path: '/cgi-bin/message/subscribe/send', toUser: father.openId, errcode: -1, errmsg: 'system busy' });
    expect(await world.insurance.sendRenewalReminders(30)).toEqual({ due: 2, sent: 1, alreadySent: 0, notDelivered: 1 });
    expect(await world.insurance.sendRenewalReminders(30)).toEqual({ due: 2, sent: 1, alreadySent: 1, notDelivered: 0 });
    expect(await world.insurance.sendRenewalReminders(30)).toEqual({ due: 2, sent: 0, alreadySent: 2, notDelivered: 0 });

    const reminders = world.subscriptionMessages(TEMPLATES.renewalDue);
    expect(reminders.map((m) => m.body.touser).sort()).toEqual([father.openId, mother.openId].sort());
    expect(reminders.find((m) => m.body.touser === mother.openId)?.body).toMatchObject({
      page: `pages/policies/detail?id=${medicalPolicy}`,
      data: { thing1: { value: '安心保·百万医疗险' }, date2: { value: '2026-03-10' } },
    });
    expect(await InsuranceNotice.countDocuments({ kind: 'renewal_due', status: 'sent' })).toBe(2);
  });

  it('records a refusal (no subscription acceptance) and does not send again', async () => {
    world.setNow(new Date('2026-03-01T02:00:00Z'));
    const third = await world.login();
    await world.buy(third.token, medicalOrderFor({ name: '赵平安', idCard: idCardFor('1985-07-07', '157'), phone: '13600136000' }));
    world.setNow(new Date('2027-02-20T02:00:00Z'));
    world.wechat.failNext({ path: '/cgi-bin/message/subscribe/send', toUser: third.openId, errcode: 43101 });
    expect(await world.insurance.sendRenewalReminders(30)).toEqual({ due: 1, sent: 0, alreadySent: 0, notDelivered: 1 });
    expect(await world.insurance.sendRenewalReminders(30)).toEqual({ due: 1, sent: 0, alreadySent: 1, notDelivered: 0 });
    expect(await InsuranceNotice.findOne({ kind: 'renewal_due', status: 'failed' }).lean()).toMatchObject({ detail: expect.stringContaining('43101') });
  });
});
