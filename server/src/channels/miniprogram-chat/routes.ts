import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { ChannelPusher } from '../../conversation/delivery';
import { Message, type MessageDoc } from '../../conversation/models';
import { ConversationPipeline, DuplicateInProgress } from '../../conversation/pipeline';
import type { ConversationService } from '../../conversation/service';
import type { OutboundMessage } from '../../conversation/types';
import { conflict } from '../../http/errors';
import { validate } from '../../http/validation';

/** A chat message as the mini-program shows it. */
export interface ChatMessage {
  id: string;
  author: 'user' | 'bot' | 'agent';
  kind: string;
  text: string;
  choices?: Array<{ number: number; label: string }>;
  links?: Array<{ title: string; page: string }>;
  createdAt: string;
}

/** Who is calling: resolved by the mini-program session middleware (a `code2session` login). */
export type ChatUserResolver = (ctx: Context) => Promise<{ userId: string }>;

function repliesAsChat(doc: MessageDoc, author: 'bot' | 'agent'): ChatMessage[] {
  return ((doc.replies ?? []) as OutboundMessage[]).map((reply, i) => ({
    id: `${doc._id}#${i}`,
    author,
    kind: reply.kind,
    text: reply.kind === 'news' ? reply.title : reply.text,
    ...(reply.kind === 'choices' ? { choices: reply.choices.map((c) => ({ number: c.number, label: c.label })) } : {}),
    ...(reply.kind === 'text' && reply.links ? { links: reply.links } : {}),
    createdAt: new Date(doc.updatedAt ?? doc.createdAt).toISOString(),
  }));
}

/** A stored message expanded into what the user sees: their text, then the replies. */
function toChat(doc: MessageDoc): ChatMessage[] {
  if (doc.direction === 'out') return repliesAsChat(doc, doc.author === 'agent' ? 'agent' : 'bot');
  const own: ChatMessage[] = doc.text
    ? [{ id: doc._id, author: 'user', kind: doc.kind, text: doc.text, createdAt: new Date(doc.createdAt).toISOString() }]
    : [];
  return [...own, ...(doc.status === 'done' ? repliesAsChat(doc, 'bot') : [])];
}

/**
 * The in-mini-program chat: send a message (idempotent by the client's message id) and poll for what arrived
 * since (agent replies, late answers). Polling reads the shared database, so it works behind a load balancer.
 */
export function miniProgramChatRoutes(deps: { pipeline: ConversationPipeline; conversations: ConversationService; resolveUser: ChatUserResolver }): Router {
  const router = new Router({ prefix: '/api/mp/chat' });

  router.post('/messages', async (ctx) => {
    const { userId } = await deps.resolveUser(ctx);
    const body = validate(
      z.object({
        text: z.string().trim().min(1, 'must not be empty').max(500, 'must be at most 500 characters'),
        clientMessageId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8–64 letters, digits, "-" or "_"'),
      }),
      ctx.request.body,
      'body',
    );
    let result;
    try {
      result = await deps.pipeline.handle({
        channel: 'miniprogram', userId, dedupeKey: body.clientMessageId, kind: 'text', text: body.text, receivedAt: new Date(),
      });
    } catch (err) {
      if (err instanceof DuplicateInProgress) throw conflict('message_in_progress', 'this message is still being answered; poll for the reply');
      throw err;
    }
    const stored = await Message.findById(result.messageId).lean<MessageDoc>();
    const conversation = await deps.conversations.get(result.conversationId);
    ctx.body = { messages: stored ? toChat(stored) : [], state: conversation?.state ?? 'bot', duplicate: result.duplicate };
  });

  router.get('/messages', async (ctx) => {
    const { userId } = await deps.resolveUser(ctx);
    const query = validate(
      z.object({ after: z.string().datetime({ message: 'must be an ISO date-time' }).optional(), limit: z.coerce.number().int().min(1).max(100).default(50) }),
      ctx.query,
      'query',
    );
    const conversationId = ConversationPipeline.conversationId({ channel: 'miniprogram', userId });
    const filter: Record<string, unknown> = { conversationId, status: 'done' };
    if (query.after) filter.updatedAt = { $gt: new Date(query.after) };
    const docs = await Message.find(filter).sort({ updatedAt: -1 }).limit(query.limit).lean<MessageDoc[]>();
    const messages = docs.reverse().flatMap(toChat);
    const conversation = await deps.conversations.get(conversationId);
    ctx.body = {
      messages,
      state: conversation?.state ?? 'bot',
      // The next poll asks for what changed after the newest message seen.
      cursor: docs.length ? new Date(docs[docs.length - 1].updatedAt ?? docs[docs.length - 1].createdAt).toISOString() : query.after ?? null,
    };
  });

  return router;
}

/** Mini-program users are reached through the transcript itself (UserDelivery records it); the chat page polls. */
export const miniProgramPusher: ChannelPusher = { push: async () => ({ ok: true }) };
