import type { ApiClient } from './api';
import type { ChatImageLoader } from './chat-images';
import { ApiError, messageOf } from './errors';
import { readAsBase64, type PickedImage } from './files';
import { createStore, type Store } from './store';
import type { ChatMessage, ConversationState } from './types';

/** A message on screen: what the server has, plus our own not-yet-confirmed sends. */
export interface ChatItem extends ChatMessage {
  /**
   * Only on the user's own messages before the server has them: 'failed' may be sent again, 'rejected' was
   * refused for what it is (a photo too large, not a picture) and can only be removed.
   */
  localStatus?: 'sending' | 'failed' | 'rejected';
  /** Why a send failed or was refused, in the customer's words. */
  localError?: string;
  clientMessageId?: string;
  /** A photo being sent: the picked file, read again on a resend. */
  localImage?: PickedImage;
}

export interface ChatState {
  messages: ChatItem[];
  state: ConversationState;
  cursor: string | null;
  loaded: boolean;
  loading: boolean;
  loadError?: string;
  /** The last poll failed; shown as a quiet hint while polling keeps trying. */
  offline: boolean;
  /** Milliseconds until the next poll (exposed for tests and the status line). */
  pollDelayMs: number;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ChatOptions {
  timers?: Timers;
  /** First and fastest poll interval. */
  minDelayMs?: number;
  /** Slowest interval while the bot is answering (nothing expected). */
  maxDelayMs?: number;
  /** Slowest interval while waiting for or talking to an agent (a reply may come any moment). */
  agentMaxDelayMs?: number;
  factor?: number;
  newId?: () => string;
  /** The picked photo's bytes as base64 (services/files.ts by default). */
  readImage?: (image: PickedImage) => Promise<string>;
  /** Told about photos we send, so they show from the phone instead of being downloaded back. */
  images?: Pick<ChatImageLoader, 'remember' | 'reset'>;
}

type ChatApi = Pick<ApiClient, 'sendChat' | 'pollChat' | 'sendChatImage'>;

/** Refusals a resend cannot fix: the request itself is wrong (bad or too large photo). */
const isRejection = (err: unknown) => err instanceof ApiError && [400, 413, 415].includes(err.status);

/** In the chat only photos are sent: say so, rather than the claim-document wording. */
const PHOTO_ERRORS: Record<string, string> = {
  document_too_large: '图片太大，请换一张较小的图片',
  payload_too_large: '图片太大，请换一张较小的图片',
  unsupported_document_type: '只能发送 JPG、PNG 或 WebP 格式的图片',
  empty_document: '图片是空的，请重新选择',
};

function failureOf(err: unknown, photo: boolean): string {
  return (photo && err instanceof ApiError && PHOTO_ERRORS[err.code]) || messageOf(err);
}

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** 8–64 of [A-Za-z0-9_-], as the server requires; the same id on a resend makes the resend harmless. */
export function newClientMessageId(): string {
  const random = Math.random().toString(36).slice(2, 10).padEnd(8, '0');
  return `m${Date.now().toString(36)}${random}`;
}

/** Replace messages we already show (same id), append the rest in the order given. */
export function mergeMessages(existing: ChatItem[], incoming: ChatMessage[]): ChatItem[] {
  if (!incoming.length) return existing;
  const result = existing.slice();
  const index = new Map(result.map((m, i) => [m.id, i]));
  for (const message of incoming) {
    const at = index.get(message.id);
    if (at === undefined) {
      index.set(message.id, result.length);
      result.push(message);
    } else {
      result[at] = message;
    }
  }
  return result;
}

export const initialChatState = (): ChatState => ({
  messages: [],
  state: 'bot',
  cursor: null,
  loaded: false,
  loading: false,
  offline: false,
  pollDelayMs: 0,
});

/**
 * The 客服 conversation: history, sending (optimistic, idempotent by client message id), and polling for what
 * arrives later (agent replies). Polling reads the shared database through any server instance, so it works
 * behind a load balancer; it backs off while nothing happens and speeds up after a send or a new message.
 */
export class ChatController {
  readonly store: Store<ChatState>;
  private readonly timers: Timers;
  private readonly minDelay: number;
  private readonly maxDelay: number;
  private readonly agentMaxDelay: number;
  private readonly factor: number;
  private readonly newId: () => string;
  private readonly readImage: (image: PickedImage) => Promise<string>;
  private readonly images?: Pick<ChatImageLoader, 'remember' | 'reset'>;
  private timer: unknown;
  private running = false;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly api: ChatApi,
    options: ChatOptions = {},
  ) {
    this.timers = options.timers ?? defaultTimers;
    this.minDelay = options.minDelayMs ?? 2_000;
    this.maxDelay = options.maxDelayMs ?? 30_000;
    this.agentMaxDelay = options.agentMaxDelayMs ?? 5_000;
    this.factor = options.factor ?? 2;
    this.newId = options.newId ?? newClientMessageId;
    this.readImage = options.readImage ?? readAsBase64;
    this.images = options.images;
    this.store = createStore(initialChatState());
  }

  /** The history (last 50 messages), once; later calls reload it. */
  async load(): Promise<void> {
    this.store.set({ loading: true, loadError: undefined });
    try {
      const result = await this.api.pollChat();
      this.store.set((s) => ({
        messages: mergeMessages(s.messages, result.messages),
        state: result.state,
        cursor: result.cursor ?? s.cursor,
        loaded: true,
        loading: false,
        offline: false,
      }));
    } catch (err) {
      this.store.set({ loading: false, loadError: messageOf(err) });
      throw err;
    }
  }

