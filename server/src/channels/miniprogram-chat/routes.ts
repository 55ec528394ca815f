import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { ChannelPusher } from '../../conversation/delivery';
import { Message, type MessageDoc } from '../../conversation/models';
import { ConversationPipeline, DuplicateInProgress } from '../../conversation/pipeline';
import type { ConversationService } from '../../conversation/service';
import type { InboundMessage, OutboundMessage } from '../../conversation/types';
import { requireStaff } from '../../agents/auth';
import { conflict, HttpError } from '../../http/errors';
import { validate } from '../../http/validation';
import { documentUploadSchema } from '../../insurance/requests';
import type { StoredDocument } from '../../storage';
import { chatImagePath, type ChatImages } from './images';

/** A chat message as the mini-program shows it. */
export interface ChatMessage {
  id: string;
  author: 'user' | 'bot' | 'agent';
  kind: string;
  text: string;
  choices?: Array<{ number: number; label: string }>;
  links?: Array<{ title: string; page: string }>;
  /**
   * The picture of an image message: the user's own photo (a path on this API, read with the session token), or
   * an outbound picture such as a news cover (an absolute URL).
   */
  imageUrl?: string;
  createdAt: string;
}

/**
 * The poll cursor: an ISO date-time in UTC or with an offset (2026-11-25T00:00:00+08:00). An unencoded "+" in a
 * query string arrives as a space, so a space before the offset is read as the "+" it was.
 */
const pollCursorField = z.preprocess(
  (value) => (typeof value === 'string' ? value.replace(/^(\d{4}-\d{2}-\d{2}T[\d:.]+) (\d{2}:?\d{2})$/, '$1+$2') : value),
  z.string().datetime({ offset: true, message: 'must be an ISO date-time, e.g. 2026-11-25T00:00:00+08:00' }),
);

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
    ...(reply.kind === 'news' && reply.picUrl ? { imageUrl: reply.picUrl } : {}),
    createdAt: new Date(doc.updatedAt ?? doc.createdAt).toISOString(),
  }));
}

/** The picture an inbound image message carries (stored with the message, so history shows it too). */
function imageUrlOf(doc: MessageDoc): string | undefined {
  const media = (doc.inbound as { media?: { url?: unknown } } | undefined)?.media;
  return doc.kind === 'image' && typeof media?.url === 'string' ? media.url : undefined;
}

/** A stored message expanded into what the user sees: their text or photo, then the replies. */
function toChat(doc: MessageDoc): ChatMessage[] {
  if (doc.direction === 'out') return repliesAsChat(doc, doc.author === 'agent' ? 'agent' : 'bot');
  const imageUrl = imageUrlOf(doc);
  const own: ChatMessage[] = doc.text || imageUrl
    ? [{ id: doc._id, author: 'user', kind: doc.kind, text: doc.text ?? '', ...(imageUrl ? { imageUrl } : {}), createdAt: new Date(doc.createdAt).toISOString() }]
    : [];
  return [...own, ...(doc.status === 'done' ? repliesAsChat(doc, 'bot') : [])];
}

const changedAt = (doc: MessageDoc) => new Date(doc.updatedAt ?? doc.createdAt);

/**
 * The last poll of a burst hands back a cursor this far behind the server's clock (or its newest message, if older):
 * a message stored late with an earlier time (another instance's clock, a group commit that landed after a newer
 * message) is then still after the cursor. The client merges by id, so what it sees twice shows once.
 */
const SETTLE_MS = 5_000;

/**
 * Up to `limit` messages changed after `after`, oldest first. The cursor is a time and the next poll asks for what
 * is strictly newer, so a page must not end between two messages of the same time: those would never be sent.
 */
async function changedSince(conversationId: string, after: Date, limit: number): Promise<MessageDoc[]> {
  const filter = { conversationId, status: 'done' as const };
  const docs = await Message.find({ ...filter, updatedAt: { $gt: after } }).sort({ updatedAt: 1, _id: 1 }).limit(limit + 1).lean<MessageDoc[]>();
  if (docs.length <= limit) return docs;
  const cut = changedAt(docs[limit]).getTime();
  const page = docs.slice(0, limit).filter((doc) => changedAt(doc).getTime() !== cut);
  if (page.length) return page;
  // More than a page share one time: send them all at once rather than never getting past it.
  return Message.find({ ...filter, updatedAt: new Date(cut) }).sort({ _id: 1 }).lean<MessageDoc[]>();
}

/** Where the next poll starts: past a full page (more follow at once), else settled a little behind now. */
function cursorAfter(docs: MessageDoc[], pageWasFull: boolean): Date {
  const newest = changedAt(docs[docs.length - 1]);
  return pageWasFull ? newest : new Date(Math.min(newest.getTime(), Date.now() - SETTLE_MS));
}

const clientMessageIdField = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8–64 letters, digits, "-" or "_"');

/**
 * A client message id already used by another user, or for another kind of message, is refused: its stored
 * message (and replies) must never be shown to the wrong sender.
 */
async function refuseForeignReuse(userId: string, clientMessageId: string, kind: 'text' | 'image'): Promise<void> {
  const messageId = ConversationPipeline.messageId({ channel: 'miniprogram', dedupeKey: clientMessageId });
  const existing = await Message.findById(messageId).select({ userId: 1, kind: 1 }).lean<Pick<MessageDoc, 'userId' | 'kind'>>();
  if (existing && (existing.userId !== userId || existing.kind !== kind)) {
    throw conflict('client_message_id_reused', 'this clientMessageId belongs to another message; send with a new one');
  }
}

