import { messageOf } from './errors';
import { createStore, type Store } from './store';

/** What the chat can show for one imageUrl right now. */
export type ChatImageState =
  | { status: 'loading' }
  | { status: 'ready'; src: string }
  | { status: 'failed'; message: string };

export interface ChatImagesState {
  images: Record<string, ChatImageState>;
}

/** The server's own chat photos come as paths on the API (private: they need the session token). */
export const isPrivateImageUrl = (url: string) => url.startsWith('/api/');

/**
 * Turns a message's imageUrl into something `<Image>` can show. Pictures elsewhere (a news cover) are shown as
 * they are; the user's photos on our server are downloaded once with the session token and kept as local paths.
 */
export class ChatImageLoader {
  readonly store: Store<ChatImagesState> = createStore<ChatImagesState>({ images: {} });
  /** Bumped by reset(), so a download started before a logout is dropped. */
  private generation = 0;

  constructor(private readonly download: (path: string) => Promise<string>) {}

  /** Undefined until load() was asked for a private picture. */
  stateOf(url: string): ChatImageState | undefined {
    if (!isPrivateImageUrl(url)) return { status: 'ready', src: url };
    return this.store.get().images[url];
  }

  /** A photo we just sent is already on the phone: show that file instead of downloading it back. */
  remember(url: string, localPath: string): void {
    this.put(url, { status: 'ready', src: localPath });
  }

  /** Starts loading a private picture unless it is loaded or loading; after a failure only retry() tries again. */
  async load(url: string): Promise<void> {
    if (!isPrivateImageUrl(url) || this.store.get().images[url]) return;
    await this.fetch(url);
  }

  async retry(url: string): Promise<void> {
    if (this.store.get().images[url]?.status !== 'failed') return;
    await this.fetch(url);
  }

  /** Logout: the next customer must not see these. */
  reset(): void {
    this.generation += 1;
    this.store.set({ images: {} });
  }

  private async fetch(url: string): Promise<void> {
    const generation = this.generation;
    this.put(url, { status: 'loading' });
    let outcome: ChatImageState;
    try {
      outcome = { status: 'ready', src: await this.download(url) };
    } catch (err) {
      outcome = { status: 'failed', message: messageOf(err) };
    }
    if (generation === this.generation) this.put(url, outcome);
  }

  private put(url: string, state: ChatImageState): void {
    this.store.set((s) => ({ images: { ...s.images, [url]: state } }));
  }
}
