import pino from 'pino';
import { issueStaffToken } from '../../src/agents/auth';
import { Agent } from '../../src/agents/models';
import { createApp } from '../../src/app';
import { ChatImage, ChatImages } from '../../src/channels/miniprogram-chat/images';
import { miniProgramChatRoutes, staffChatImageRoutes } from '../../src/channels/miniprogram-chat/routes';
import { Message } from '../../src/conversation/models';
import { seedConversation } from '../support/conversations';
import type { KnowledgeReader } from '../../src/conversation/pipeline';
import type { DomainEvents } from '../../src/events/types';
import { MemoryStorage } from '../../src/storage';
import { useTestDatabase } from '../support/database';
import { scriptedUnderstander } from '../support/fake-understander';
import { serve } from '../support/http';
import { miniProgramChatWiring } from '../support/miniprogram-chat';

useTestDatabase(__filename);

/** A real 1×1 PNG: what a phone's photo looks like to the type check. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(60, 7)]);
const PDF = Buffer.from('%PDF-1.7\n1 0 obj <<>> endobj\n');
const MAX_IMAGE_BYTES = 2048;

const knowledge: KnowledgeReader = { getSubIntent: () => undefined, selectSolution: async () => undefined };

interface ChatBody {
  messages: Array<{ id: string; author: string; kind: string; text: string; imageUrl?: string }>;
  state: string;
  duplicate?: boolean;
}
interface ErrorBody {
  error: { code: string; message: string };
}

describe('mini-program chat photos', () => {
  const { events, config, conversations, pipeline, delivery, resolveUser } = miniProgramChatWiring(scriptedUnderstander([]), knowledge);
  const storage = new MemoryStorage();
  const images = new ChatImages({ storage, maxBytes: MAX_IMAGE_BYTES });
  let http: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    http = await serve(createApp({
      logger: pino({ level: 'silent' }),
      bodyLimitBytes: 16 * 1024,
      routers: [miniProgramChatRoutes({ pipeline, conversations, resolveUser, images }), staffChatImageRoutes({ images })],
    }));
  });
  afterAll(() => http.close());

  const upload = (user: string, body: unknown) => fetch(`${http.baseUrl}/api/mp/chat/images`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-test-user': user }, body: JSON.stringify(body),
  });
  const photo = (bytes: Buffer, clientMessageId: string) => ({ clientMessageId, contentBase64: bytes.toString('base64') });
  const poll = async (user: string) =>
    (await (await fetch(`${http.baseUrl}/api/mp/chat/messages`, { headers: { 'x-test-user': user } })).json()) as ChatBody;
  const fetchImage = (path: string, user?: string) => fetch(`${http.baseUrl}${path}`, { headers: user ? { 'x-test-user': user } : {} });
  const errorOf = async (res: Response) => ((await res.json()) as ErrorBody).error;

  it('sends a photo through the pipeline: it is in the history with its imageUrl, and the bot acknowledges it', async () => {
    const res = await upload('photo-user-1', photo(PNG, 'img-00000001'));
    expect(res.status).toBe(200);
    const body = (await res.json()) as ChatBody;
    expect(body.duplicate).toBe(false);
    expect(body.messages).toEqual([
      expect.objectContaining({ author: 'user', kind: 'image', text: '', imageUrl: expect.stringMatching(/^\/api\/mp\/chat\/images\/img_[0-9a-f]{32}$/) }),
      expect.objectContaining({ author: 'bot', kind: 'text', text: config.replies.image }),
    ]);
    const history = await poll('photo-user-1');
    expect(history.messages).toEqual(body.messages);
    const stored = await Message.findById('miniprogram:img-00000001').lean();
    expect(stored).toMatchObject({ direction: 'in', kind: 'image', inbound: { kind: 'image', media: { url: body.messages[0].imageUrl, format: 'png' } } });
  });

  it('lets the sender read the bytes, and nobody else', async () => {
    const { messages } = (await (await upload('photo-user-2', photo(JPEG, 'img-00000002'))).json()) as ChatBody;
    const imageUrl = messages[0].imageUrl!;

    const own = await fetchImage(imageUrl, 'photo-user-2');
    expect(own.status).toBe(200);
    expect(own.headers.get('content-type')).toBe('image/jpeg');
    expect(own.headers.get('cache-control')).toBe('private, no-store');
    expect(Buffer.from(await own.arrayBuffer())).toEqual(JPEG);

    const stranger = await fetchImage(imageUrl, 'photo-user-3');
    expect(stranger.status).toBe(404);
    expect(await errorOf(stranger)).toMatchObject({ code: 'image_not_found' });
    expect((await fetchImage(imageUrl)).status).toBe(401);
    expect((await fetchImage('/api/mp/chat/images/img_0123456789abcdef0123456789abcdef', 'photo-user-2')).status).toBe(404);
    expect((await fetchImage('/api/mp/chat/images/..%2F..%2Fetc', 'photo-user-2')).status).toBe(404);
  });

  it('answers a retry with the same clientMessageId from what is stored: one message, one file', async () => {
    const filesBefore = storage.documents.size;
    const first = (await (await upload('photo-user-4', photo(PNG, 'img-00000004'))).json()) as ChatBody;
    const again = await upload('photo-user-4', photo(PNG, 'img-00000004'));
    expect(again.status).toBe(200);
    const second = (await again.json()) as ChatBody;
    expect(second.duplicate).toBe(true);
    expect(second.messages).toEqual(first.messages);
    expect((await poll('photo-user-4')).messages).toHaveLength(2);
    expect(await Message.countDocuments({ userId: 'photo-user-4', direction: 'in' })).toBe(1);
    expect(await ChatImage.countDocuments({ userId: 'photo-user-4' })).toBe(1);
    expect(storage.documents.size).toBe(filesBefore + 1);
  });

  it('refuses a clientMessageId already used by another message or another user', async () => {
    await fetch(`${http.baseUrl}/api/mp/chat/messages`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-test-user': 'photo-user-5' },
      body: JSON.stringify({ text: '你好', clientMessageId: 'txt-00000005' }),
    });
    const overText = await upload('photo-user-5', photo(PNG, 'txt-00000005'));
    expect(overText.status).toBe(409);
    expect(await errorOf(overText)).toMatchObject({ code: 'client_message_id_reused' });

    await upload('photo-user-5', photo(PNG, 'img-00000005'));
    const otherUser = await upload('photo-user-6', photo(PNG, 'img-00000005'));
    expect(otherUser.status).toBe(409);
    expect(await errorOf(otherUser)).toMatchObject({ code: 'client_message_id_reused' });
    expect((await poll('photo-user-6')).messages).toEqual([]);
  });

  it.each([
    ['a PDF', photo(PDF, 'bad-00000001'), 415, 'unsupported_document_type'],
    ['text that is not a picture', photo(Buffer.from('just some words here'), 'bad-00000002'), 415, 'unsupported_document_type'],
    ['a photo over the size limit', photo(Buffer.concat([PNG, Buffer.alloc(MAX_IMAGE_BYTES)]), 'bad-00000003'), 413, 'document_too_large'],
    ['base64 of nothing', { clientMessageId: 'bad-00000004', contentBase64: 'A' }, 400, 'empty_document'],
    ['an empty contentBase64', { clientMessageId: 'bad-00000005', contentBase64: '' }, 400, 'invalid_input'],
    ['something not base64', { clientMessageId: 'bad-00000006', contentBase64: '<svg onload=alert(1)>' }, 400, 'invalid_input'],
    ['no clientMessageId', { contentBase64: PNG.toString('base64') }, 400, 'invalid_input'],
    ['a body larger than the server reads', photo(Buffer.concat([PNG, Buffer.alloc(20 * 1024)]), 'bad-00000007'), 413, 'payload_too_large'],
  ])('refuses %s with %i %s, and stores no message', async (_what, body, status, code) => {
    const res = await upload('photo-user-7', body);
    expect(res.status).toBe(status);
    const error = await errorOf(res);
    expect(error.code).toBe(code);
    expect(typeof error.message).toBe('string');
    expect((await poll('photo-user-7')).messages).toEqual([]);
  });

  it('refuses a body that is not JSON, and callers without a session', async () => {
    const notJson = await fetch(`${http.baseUrl}/api/mp/chat/images`, {
      method: 'POST', headers: { 'content-type': 'image/png', 'x-test-user': 'photo-user-8' }, body: PNG,
    });
    expect(notJson.status).toBe(400);
    expect(await errorOf(notJson)).toMatchObject({ code: 'invalid_input' });
    const stranger = await fetch(`${http.baseUrl}/api/mp/chat/images`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(photo(PNG, 'img-00000008')),
    });
    expect(stranger.status).toBe(401);
  });

  it('in a human session relays the photo to the agent side instead of the bot answering', async () => {
    const userId = 'photo-user-9';
    await seedConversation('miniprogram', userId, { state: 'human' });
    const received: Array<DomainEvents['message.received']> = [];
    events.on('message.received', (event) => { received.push(event); });
    const body = (await (await upload(userId, photo(PNG, 'img-00000009'))).json()) as ChatBody;
    expect(body.state).toBe('human');
    expect(body.messages).toEqual([expect.objectContaining({ author: 'user', kind: 'image', imageUrl: expect.any(String) })]);
    await events.settled();
    expect(received).toEqual([expect.objectContaining({ messageId: 'miniprogram:img-00000009', userId, state: 'human' })]);
  });

  it('lets signed-in staff read a customer photo, and nobody without a staff token', async () => {
    const { messages } = (await (await upload('photo-user-10', photo(PNG, 'img-00000010'))).json()) as ChatBody;
    const imageId = messages[0].imageUrl!.split('/').pop()!;
    await Agent.create({ _id: 'photo-agent', name: '王客服', role: 'agent' });
    const token = await issueStaffToken('photo-agent');
    const staff = await fetch(`${http.baseUrl}/api/staff/chat/images/${imageId}`, { headers: { authorization: `Bearer ${token}` } });
    expect(staff.status).toBe(200);
    expect(Buffer.from(await staff.arrayBuffer())).toEqual(PNG);
    expect((await fetch(`${http.baseUrl}/api/staff/chat/images/${imageId}`)).status).toBe(401);
    expect((await fetch(`${http.baseUrl}/api/staff/chat/images/${imageId}`, { headers: { 'x-test-user': 'photo-user-10' } })).status).toBe(401);
  });

  it('shows the picture of an outbound news message as its imageUrl', async () => {
    await delivery.push('miniprogram', 'photo-user-11', [
      { kind: 'news', title: '理赔指南', description: '三步完成报案', url: 'https://example.com/guide', picUrl: 'https://example.com/cover.jpg' },
    ], { author: 'agent', agentId: 'lisi' });
    expect((await poll('photo-user-11')).messages).toEqual([
      expect.objectContaining({ author: 'agent', kind: 'news', text: '理赔指南', imageUrl: 'https://example.com/cover.jpg' }),
    ]);
  });
});