/**
 * The in-mini-program chat: send a message (idempotent by the client's message id) and poll for what arrived
 * since (agent replies, late answers). Polling reads the shared database, so it works behind a load balancer.
 */
export function miniProgramChatRoutes(deps: {
  pipeline: ConversationPipeline;
  conversations: ConversationService;
  resolveUser: ChatUserResolver;
  /** Photos in the chat; without it the image routes answer 503. */
  images?: ChatImages;
}): Router {
  const router = new Router({ prefix: '/api/mp/chat' });

  /** Runs one inbound message through the pipeline and answers with it as the chat shows it. */
  const answer = async (ctx: Context, inbound: InboundMessage) => {
    let result;
    try {
      result = await deps.pipeline.handle(inbound);
    } catch (err) {
      if (err instanceof DuplicateInProgress) throw conflict('message_in_progress', 'this message is still being answered; poll for the reply');
      throw err;
    }
    const stored = await Message.findById(result.messageId).lean<MessageDoc>();
    const conversation = await deps.conversations.get(result.conversationId);
    ctx.body = { messages: stored ? toChat(stored) : [], state: conversation?.state ?? 'bot', duplicate: result.duplicate };
  };

  router.post('/messages', async (ctx) => {
    const { userId } = await deps.resolveUser(ctx);
    const body = validate(
      z.object({
        text: z.string().trim().min(1, 'must not be empty').max(500, 'must be at most 500 characters'),
        clientMessageId: clientMessageIdField,
      }),
      ctx.request.body,
      'body',
    );
    await refuseForeignReuse(userId, body.clientMessageId, 'text');
    await answer(ctx, { channel: 'miniprogram', userId, dedupeKey: body.clientMessageId, kind: 'text', text: body.text, receivedAt: new Date() });
  });

  /**
   * A photo, sent like a claim document: JSON `{clientMessageId, contentBase64}`, the type read from the bytes.
   * It goes through the pipeline as an image message (the bot acknowledges it; in a human session the agent is told).
   */
  router.post('/images', async (ctx) => {
    const { userId } = await deps.resolveUser(ctx);
    const images = requireImages(deps.images);
    const body = validate(
      z.object({ clientMessageId: clientMessageIdField, contentBase64: documentUploadSchema.shape.contentBase64 }),
      ctx.request.body,
      'body',
    );
    await refuseForeignReuse(userId, body.clientMessageId, 'image');
    const image = await images.store(userId, body.clientMessageId, body.contentBase64);
    await answer(ctx, {
      channel: 'miniprogram', userId, dedupeKey: body.clientMessageId, kind: 'image',
      media: { id: image.imageId, url: chatImagePath(image.imageId), format: image.format }, receivedAt: new Date(),
    });
  });

  /** The sender's own photo; any other id is 404. */
  router.get('/images/:imageId', async (ctx) => {
    const { userId } = await deps.resolveUser(ctx);
    sendImage(ctx, await requireImages(deps.images).readForOwner(userId, ctx.params.imageId));
  });

  router.get('/messages', async (ctx) => {
    const { userId } = await deps.resolveUser(ctx);
    const query = validate(
      z.object({ after: pollCursorField.optional(), limit: z.coerce.number().int().min(1).max(100).default(50) }),
      ctx.query,
      'query',
    );
    const conversationId = ConversationPipeline.conversationId({ channel: 'miniprogram', userId });
    // Without a cursor: the latest history. With one: the oldest changes first, so a page never skips what lies
    // between the cursor and the newest change (the next poll goes on from this page's end).
    const docs = query.after
      ? await changedSince(conversationId, new Date(query.after), query.limit)
      : (await Message.find({ conversationId, status: 'done' }).sort({ updatedAt: -1, _id: -1 }).limit(query.limit).lean<MessageDoc[]>()).reverse();
    const messages = docs.flatMap(toChat);
    const conversation = await deps.conversations.get(conversationId);
    ctx.body = {
      messages,
      state: conversation?.state ?? 'bot',
      // The next poll asks for what changed after the newest message seen; after the last page, a few seconds earlier.
      cursor: docs.length ? cursorAfter(docs, Boolean(query.after) && docs.length >= query.limit).toISOString() : query.after ?? null,
    };
  });

  return router;
}

/** Photos customers sent in the mini-program chat, for agents and managers (`/api/staff/chat/images/:imageId`). */
export function staffChatImageRoutes(deps: { images: ChatImages; auth?: Middleware }): Router {
  const router = new Router({ prefix: '/api/staff/chat/images' });
  router.use(deps.auth ?? requireStaff('agent', 'manager'));
  router.get('/:imageId', async (ctx) => {
    sendImage(ctx, await deps.images.readForStaff(ctx.params.imageId));
  });
  return router;
}

function requireImages(images: ChatImages | undefined): ChatImages {
  if (!images) throw new HttpError(503, 'images_unavailable', 'photos cannot be sent in this chat right now');
  return images;
}

/** Private bytes: never cached by a shared proxy, never sniffed into something else by a browser. */
function sendImage(ctx: Context, file: StoredDocument): void {
  ctx.set('Cache-Control', 'private, no-store');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.type = file.contentType;
  ctx.body = file.bytes;
}

/** Mini-program users are reached through the transcript itself (UserDelivery records it); the chat page polls. */
export const miniProgramPusher: ChannelPusher = { push: async () => ({ ok: true }) };
