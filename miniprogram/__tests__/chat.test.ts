import { ChatController, mergeMessages, newClientMessageId, type Timers } from '../src/services/chat';
import { ApiError } from '../src/services/errors';
import type { ChatMessage, PollChatResult, SendChatResult } from '../src/services/types';

const msg = (id: string, author: ChatMessage['author'], text: string): ChatMessage => ({ id, author, kind: 'text', text, createdAt: '2026-11-23T08:00:00.000Z' });

/** Timers we advance by hand: each scheduled poll is recorded with its delay. */
function manualTimers() {
  const scheduled: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      const entry = { fn, ms, cleared: false };
      scheduled.push(entry);
      return entry;
    },
    clearTimeout: (handle) => {
      (handle as { cleared: boolean }).cleared = true;
    },
  };
  const pending = () => scheduled.filter((s) => !s.cleared);
  return {
    timers,
    scheduled,
    delays: () => scheduled.map((s) => s.ms),
    pending,
    /** Fire the next pending timer and let its poll finish. */
    async fire(controller: ChatController) {
      const next = pending()[0];
      if (!next) throw new Error('nothing scheduled');
      next.cleared = true;
      next.fn();
      await controller.settled();
    },
  };
}

function fakeApi() {
  return {
    sendChat: jest.fn<Promise<SendChatResult>, [string, string]>(),
    pollChat: jest.fn<Promise<PollChatResult>, [string | null | undefined]>(),
    sendChatImage: jest.fn<Promise<SendChatResult>, [string, string]>(),
  };
}

describe('mergeMessages', () => {
  it('appends new ids in order and replaces known ones in place', () => {
    const merged = mergeMessages([msg('a', 'user', '1'), msg('b', 'bot', '2')], [msg('b', 'bot', '2!'), msg('c', 'agent', '3')]);
    expect(merged.map((m) => `${m.id}:${m.text}`)).toEqual(['a:1', 'b:2!', 'c:3']);
  });
});

describe('newClientMessageId', () => {
  it('matches what the server accepts and differs each time', () => {
    const ids = new Set(Array.from({ length: 50 }, newClientMessageId));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
  });
});

