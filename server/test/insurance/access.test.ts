import { MiniProgramSession } from '../../src/channels/miniprogram-api/session.model';
import { chinaDate } from '../../src/insurance/dates';
import { FAKE_MINI_PROGRAM } from '../fakes/wechat-api';
import { useTestDatabase } from '../support/database';
import { FATHER, MOTHER, medicalOrderFor } from './support/people';
import { World } from './support/world';

useTestDatabase(__filename);

const DAY = 86_400_000;
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);

let world: World;
let alice: { token: string; openId: string };
let bob: { token: string; openId: string };
const a = { order: '', pendingOrder: '', policy: '', claim: '', document: '' };

beforeAll(async () => {
  world = await World.start();
  alice = await world.login();
  bob = await world.login();
  const bought = await world.buy(alice.token, medicalOrderFor(MOTHER));
  a.order = bought.orderNumber;
  a.policy = bought.policyNumber;
  const pending = await world.api('POST', '/api/mp/orders', { token: alice.token, body: { ...medicalOrderFor(MOTHER), quotedPremiumFen: bought.premiumFen } });
  a.pendingOrder = pending.body.orderNumber;
  world.advance(2 * DAY);
  const claim = await world.api('POST', '/api/mp/claims', {
    token: alice.token,
    body: { policyId: a.policy, incident: { kind: 'accident', occurredOn: chinaDate(world.now), description: '下楼梯扭伤脚踝' }, contactPhone: MOTHER.phone },
  });
  a.claim = claim.body.claimNumber;
  const doc = await world.api('POST', `/api/mp/claims/${a.claim}/documents`, {
    token: alice.token,
    body: { kind: 'medical_record', fileName: '病历.jpg', contentBase64: JPEG.toString('base64') },
  });
  a.document = doc.body.id;
});
afterAll(async () => {
  await world.stop();
});

describe("one customer's token cannot reach another's data", () => {
  it("answers 404 for every one of Alice's orders, policies, claims and files when Bob asks", async () => {
    const attempts: Array<[string, string, unknown?]> = [
      ['GET', `/api/mp/orders/${a.order}`],
      ['GET', `/api/mp/orders/${a.pendingOrder}`],
      ['POST', `/api/mp/orders/${a.pendingOrder}/payment`],
      ['POST', `/api/mp/orders/${a.pendingOrder}/cancel`],
      ['GET', `/api/mp/policies/${a.policy}`],
      ['POST', `/api/mp/policies/${a.policy}/surrender`, {}],
      ['GET', `/api/mp/claims/${a.claim}`],
      ['POST', `/api/mp/claims/${a.claim}/submit`],
      ['POST', `/api/mp/claims/${a.claim}/documents`, { kind: 'other', fileName: 'x.jpg', contentBase64: JPEG.toString('base64') }],
      ['GET', `/api/mp/claims/${a.claim}/documents/${a.document}`],
      ['POST', '/api/mp/claims', { policyId: a.policy, incident: { kind: 'accident', occurredOn: chinaDate(world.now), description: '冒用别人的保单' }, contactPhone: FATHER.phone }],
    ];
    for (const [method, path, body] of attempts) {
      const response = await world.api(method, path, { token: bob.token, body });
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 404 });
    }
    for (const list of ['/api/mp/orders', '/api/mp/policies', '/api/mp/claims']) {
      expect((await world.api('GET', list, { token: bob.token })).body.items).toEqual([]);
    }
    // Nothing moved: Alice still has her pending order, her policy in force, one document.
    expect((await world.api('GET', `/api/mp/orders/${a.pendingOrder}`, { token: alice.token })).body.status).toBe('created');
    expect((await world.api('GET', `/api/mp/policies/${a.policy}`, { token: alice.token })).body.status).toBe('in_force');
    expect((await world.api('GET', `/api/mp/claims/${a.claim}`, { token: alice.token })).body.documents).toHaveLength(1);
    expect((await world.api('GET', `/api/mp/claims/${a.claim}/documents/${a.document}`, { token: alice.token })).status).toBe(200);
  });

  it('answers 401 without a session, with a made-up token, or without the Bearer scheme', async () => {
    for (const path of [`/api/mp/orders/${a.order}`, '/api/mp/policies', `/api/mp/claims/${a.claim}/documents/${a.document}`]) {
      expect((await world.api('GET', path)).status).toBe(401);
      expect((await world.api('GET', path, { token: 'mps_made-up' })).status).toBe(401);
      expect((await world.api('GET', path, { headers: { authorization: alice.token } })).status).toBe(401);
    }
  });
});

describe('mini-program sessions', () => {
  it('keeps only a hash of the token and never returns session_key', async () => {
    const code = 'code-for-carol';
    world.wechat.addLoginCode(code, { openid: 'oCarol', session_key: 'c2Vzc2lvbi1rZXktY2Fyb2w=', appId: FAKE_MINI_PROGRAM.appId });
    const login = await world.api('POST', '/api/mp/session', { body: { code } });
    expect(login.status).toBe(201);
    expect(Object.keys(login.body).sort()).toEqual(['customer', 'expiresIn', 'token']);
    expect(login.bytes.toString()).not.toContain('c2Vzc2lvbi1rZXktY2Fyb2w=');
    expect(login.body.expiresIn).toBe(7 * 86_400);
    const stored = await MiniProgramSession.find({ openId: 'oCarol' }).lean();
    expect(stored).toHaveLength(1);
    expect(stored[0]._id).not.toContain(login.body.token);
    expect(stored[0]._id).toMatch(/^[0-9a-f]{64}$/);
    // A wx.login code works once.
    expect((await world.api('POST', '/api/mp/session', { body: { code } })).status).toBe(401);
  });

  it('ends on logout, after a week unused, and a month after login however used', async () => {
    const out = await world.login();
    expect((await world.api('DELETE', '/api/mp/session', { token: out.token })).status).toBe(204);
    expect((await world.api('GET', '/api/mp/orders', { token: out.token })).status).toBe(401);

    const idle = await world.login();
    const busy = await world.login();
    world.advance(6 * DAY);
    expect((await world.api('GET', '/api/mp/orders', { token: busy.token })).status).toBe(200);
    world.advance(2 * DAY);
    expect((await world.api('GET', '/api/mp/orders', { token: idle.token })).status).toBe(401);
    for (let day = 8; day < 30; day += 6) {
      expect((await world.api('GET', '/api/mp/orders', { token: busy.token })).status).toBe(200);
      world.advance(6 * DAY);
    }
    expect((await world.api('GET', '/api/mp/orders', { token: busy.token })).status).toBe(401);
    // No TTL index: ended sessions are purged by the housekeeping job.
    expect(await world.sessions.purgeExpired()).toBeGreaterThan(0);
    expect(await MiniProgramSession.countDocuments({})).toBe(0);
  });
});