  async send(text: string): Promise<void> {
    const trimmed = text.trim();
    if (!trimmed) return;
    const clientMessageId = this.newId();
    const local: ChatItem = {
      id: `local:${clientMessageId}`,
      author: 'user',
      kind: 'text',
      text: trimmed.slice(0, 500),
      createdAt: new Date().toISOString(),
      localStatus: 'sending',
      clientMessageId,
    };
    this.store.set((s) => ({ messages: [...s.messages, local] }));
    await this.deliver(local);
  }

  /** A picked photo: shown at once from the phone, then uploaded (idempotent by client message id like text). */
  async sendImage(image: PickedImage): Promise<void> {
    const clientMessageId = this.newId();
    const local: ChatItem = {
      id: `local:${clientMessageId}`,
      author: 'user',
      kind: 'image',
      text: '',
      imageUrl: image.path,
      createdAt: new Date().toISOString(),
      localStatus: 'sending',
      clientMessageId,
      localImage: image,
    };
    this.store.set((s) => ({ messages: [...s.messages, local] }));
    await this.deliver(local);
  }

  /** Resend a failed message with the same client id (the server answers it once). */
  async retry(clientMessageId: string): Promise<void> {
    const item = this.store.get().messages.find((m) => m.clientMessageId === clientMessageId && m.localStatus === 'failed');
    if (!item) return;
    const sending: ChatItem = { ...item, localStatus: 'sending', localError: undefined };
    this.replaceLocal(clientMessageId, [sending]);
    await this.deliver(sending);
  }

  /** Take a refused or failed message off the screen (it never reached the server). */
  dismiss(clientMessageId: string): void {
    this.store.set((s) => ({
      messages: s.messages.filter((m) => m.clientMessageId !== clientMessageId || !m.localStatus || m.localStatus === 'sending'),
    }));
  }

  /** A numbered choice chip: the server expects the number as the text. */
  choose(number: number): Promise<void> {
    return this.send(String(number));
  }

  private async deliver(local: ChatItem): Promise<void> {
    const clientMessageId = local.clientMessageId!;
    try {
      const result = local.localImage
        ? await this.api.sendChatImage(await this.readImage(local.localImage), clientMessageId)
        : await this.api.sendChat(local.text, clientMessageId);
      if (local.localImage) {
        const own = result.messages.find((m) => m.author === 'user' && m.imageUrl);
        if (own?.imageUrl) this.images?.remember(own.imageUrl, local.localImage.path);
      }
      this.store.set((s) => {
        const without = s.messages.filter((m) => m.clientMessageId !== clientMessageId || !m.localStatus);
        const position = s.messages.findIndex((m) => m.clientMessageId === clientMessageId && m.localStatus);
        const known = new Set(without.map((m) => m.id));
        const fresh = result.messages.filter((m) => !known.has(m.id));
        const replaced = mergeMessages(without, result.messages.filter((m) => known.has(m.id)));
        const at = position < 0 ? replaced.length : Math.min(position, replaced.length);
        return { messages: [...replaced.slice(0, at), ...fresh, ...replaced.slice(at)], state: result.state };
      });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'message_in_progress') {
        // Still being answered (e.g. a resend after a timeout): the poll brings the answer.
        this.replaceLocal(clientMessageId, []);
      } else {
        this.replaceLocal(clientMessageId, [{ ...local, localStatus: isRejection(err) ? 'rejected' : 'failed', localError: failureOf(err, Boolean(local.localImage)) }]);
      }
    }
    this.speedUp();
  }

  private replaceLocal(clientMessageId: string, replacement: ChatItem[]): void {
    this.store.set((s) => {
      const at = s.messages.findIndex((m) => m.clientMessageId === clientMessageId && m.localStatus);
      if (at < 0) return { messages: [...s.messages, ...replacement] };
      return { messages: [...s.messages.slice(0, at), ...replacement, ...s.messages.slice(at + 1)] };
    });
  }

  /** One poll: what changed after the cursor. Returns whether anything new arrived. */
  async pollOnce(): Promise<boolean> {
    const before = this.store.get();
    const result = await this.api.pollChat(before.cursor);
    const known = new Set(this.store.get().messages.map((m) => m.id));
    const fresh = result.messages.filter((m) => !known.has(m.id));
    this.store.set((s) => ({
      messages: mergeMessages(s.messages, result.messages),
      state: result.state,
      cursor: result.cursor ?? s.cursor,
      offline: false,
    }));
    return fresh.length > 0 || result.state !== before.state;
  }

  /** Start polling (the chat page is on screen). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(this.minDelay);
  }

  /** Stop polling (the page is hidden or closed). */
  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Forget the conversation (logout): another customer may log in next. */
  reset(): void {
    this.stop();
    this.store.set(initialChatState());
    this.images?.reset();
  }

  get isPolling(): boolean {
    return this.running;
  }

  /** Wait for a poll in progress (tests). */
  settled(): Promise<void> {
    return this.polling ?? Promise.resolve();
  }

  private speedUp(): void {
    if (this.running) this.schedule(this.minDelay);
  }

  private schedule(delayMs: number): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.store.set({ pollDelayMs: delayMs });
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.polling = this.tick().finally(() => {
        this.polling = undefined;
      });
    }, delayMs);
  }

  private async tick(): Promise<void> {
    let next: number;
    const current = this.store.get().pollDelayMs || this.minDelay;
    try {
      const changed = await this.pollOnce();
      const cap = this.store.get().state === 'bot' ? this.maxDelay : this.agentMaxDelay;
      next = changed ? this.minDelay : Math.min(Math.max(current, this.minDelay) * this.factor, cap);
    } catch {
      this.store.set({ offline: true });
      next = Math.min(Math.max(current, this.minDelay) * this.factor, this.maxDelay);
    }
    // A send during the poll has already scheduled a fast poll: keep it.
    if (this.running && this.timer === undefined) this.schedule(next);
  }
}
