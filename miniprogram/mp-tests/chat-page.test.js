/**
 * The COMPILED 客服 page (dist/pages/chat/index) in miniprogram-simulate: it logs in with wx.login, loads the
 * history, and sending a message POSTs it and shows the bot's answer with its numbered choices.
 */
const path = require('path');
const { loadTaroPage, deepQuery, textOf, waitFor } = require('./taro-simulate');
const { fakeBackend } = require('./fake-backend');

const DIST = path.resolve(__dirname, '../dist');
const now = '2026-11-23T08:00:00.000Z';

describe('compiled weapp chat page', () => {
  let backend;
  let agentReplied = false;
  let page;

  beforeAll(async () => {
    backend = fakeBackend({
      'POST /api/mp/session': () => [201, { token: 'mps_test', expiresIn: 604800, customer: { id: 'C1' } }],
      'GET /api/mp/chat/messages': (call) => (call.query.after
        // Later polls: an agent has picked the conversation up and answers, with a picture.
        ? [200, {
          messages: agentReplied ? [
            { id: 'a1#0', author: 'agent', kind: 'text', text: '您好，我是人工客服小李，已为您查到报案进度', createdAt: now },
            { id: 'a1#1', author: 'agent', kind: 'image', text: '', imageUrl: 'https://cdn.example.com/claim-guide.png', createdAt: now },
          ] : [],
          state: agentReplied ? 'human' : 'waiting_agent',
          cursor: now,
        }]
        : [200, {
          messages: [{ id: 'h1#0', author: 'bot', kind: 'text', text: '您好，欢迎咨询安心保', createdAt: now }],
          state: 'bot',
          cursor: now,
        }]),
      'POST /api/mp/chat/messages': (call) => [200, {
        messages: [
          { id: 'u2', author: 'user', kind: 'text', text: call.data.text, createdAt: now },
          {
            id: 'u2#0', author: 'bot', kind: 'choices', text: '您想办理哪一项？',
            choices: [{ number: 1, label: '线上报案' }, { number: 2, label: '理赔进度查询' }], createdAt: now,
          },
        ],
        state: 'bot',
        duplicate: false,
      }],
    });
    wx.request = backend.request;
    wx.login = jest.fn((options) => setTimeout(() => {
      options.success?.({ code: 'wx-code-1', errMsg: 'login:ok' });
      options.complete?.({});
    }, 0));
    page = loadTaroPage(DIST, 'pages/chat/index');
  });

  it('logs in with wx.login and renders the history from the server', async () => {
    await waitFor(() => textOf(page).includes('您好，欢迎咨询安心保'));
    expect(wx.login).toHaveBeenCalled();
    const login = backend.calls.find((c) => c.path === '/api/mp/session');
    expect(login).toMatchObject({ method: 'POST', data: { code: 'wx-code-1' } });
    const history = backend.calls.find((c) => c.path === '/api/mp/chat/messages' && c.method === 'GET');
    expect(history.header.Authorization).toBe('Bearer mps_test');
    expect(backend.request.mock.calls[0][0].url).toBe('http://127.0.0.1:3000/api/mp/session');
    expect(textOf(page)).toContain('智能客服 7×24 小时在线');
  });

  it('sends a typed message and shows the answer with tappable numbered choices', async () => {
    const input = deepQuery(page, '.chat__input');
    expect(input).toBeDefined();
    input.dispatchEvent('input', { detail: { value: '我要报案' } });
    await waitFor(() => !deepQuery(page, '.chat__send--idle'));
    deepQuery(page, '.chat__send').dispatchEvent('tap');

    await waitFor(() => textOf(page).includes('您想办理哪一项？'));
    const sent = backend.calls.find((c) => c.method === 'POST' && c.path === '/api/mp/chat/messages');
    expect(sent.data).toEqual({ text: '我要报案', clientMessageId: expect.stringMatching(/^[A-Za-z0-9_-]{8,64}$/) });
    expect(sent.header.Authorization).toBe('Bearer mps_test');
    expect(textOf(page)).toContain('我要报案');
    expect(textOf(page)).toContain('线上报案');
    expect(textOf(page)).toContain('理赔进度查询');
  });

  it('sends the number of a tapped choice chip', async () => {
    const before = backend.calls.filter((c) => c.method === 'POST' && c.path === '/api/mp/chat/messages').length;
    deepQuery(page, '.choice-chip').dispatchEvent('tap');
    await waitFor(() => backend.calls.filter((c) => c.method === 'POST' && c.path === '/api/mp/chat/messages').length > before);
    const last = backend.calls.filter((c) => c.method === 'POST' && c.path === '/api/mp/chat/messages').pop();
    expect(last.data.text).toBe('1');
  });

  it('shows the queue status and then the agent\'s reply (text and picture) from polling, without a refresh', async () => {
    await waitFor(() => textOf(page).includes('正在为您转接人工客服'), { timeout: 8000 });
    agentReplied = true;
    await waitFor(() => textOf(page).includes('已为您查到报案进度'), { timeout: 8000 });
    expect(textOf(page)).toContain('人工客服已接入');
    expect(textOf(page)).toContain('人工客服');
    const polls = backend.calls.filter((c) => c.method === 'GET' && c.path === '/api/mp/chat/messages' && c.query.after);
    expect(polls[0].query.after).toBe(now);
    await waitFor(() => deepQuery(page, '.msg__image'));
  });

  afterAll(() => page.detach());
});
