import pino from 'pino';
import { createApp } from '../../src/app';
import { miniProgramChatRoutes } from '../../src/channels/miniprogram-chat/routes';
import type { KnowledgeReader } from '../../src/conversation/pipeline';
import { useTestDatabase } from '../support/database';
import { scriptedUnderstander } from '../support/fake-understander';
import { serve } from '../support/http';
import { miniProgramChatWiring } from '../support/miniprogram-chat';

useTestDatabase(__filename);

const knowledge: KnowledgeReader = {
  getSubIntent: (id) => ({ id, name: '线上报案', scenarioId: 'claim-report', sensitive: false, needsProduct: false }),
  selectSolution: async (id) => ({ id: `${id}|*|*`, text: '点击下方按钮在线报案。', rich: { links: [{ title: '在线报案', page: '/pages/claims/new' }] } }),
};
const understander = scriptedUnderstander([{ when: '报案', candidates: [{ subIntentId: 'claim-report/how/online', name: '线上报案', confidence: 0.9 }] }]);

describe('mini-program chat API', () => {
  const { conversations, pipeline, delivery, resolveUser } = miniProgramChatWiring(understander, knowledge);
  let http: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    http = await serve(createApp({ logger: pino({ level: 'silent' }), bodyLimitBytes: 4096, routers: [miniProgramChatRoutes({ pipeline, conversations, resolveUser })] }));
  });
  afterAll(() => http.close());

  const send = (user: string, body: unknown) => fetch(`${http.baseUrl}/api/mp/chat/messages`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-test-user': user }, body: JSON.stringify(body),
  });
  const poll = async (user: string, after?: string) => {
    const res = await fetch(`${http.baseUrl}/api/mp/chat/messages${after ? `?after=${encodeURIComponent(after)}` : ''}`, { headers: { 'x-test-user': user } });
    return (await res.json()) as { messages: Array<{ id: string; author: string; text: string; links?: unknown[] }>; cursor: string; state: string };
  };

  it('answers a message with the rich variant and is idempotent by client message id', async () => {
    const first = await send('mp-user-1', { text: '怎么报案', clientMessageId: 'c-00000001' });
    expect(first.status).toBe(200);
    const body = (await first.json()) as { messages: Array<{ author: string; text: string; links?: unknown[] }>; duplicate: boolean };
    expect(body.messages.map((m) => m.author)).toEqual(['user', 'bot']);
    expect(body.messages[1]).toMatchObject({ text: '点击下方按钮在线报案。', links: [{ title: '在线报案', page: '/pages/claims/new' }] });
    const again = (await (await send('mp-user-1', { text: '怎么报案', clientMessageId: 'c-00000001' })).json()) as { duplicate: boolean; messages: unknown[] };
    expect(again).toMatchObject({ duplicate: true });
    expect(again.messages).toEqual(body.messages);
    expect((await poll('mp-user-1')).messages).toHaveLength(2);
  });

  it('delivers an agent reply to the next poll, and only to its user', async () => {
    const before = await poll('mp-user-2');
    await send('mp-user-2', { text: '你好', clientMessageId: 'c-00000002' });
    const seen = await poll('mp-user-2');
    const outcome = await delivery.push('miniprogram', 'mp-user-2', [{ kind: 'text', text: '您好，我是人工客服小李' }], { author: 'agent', agentId: 'lisi' });
    expect(outcome).toEqual({ ok: true });
    const next = await poll('mp-user-2', seen.cursor);
    // The last poll's cursor settles a few seconds back, so what was seen may come again; the client merges by id.
    const seenIds = new Set(seen.messages.map((m) => m.id));
    expect(next.messages.filter((m) => !seenIds.has(m.id))).toEqual([expect.objectContaining({ author: 'agent', text: '您好，我是人工客服小李' })]);
    expect(before.messages).toEqual([]);
    expect((await poll('mp-user-1')).messages.some((m) => m.text.includes('小李'))).toBe(false);
  });

  it('pages through everything that arrived since the cursor, oldest first, none skipped', async () => {
    const { cursor: start } = await poll('mp-user-5');
    const since = start ?? new Date(Date.now() - 1000).toISOString();
    const texts = ['第1条', '第2条', '第3条', '第4条', '第5条'];
    for (const text of texts) {
      await delivery.push('miniprogram', 'mp-user-5', [{ kind: 'text', text }], { author: 'agent', agentId: 'lisi' });
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    const pageOf = async (after: string) => {
      const res = await fetch(`${http.baseUrl}/api/mp/chat/messages?after=${encodeURIComponent(after)}&limit=2`, { headers: { 'x-test-user': 'mp-user-5' } });
      return (await res.json()) as { messages: Array<{ text: string }>; cursor: string };
    };
    const seen: string[] = [];
    let cursor = since;
    for (let i = 0; i < 5; i += 1) {
      const page = await pageOf(cursor);
      seen.push(...page.messages.map((m) => m.text));
      cursor = page.cursor;
    }
    expect([...new Set(seen)]).toEqual(texts);
  });

  it('hands back a cursor a few seconds behind the last page, so a message stored late with an earlier time is not missed', async () => {
    await delivery.push('miniprogram', 'mp-user-7', [{ kind: 'text', text: '先到' }], { author: 'agent', agentId: 'lisi' });
    const first = await poll('mp-user-7');
    // Another instance stores a reply stamped a moment before the newest one this poll saw (its clock, a late commit).
    await delivery.push('miniprogram', 'mp-user-7', [{ kind: 'text', text: '后存' }], { author: 'agent', agentId: 'lisi' });
    const { Message } = await import('../../src/conversation/models');
    const seenFirst = await Message.findOne({ userId: 'mp-user-7', 'replies.text': '先到' }).lean();
    const late = await Message.findOne({ userId: 'mp-user-7', 'replies.text': '后存' }).lean();
    const earlier = new Date(new Date(seenFirst!.updatedAt ?? seenFirst!.createdAt).getTime() - 1);
    await Message.updateOne({ _id: late!._id }, { $set: { updatedAt: earlier } }, { timestamps: false });
    const next = await poll('mp-user-7', first.cursor);
    expect(next.messages.map((m) => m.text)).toContain('后存');
  });

  it('never ends a page between two messages of the same time', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    for (const text of ['甲', '乙', '丙']) await delivery.push('miniprogram', 'mp-user-6', [{ kind: 'text', text }], { author: 'agent', agentId: 'lisi' });
    const { Message } = await import('../../src/conversation/models');
    const sameTime = new Date();
    await Message.updateMany({ userId: 'mp-user-6' }, { $set: { updatedAt: sameTime } }, { timestamps: false });
    const seen: string[] = [];
    let cursor = since;
    for (let i = 0; i < 3; i += 1) {
      const res = await fetch(`${http.baseUrl}/api/mp/chat/messages?after=${encodeURIComponent(cursor)}&limit=2`, { headers: { 'x-test-user': 'mp-user-6' } });
      const page = (await res.json()) as { messages: Array<{ text: string }>; cursor: string };
      seen.push(...page.messages.map((m) => m.text));
      cursor = page.cursor;
    }
    expect([...seen].sort()).toEqual(['丙', '乙', '甲'].sort());
  });

  it('takes an ISO timestamp with an offset as the poll cursor (encoded or with a bare "+"), and refuses garbage naming after', async () => {
    await send('mp-user-4', { text: '你好', clientMessageId: 'c-00000004' });
    const { cursor } = await poll('mp-user-4');
    /** The same instant written in China time, e.g. 2026-11-25T08:00:00.000+08:00. */
    const chinaTime = (instant: Date) => `${new Date(instant.getTime() + 8 * 3_600_000).toISOString().slice(0, 23)}+08:00`;
    const justBefore = chinaTime(new Date(new Date(cursor).getTime() - 1));
    const get = (query: string) => fetch(`${http.baseUrl}/api/mp/chat/messages?${query}`, { headers: { 'x-test-user': 'mp-user-4' } });

    const encoded = await get(`after=${encodeURIComponent(justBefore)}`);
    expect(encoded.status).toBe(200);
    expect(((await encoded.json()) as { messages: unknown[] }).messages.length).toBeGreaterThan(0);
    // Typed by hand, "+08:00" reaches the server as " 08:00" (a "+" in a query string is a space).
    const bare = await get(`after=${chinaTime(new Date(Date.now() + 60_000))}`);
    expect(bare.status).toBe(200);
    expect(((await bare.json()) as { messages: unknown[] }).messages).toEqual([]); // nothing after a minute from now

    for (const garbage of ['yesterday', '2026-11-25', '2026-13-45T99:00:00+08:00']) {
      const refused = await get(`after=${encodeURIComponent(garbage)}`);
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: { code: string; message: string } }).error.message).toMatch(/after/);
    }
  });

  it('refuses bad input with a 400 naming the field, and strangers with 401', async () => {
    const bad = await send('mp-user-3', { text: '', clientMessageId: 'short' });
    expect(bad.status).toBe(400);
    const message = ((await bad.json()) as { error: { message: string } }).error.message;
    expect(message).toMatch(/text: must not be empty/);
    expect(message).toMatch(/clientMessageId/);
    const stranger = await fetch(`${http.baseUrl}/api/mp/chat/messages`);
    expect(stranger.status).toBe(401);
  });
});