describe('ChatController', () => {
  it('loads the history with its cursor and conversation state', async () => {
    const api = fakeApi();
    api.pollChat.mockResolvedValue({ messages: [msg('h1', 'user', '你好'), msg('h1#0', 'bot', '您好')], state: 'human', cursor: 'c1' });
    const chat = new ChatController(api, { timers: manualTimers().timers });
    await chat.load();
    expect(api.pollChat).toHaveBeenCalledWith();
    expect(chat.store.get()).toMatchObject({ loaded: true, loading: false, state: 'human', cursor: 'c1' });
    expect(chat.store.get().messages.map((m) => m.text)).toEqual(['你好', '您好']);
  });

  it('keeps the load error for the page to show', async () => {
    const api = fakeApi();
    api.pollChat.mockRejectedValue(new ApiError(0, 'network', 'request:fail'));
    const chat = new ChatController(api);
    await expect(chat.load()).rejects.toBeInstanceOf(ApiError);
    expect(chat.store.get()).toMatchObject({ loaded: false, loadError: '网络连接失败，请检查网络后重试' });
  });

  it('shows a sent message at once, then the server\'s copy and the answer in its place', async () => {
    const api = fakeApi();
    let answer!: (r: SendChatResult) => void;
    api.sendChat.mockReturnValue(new Promise((r) => { answer = r; }));
    const chat = new ChatController(api, { newId: () => 'client-0001' });
    const sending = chat.send('  怎么报案 ');
    expect(chat.store.get().messages).toEqual([expect.objectContaining({ id: 'local:client-0001', text: '怎么报案', localStatus: 'sending' })]);
    expect(api.sendChat).toHaveBeenCalledWith('怎么报案', 'client-0001');
    answer({
      messages: [msg('m1', 'user', '怎么报案'), { ...msg('m1#0', 'bot', '请选择'), kind: 'choices', choices: [{ number: 1, label: '线上报案' }] }],
      state: 'bot',
      duplicate: false,
    });
    await sending;
    expect(chat.store.get().messages.map((m) => [m.id, m.localStatus])).toEqual([['m1', undefined], ['m1#0', undefined]]);
  });

  it('ignores blank input', async () => {
    const api = fakeApi();
    const chat = new ChatController(api);
    await chat.send('   ');
    expect(api.sendChat).not.toHaveBeenCalled();
    expect(chat.store.get().messages).toEqual([]);
  });

  it('marks a failed send, and a retry reuses the client message id', async () => {
    const api = fakeApi();
    api.sendChat.mockRejectedValueOnce(new ApiError(0, 'network', 'fail'));
    api.sendChat.mockResolvedValueOnce({ messages: [msg('m1', 'user', 'hi'), msg('m1#0', 'bot', 'hello')], state: 'bot', duplicate: true });
    const chat = new ChatController(api, { newId: () => 'client-0002' });
    await chat.send('hi');
    expect(chat.store.get().messages).toEqual([expect.objectContaining({ localStatus: 'failed', clientMessageId: 'client-0002' })]);
    await chat.retry('client-0002');
    expect(api.sendChat).toHaveBeenLastCalledWith('hi', 'client-0002');
    expect(chat.store.get().messages.map((m) => m.text)).toEqual(['hi', 'hello']);
  });

  it('drops the placeholder when the server is still answering it (the poll brings the answer)', async () => {
    const api = fakeApi();
    api.sendChat.mockRejectedValue(new ApiError(409, 'message_in_progress', 'still answering'));
    const chat = new ChatController(api);
    await chat.send('hi');
    expect(chat.store.get().messages).toEqual([]);
  });

  it('sends a chosen option as its number', async () => {
    const api = fakeApi();
    api.sendChat.mockResolvedValue({ messages: [], state: 'bot', duplicate: false });
    const chat = new ChatController(api);
    await chat.choose(2);
    expect(api.sendChat).toHaveBeenCalledWith('2', expect.any(String));
  });

  it('polls after the cursor, backs off while nothing happens, and speeds up when a reply arrives', async () => {
    const api = fakeApi();
    const clock = manualTimers();
    const chat = new ChatController(api, { timers: clock.timers, minDelayMs: 1000, maxDelayMs: 8000, factor: 2 });
    api.pollChat.mockResolvedValue({ messages: [], state: 'bot', cursor: null });
    chat.start();
    for (let i = 0; i < 5; i++) await clock.fire(chat);
    expect(clock.delays()).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);

    api.pollChat.mockResolvedValueOnce({ messages: [msg('a1', 'agent', '您好，我是人工客服小李')], state: 'human', cursor: 'c2' });
    await clock.fire(chat);
    expect(clock.delays().at(-1)).toBe(1000);
    expect(chat.store.get()).toMatchObject({ state: 'human', cursor: 'c2' });
    expect(chat.store.get().messages.map((m) => m.author)).toEqual(['agent']);
    await clock.fire(chat);
    expect(api.pollChat).toHaveBeenLastCalledWith('c2');
  });

  it('while an agent is involved, never waits longer than the agent cap', async () => {
    const api = fakeApi();
    const clock = manualTimers();
    const chat = new ChatController(api, { timers: clock.timers, minDelayMs: 1000, maxDelayMs: 30000, agentMaxDelayMs: 3000 });
    api.pollChat.mockResolvedValue({ messages: [], state: 'waiting_agent', cursor: null });
    chat.start();
    for (let i = 0; i < 5; i++) await clock.fire(chat);
    expect(Math.max(...clock.delays())).toBe(3000);
  });

  it('keeps polling after a failed poll, marked offline, and clears that on success', async () => {
    const api = fakeApi();
    const clock = manualTimers();
    const chat = new ChatController(api, { timers: clock.timers, minDelayMs: 1000 });
    api.pollChat.mockRejectedValueOnce(new ApiError(0, 'network', 'x'));
    api.pollChat.mockResolvedValue({ messages: [], state: 'bot', cursor: null });
    chat.start();
    await clock.fire(chat);
    expect(chat.store.get().offline).toBe(true);
    expect(clock.pending()).toHaveLength(1);
    await clock.fire(chat);
    expect(chat.store.get().offline).toBe(false);
  });

  it('a send resets the back-off; stop() cancels the next poll', async () => {
    const api = fakeApi();
    const clock = manualTimers();
    const chat = new ChatController(api, { timers: clock.timers, minDelayMs: 1000, factor: 2 });
    api.pollChat.mockResolvedValue({ messages: [], state: 'bot', cursor: null });
    api.sendChat.mockResolvedValue({ messages: [msg('u', 'user', 'x')], state: 'waiting_agent', duplicate: false });
    chat.start();
    await clock.fire(chat);
    await clock.fire(chat);
    expect(clock.pending()[0].ms).toBe(4000);
    await chat.send('转人工');
    expect(clock.pending()).toHaveLength(1);
    expect(clock.pending()[0].ms).toBe(1000);
    chat.stop();
    expect(clock.pending()).toHaveLength(0);
    expect(chat.isPolling).toBe(false);
  });
});

describe('ChatController.reset', () => {
  it('forgets the conversation and stops polling (logout)', async () => {
    const api = fakeApi();
    api.pollChat.mockResolvedValue({ messages: [msg('h', 'bot', 'hi')], state: 'human', cursor: 'c' });
    const clock = manualTimers();
    const chat = new ChatController(api, { timers: clock.timers });
    await chat.load();
    chat.start();
    chat.reset();
    expect(chat.store.get()).toMatchObject({ messages: [], state: 'bot', cursor: null, loaded: false });
    expect(clock.pending()).toHaveLength(0);
  });
});
