/**
 * The COMPILED 客服 page (dist/pages/chat/index) in miniprogram-simulate: it logs in with wx.login, loads the
 * history (the user's own photo downloaded with the session token), sending a message POSTs it and shows the
 * bot's answer with its numbered choices, and a picked photo is uploaded and shown.
 */
const path = require('path');
const { loadTaroPage, deepQuery, textOf, waitFor } = require('./taro-simulate');
const { fakeBackend } = require('./fake-backend');

const DIST = path.resolve(__dirname, '../dist');
const now = '2026-11-23T08:00:00.000Z';
const OWN_PHOTO = '/api/mp/chat/images/img_0123456789abcdef0123456789abcdef';
const SENT_PHOTO = '/api/mp/chat/images/img_fedcba9876543210fedcba9876543210';

/**
 * The src of every rendered chat picture, in order. The simulator's built-in <image> keeps no src attribute, so
 * this reads Taro's render data (attribute names there are minified, hence "any value that looks like a URL").
 */
function imageSources(page) {
  const sources = [];
  const visit = (node) => {
    if (!node || typeof node !== 'object') return;
    if (typeof node.cl === 'string' && node.cl.split(/\s+/).includes('msg__image')) {
      sources.push(...Object.values(node).filter((value) => typeof value === 'string' && /^(https?|wxfile):/.test(value)));
    }
    for (const child of node.cn || []) visit(child);
  };
  visit(page.instance.data.root);
  return sources;
}

/**
 * The scroll-top Taro renders on the message list (minified attribute name: the one value past any real height).
 * The page keeps the newest message in view by scrolling past the end, one more each time so that it scrolls again.
 */
function listScrollTop(page) {
  let found;
  const visit = (node) => {
    if (!node || typeof node !== 'object') return;
    if (typeof node.cl === 'string' && node.cl.split(/\s+/).includes('chat__list')) {
      found = Object.values(node).map(Number).find((value) => value >= 1_000_000);
    }
    for (const child of node.cn || []) visit(child);
  };
  visit(page.instance.data.root);
  return found;
}

describe('compiled weapp chat page', () => {
  let backend;
  let agentReplied = false;
  let page;
  let scrolledTo;

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
          messages: [
            { id: 'h0', author: 'user', kind: 'image', text: '', imageUrl: OWN_PHOTO, createdAt: now },
            { id: 'h1#0', author: 'bot', kind: 'text', text: '您好，欢迎咨询安心保', createdAt: now },
          ],
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
      'POST /api/mp/chat/images': (call) => [200, {
        messages: [
          { id: `miniprogram:${call.data.clientMessageId}`, author: 'user', kind: 'image', text: '', imageUrl: SENT_PHOTO, createdAt: now },
          { id: `miniprogram:${call.data.clientMessageId}#0`, author: 'bot', kind: 'text', text: '收到您的图片。', createdAt: now },
        ],
        state: 'bot',
        duplicate: false,
      }],
    });
    wx.request = backend.request;
    // The user's photos are private: fetched with the session header into a temp file <Image> can show.
    wx.downloadFile = jest.fn((options) => {
      setTimeout(() => {
        options.success?.({ statusCode: 200, tempFilePath: 'http://tmp/downloaded-own-photo.png', errMsg: 'downloadFile:ok' });
        options.complete?.({});
      }, 0);
      return { abort() {}, onProgressUpdate() {}, offProgressUpdate() {}, onHeadersReceived() {}, offHeadersReceived() {} };
    });
    wx.chooseImage = jest.fn((options) => setTimeout(() => {
      options.success?.({ tempFilePaths: ['http://tmp/picked-photo.jpg'], tempFiles: [{ path: 'http://tmp/picked-photo.jpg', size: 2048 }], errMsg: 'chooseImage:ok' });
      options.complete?.({});
    }, 0));
    wx.getFileSystemManager = jest.fn(() => ({ readFileSync: jest.fn(() => 'iVBORw0KGgoAAAANSUhEUg==') }));
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

  it('opens at the newest message, and follows each new one', async () => {
    // scroll-into-view ran once, before the history was laid out, and opened the chat in the middle of it.
    await waitFor(() => listScrollTop(page) > 1_000_000);
    const first = listScrollTop(page);
    scrolledTo = first;
    expect(first).toBeGreaterThanOrEqual(1_000_000);
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
    // The answers arrived: the list scrolled to the bottom again (a new value, so the scroll view moves).
    await waitFor(() => listScrollTop(page) > scrolledTo);
  });

  it('shows the user\'s own photo from the history, downloaded with the session token', async () => {
    await waitFor(() => imageSources(page).includes('http://tmp/downloaded-own-photo.png'));
    expect(wx.downloadFile).toHaveBeenCalledTimes(1);
    const [download] = wx.downloadFile.mock.calls[0];
    expect(download.url).toBe(`http://127.0.0.1:3000${OWN_PHOTO}`);
    expect(download.header.Authorization).toBe('Bearer mps_test');
  });

  it('picks a photo with the 图片 button, uploads it and shows it with the bot\'s acknowledgement', async () => {
    const button = deepQuery(page, '.chat__photo');
    expect(button).toBeDefined();
    expect(textOf(page)).toContain('图片');
    button.dispatchEvent('tap');

    await waitFor(() => textOf(page).includes('收到您的图片。'));
    expect(wx.chooseImage).toHaveBeenCalledWith(expect.objectContaining({ count: 1, sizeType: ['compressed'] }));
    const upload = backend.calls.find((c) => c.method === 'POST' && c.path === '/api/mp/chat/images');
    expect(upload.data).toEqual({ clientMessageId: expect.stringMatching(/^[A-Za-z0-9_-]{8,64}$/), contentBase64: 'iVBORw0KGgoAAAANSUhEUg==' });
    expect(upload.header.Authorization).toBe('Bearer mps_test');
    // Our own photo is shown from the phone, not downloaded back.
    expect(imageSources(page)).toContain('http://tmp/picked-photo.jpg');
    expect(wx.downloadFile).toHaveBeenCalledTimes(1);
  });

  it('shows the queue status and then the agent\'s reply (text and picture) from polling, without a refresh', async () => {
    await waitFor(() => textOf(page).includes('正在为您转接人工客服'), { timeout: 8000 });
    agentReplied = true;
    await waitFor(() => textOf(page).includes('已为您查到报案进度'), { timeout: 8000 });
    expect(textOf(page)).toContain('人工客服已接入');
    expect(textOf(page)).toContain('人工客服');
    const polls = backend.calls.filter((c) => c.method === 'GET' && c.path === '/api/mp/chat/messages' && c.query.after);
    expect(polls[0].query.after).toBe(now);
    await waitFor(() => imageSources(page).includes('https://cdn.example.com/claim-guide.png'));
  });

  afterAll(() => page.detach());
});
