import { randomBytes } from 'node:crypto';
import { jsonResponse, sleep, startLoopbackServer, type FakeRequest, type FakeResponse, type LoopbackServer } from './loopback-server';

/**
 * A local stand-in for api.weixin.qq.com (OA + mini-program) and qyapi.weixin.qq.com (WeCom), per spec §8. One
 * server answers both: point WX_API_BASE and WECOM_API_BASE at `baseUrl`. State is in memory; the clock is
 * injectable so the 48 h customer-service window can be walked.
 */

export interface FakeApp {
  appId: string;
  secret: string;
}

export interface FakeWeComApp {
  corpId: string;
  corpSecret: string;
  agentId: number;
  /** Member userids; others are reported in `invaliduser`. */
  members: string[];
}

export interface FakeWeChatApiOptions {
  apps?: FakeApp[];
  wecomApps?: FakeWeComApp[];
  /** Enforce the 48 h / 5-message rule on custom/send (§3.2). Default true. */
  enforceCustomServiceWindow?: boolean;
  /** Milliseconds; defaults to real time. Change with setClock/advanceClock. */
  startTime?: number;
  tokenLifetimeSeconds?: number;
}

export const FAKE_APP: FakeApp = { appId: 'wx2c2769f8efd9abc2', secret: 'fake-oa-secret' };
export const FAKE_MINI_PROGRAM: FakeApp = { appId: 'wx4f4bc4dec97d474b', secret: 'fake-mp-secret' };
export const FAKE_WECOM_APP: FakeWeComApp = {
  corpId: 'ww1436e0e65a779aee',
  corpSecret: 'fake-wecom-secret',
  agentId: 1000002,
  members: ['zhangsan', 'lisi'],
};

export interface SentCustomMessage {
  appId: string;
  touser: string;
  msgtype: string;
  body: Record<string, unknown>;
}
export interface SentWeComMessage {
  corpId: string;
  agentId: number;
  /** One record per delivered member. */
  touser: string;
  msgtype: string;
  body: Record<string, unknown>;
}
export interface SentRecord {
  appId: string;
  body: Record<string, unknown>;
}

export interface InjectedFailure {
  /** Only this endpoint path (e.g. '/cgi-bin/message/custom/send'); any when omitted. */
  path?: string;
  /** Only requests whose JSON body has this `touser`. */
  toUser?: string;
  errcode: number;
  errmsg?: string;
  /** How many matching calls fail (default 1). */
  times?: number;
}

interface TokenRecord {
  kind: 'oa' | 'wecom';
  /** AppID, or `${corpId}:${agentId}`. */
  owner: string;
  validUntil: number;
  /** Set by invalidateAccessTokens: what the API answers for this token from now on. */
  revokedWith?: number;
}

interface UserWindow {
  lastMessageAt?: number;
  sentSinceMessage: number;
  unsubscribed: boolean;
}

const HOUR = 3_600_000;
const CUSTOM_WINDOW_MS = 48 * HOUR;
const CUSTOM_QUOTA = 5;
const ROTATION_OVERLAP_MS = 5 * 60_000; // classic /cgi-bin/token: the old token lives 5 more minutes (§3.1)

type JsonBody = Record<string, unknown>;
const isObject = (value: unknown): value is JsonBody => typeof value === 'object' && value !== null && !Array.isArray(value);
const wxError = (errcode: number, errmsg: string) => jsonResponse(200, { errcode, errmsg });

export class FakeWeChatApi {
  readonly sent = {
    custom: [] as SentCustomMessage[],
    typing: [] as SentRecord[],
    templates: [] as SentRecord[],
    subscribe: [] as SentRecord[],
    bizsend: [] as SentRecord[],
    menus: [] as SentRecord[],
    media: [] as { appId: string; type: string; bytes: number; mediaId: string }[],
    wecom: [] as SentWeComMessage[],
  };
  /** Every request: method and path (queries hold secrets, so they are not kept). */
  readonly calls: { method: string; path: string }[] = [];
  readonly tokenIssues = { classic: 0, stable: 0, stableForced: 0, wecom: 0 };

  private server: LoopbackServer | undefined;
  private readonly apps: Map<string, FakeApp>;
  private readonly wecomApps: FakeWeComApp[];
  private readonly enforceWindow: boolean;
  private readonly tokenLifetimeMs: number;
  private clock: number | undefined;
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly stableTokens = new Map<string, string>();
  private readonly wecomTokens = new Map<string, string>();
  private readonly failures: (InjectedFailure & { remaining: number })[] = [];
  private readonly delays: { path?: string; ms: number; remaining: number }[] = [];
  private readonly users = new Map<string, UserWindow>();
  private readonly loginCodes = new Map<string, { appId?: string; openid: string; session_key: string; unionid?: string }>();
  private readonly phoneCodes = new Map<string, string>();
  private readonly media = new Map<string, Buffer>();
  private tokenCounter = 0;
  private mediaCounter = 0;
  private templateMsgId = 3717005636572528642n;

  private constructor(options: FakeWeChatApiOptions) {
    this.apps = new Map((options.apps ?? [FAKE_APP, FAKE_MINI_PROGRAM]).map((app) => [app.appId, app]));
    this.wecomApps = options.wecomApps ?? [FAKE_WECOM_APP];
    this.enforceWindow = options.enforceCustomServiceWindow ?? true;
    this.tokenLifetimeMs = (options.tokenLifetimeSeconds ?? 7200) * 1000;
    this.clock = options.startTime;
  }

  static async start(options: FakeWeChatApiOptions = {}): Promise<FakeWeChatApi> {
    const fake = new FakeWeChatApi(options);
    fake.server = await startLoopbackServer((request) => fake.handle(request));
    return fake;
  }

  get baseUrl(): string {
    if (!this.server) throw new Error('fake not started');
    return this.server.baseUrl;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }

  // ---- Test controls ----

  now(): number {
    return this.clock ?? Date.now();
  }

  setClock(ms: number): void {
    this.clock = ms;
  }

  advanceClock(ms: number): void {
    this.clock = this.now() + ms;
  }

  /** The next matching call(s) answer `{errcode, errmsg}` instead of running. */
  failNext(failure: InjectedFailure): void {
    this.failures.push({ ...failure, remaining: failure.times ?? 1 });
  }

  /** The next matching call(s) wait `ms` before answering (for timeout tests). */
  delayNext(delay: { path?: string; ms: number; times?: number }): void {
    this.delays.push({ path: delay.path, ms: delay.ms, remaining: delay.times ?? 1 });
  }

  /** The user wrote to the OA: opens the 48 h window and resets the 5-message quota (§3.2). */
  userMessaged(openid: string, atMs: number = this.now()): void {
    this.users.set(openid, { lastMessageAt: atMs, sentSinceMessage: 0, unsubscribed: false });
  }

  userUnsubscribed(openid: string): void {
    const user = this.users.get(openid) ?? { sentSinceMessage: 0, unsubscribed: false };
    this.users.set(openid, { ...user, unsubscribed: true });
  }

  /** Every token issued so far stops working: calls get `errcode` (40001 invalid, 42001 expired; WeCom 40014/42001). */
  invalidateAccessTokens(errcode = 40001): void {
    for (const record of this.tokens.values()) record.revokedWith = errcode;
  }

  /** A wx.login code for code2session; it works once. */
  addLoginCode(code: string, session: { openid: string; session_key?: string; unionid?: string; appId?: string }): void {
    this.loginCodes.set(code, {
      appId: session.appId,
      openid: session.openid,
      session_key: session.session_key ?? randomBytes(16).toString('base64'),
      unionid: session.unionid,
    });
  }

  addPhoneCode(code: string, phoneNumber: string): void {
    this.phoneCodes.set(code, phoneNumber);
  }

  // ---- Request handling ----

  private async handle(request: FakeRequest): Promise<FakeResponse> {
    this.calls.push({ method: request.method, path: request.path });
    const delay = this.take(this.delays, (d) => d.path === undefined || d.path === request.path);
    if (delay) await sleep(delay.ms);

    const route = `${request.method} ${request.path}`;
    let json: JsonBody = {};
    if (request.method === 'POST' && request.headers['content-type']?.startsWith('application/json')) {
      try {
        const parsed: unknown = JSON.parse(request.body.toString('utf8'));
        if (!isObject(parsed)) return wxError(47001, 'data format error');
        json = parsed;
      } catch {
        return wxError(47001, 'data format error');
      }
    }

    switch (route) {
      case 'GET /cgi-bin/token':
        return this.injected(request, json) ?? this.classicToken(request.query);
      case 'POST /cgi-bin/stable_token':
        return this.injected(request, json) ?? this.stableToken(json);
      case 'GET /sns/jscode2session':
        return this.injected(request, json) ?? this.code2Session(request.query);
      case 'GET /cgi-bin/gettoken':
        return this.injected(request, json) ?? this.wecomToken(request.query);
      case 'POST /__fake/user-message': {
        if (typeof json.openid !== 'string') return jsonResponse(400, { error: 'openid required' });
        this.userMessaged(json.openid);
        return jsonResponse(200, { ok: true });
      }
      default:
        break;
    }

    const handlers: Record<string, (owner: string, json: JsonBody, request: FakeRequest) => FakeResponse> = {
      'POST /cgi-bin/message/custom/send': (appId) => this.customSend(appId, json),
      'POST /cgi-bin/message/custom/typing': (appId) => this.record(this.sent.typing, appId, json, ['touser', 'command']),
      'POST /cgi-bin/message/template/send': (appId) => this.templateSend(appId, json),
      'POST /cgi-bin/message/subscribe/send': (appId) => this.record(this.sent.subscribe, appId, json, ['touser', 'template_id', 'data']),
      'POST /cgi-bin/message/subscribe/bizsend': (appId) => this.record(this.sent.bizsend, appId, json, ['touser', 'template_id', 'data']),
      'POST /cgi-bin/menu/create': (appId) => this.menuCreate(appId, json),
      'POST /cgi-bin/media/upload': (appId, _json, req) => this.mediaUpload(appId, req),
      'GET /cgi-bin/media/get': (_appId, _json, req) => this.mediaGet(req),
      'POST /wxa/business/getuserphonenumber': () => this.phoneNumber(json),
      'POST /cgi-bin/message/send': (owner) => this.wecomSend(owner, json),
    };
    const handler = handlers[route];
    if (!handler) return jsonResponse(404, { errcode: 404, errmsg: `fake has no ${route}` });

    const wecom = request.path === '/cgi-bin/message/send';
    const token = this.checkToken(request.query.get('access_token'), wecom ? 'wecom' : 'oa');
    if ('error' in token) return token.error;
    return this.injected(request, json) ?? handler(token.owner, json, request);
  }

  private take<T extends { remaining: number }>(list: T[], matches: (item: T) => boolean): T | undefined {
    const index = list.findIndex(matches);
    if (index === -1) return undefined;
    const item = list[index];
    item.remaining -= 1;
    if (item.remaining <= 0) list.splice(index, 1);
    return item;
  }

  private injected(request: FakeRequest, json: JsonBody): FakeResponse | undefined {
    const failure = this.take(
      this.failures,
      (f) => (f.path === undefined || f.path === request.path) && (f.toUser === undefined || f.toUser === json.touser),
    );
    return failure ? wxError(failure.errcode, failure.errmsg ?? `injected ${failure.errcode}`) : undefined;
  }

  private issueToken(kind: TokenRecord['kind'], owner: string): string {
    this.tokenCounter += 1;
    const token = `tok-${this.tokenCounter}`;
    this.tokens.set(token, { kind, owner, validUntil: this.now() + this.tokenLifetimeMs });
    return token;
  }

  private tokenResponse(token: string): FakeResponse {
    return jsonResponse(200, { access_token: token, expires_in: this.secondsLeft(token) });
  }

  /** Rounded up: a token issued a millisecond ago still has its whole lifetime (7200), as WeChat answers. */
  private secondsLeft(token: string): number {
    const record = this.tokens.get(token);
    return record ? Math.max(0, Math.ceil((record.validUntil - this.now()) / 1000)) : 0;
  }

  private isUsable(token: string | undefined): token is string {
    if (token === undefined) return false;
    const record = this.tokens.get(token);
    return !!record && record.revokedWith === undefined && record.validUntil > this.now();
  }

  private checkCredentials(appId: unknown, secret: unknown): FakeApp | FakeResponse {
    const app = typeof appId === 'string' ? this.apps.get(appId) : undefined;
    if (!app) return wxError(40013, 'invalid appid');
    if (secret !== app.secret) return wxError(40125, 'invalid appsecret');
    return app;
  }

  private classicToken(query: URLSearchParams): FakeResponse {
    if (query.get('grant_type') !== 'client_credential') return wxError(40002, 'invalid grant_type');
    const app = this.checkCredentials(query.get('appid'), query.get('secret'));
    if ('status' in app) return app;
    // Each call rotates: earlier tokens of this app keep working only for the overlap.
    for (const record of this.tokens.values()) {
      if (record.kind === 'oa' && record.owner === app.appId) {
        record.validUntil = Math.min(record.validUntil, this.now() + ROTATION_OVERLAP_MS);
      }
    }
    this.tokenIssues.classic += 1;
    return this.tokenResponse(this.issueToken('oa', app.appId));
  }

  private stableToken(json: JsonBody): FakeResponse {
    if (json.grant_type !== 'client_credential') return wxError(40002, 'invalid grant_type');
    const app = this.checkCredentials(json.appid, json.secret);
    if ('status' in app) return app;
    const current = this.stableTokens.get(app.appId);
    if (json.force_refresh !== true && this.isUsable(current)) return this.tokenResponse(current);
    this.tokenIssues.stable += 1;
    if (json.force_refresh === true) this.tokenIssues.stableForced += 1;
    const token = this.issueToken('oa', app.appId);
    this.stableTokens.set(app.appId, token);
    return this.tokenResponse(token);
  }

  private wecomToken(query: URLSearchParams): FakeResponse {
    const corpId = query.get('corpid');
    const apps = this.wecomApps.filter((app) => app.corpId === corpId);
    if (apps.length === 0) return wxError(40013, 'invalid corpid');
    const app = apps.find((candidate) => candidate.corpSecret === query.get('corpsecret'));
    if (!app) return wxError(40001, 'invalid secret'); // WeCom: 40001 is a wrong secret, not a bad token
    const owner = `${app.corpId}:${app.agentId}`;
    const current = this.wecomTokens.get(owner);
    let token = current;
    if (!this.isUsable(token)) {
      this.tokenIssues.wecom += 1;
      token = this.issueToken('wecom', owner);
      this.wecomTokens.set(owner, token);
    }
    return jsonResponse(200, { errcode: 0, errmsg: 'ok', access_token: token, expires_in: this.secondsLeft(token!) });
  }

  private checkToken(token: string | null, kind: TokenRecord['kind']): { owner: string } | { error: FakeResponse } {
    if (!token) return { error: wxError(41001, 'access_token missing') };
    const record = this.tokens.get(token);
    const invalid = kind === 'wecom' ? 40014 : 40001;
    if (!record || record.kind !== kind) return { error: wxError(invalid, 'invalid credential, access_token is invalid or not latest') };
    if (record.revokedWith !== undefined) return { error: wxError(record.revokedWith, 'access_token revoked by the fake') };
    if (record.validUntil <= this.now()) return { error: wxError(42001, 'access_token expired') };
    return { owner: record.owner };
  }

  private record(list: SentRecord[], appId: string, json: JsonBody, required: string[]): FakeResponse {
    if (required.some((field) => json[field] === undefined)) return wxError(47001, 'data format error');
    list.push({ appId, body: json });
    return wxError(0, 'ok');
  }

  private customSend(appId: string, json: JsonBody): FakeResponse {
    const { touser, msgtype } = json;
    if (typeof touser !== 'string' || typeof msgtype !== 'string') return wxError(47001, 'data format error');
    const content = json[msgtype];
    const valid =
      (msgtype === 'text' && isObject(content) && typeof content.content === 'string') ||
      (msgtype === 'image' && isObject(content) && typeof content.media_id === 'string') ||
      (msgtype === 'news' && isObject(content) && Array.isArray(content.articles) && content.articles.length === 1);
    if (!valid) return wxError(47001, 'data format error');
    if (this.enforceWindow) {
      const user = this.users.get(touser);
      if (user?.unsubscribed) return wxError(43004, 'require subscribe');
      if (!user?.lastMessageAt || this.now() - user.lastMessageAt > CUSTOM_WINDOW_MS) {
        return wxError(45015, 'response out of time limit or subscription is canceled');
      }
      if (user.sentSinceMessage >= CUSTOM_QUOTA) return wxError(45047, 'out of response count limit');
      user.sentSinceMessage += 1;
    }
    this.sent.custom.push({ appId, touser, msgtype, body: json });
    return wxError(0, 'ok');
  }

  private templateSend(appId: string, json: JsonBody): FakeResponse {
    if (typeof json.touser !== 'string' || typeof json.template_id !== 'string' || !isObject(json.data)) {
      return wxError(47001, 'data format error');
    }
    this.sent.templates.push({ appId, body: json });
    this.templateMsgId += 1n;
    // A bare 64-bit literal, as WeChat sends it (§0): JSON.parse alone would round it.
    return {
      status: 200,
      headers: { 'content-type': 'application/json; encoding=utf-8' },
      body: `{"errcode":0,"errmsg":"ok","msgid":${this.templateMsgId.toString()}}`,
    };
  }

  private menuCreate(appId: string, json: JsonBody): FakeResponse {
    const buttons = json.button;
    if (!Array.isArray(buttons) || buttons.length < 1 || buttons.length > 3) return wxError(40016, 'invalid button size');
    for (const button of buttons) {
      if (!isObject(button) || typeof button.name !== 'string') return wxError(40018, 'invalid button name size');
      if (Array.isArray(button.sub_button) && button.sub_button.length > 5) return wxError(40023, 'invalid sub button size');
    }
    this.sent.menus.push({ appId, body: json });
    return wxError(0, 'ok');
  }

  private mediaUpload(appId: string, request: FakeRequest): FakeResponse {
    const type = request.query.get('type') ?? '';
    if (!['image', 'voice', 'video', 'thumb'].includes(type)) return wxError(40004, 'invalid media type');
    if (!request.headers['content-type']?.startsWith('multipart/form-data') || request.body.length === 0) {
      return wxError(41005, 'media data missing');
    }
    this.mediaCounter += 1;
    const mediaId = `media-${this.mediaCounter}`;
    this.media.set(mediaId, request.body);
    this.sent.media.push({ appId, type, bytes: request.body.length, mediaId });
    return jsonResponse(200, { type, media_id: mediaId, created_at: Math.floor(this.now() / 1000) });
  }

  private mediaGet(request: FakeRequest): FakeResponse {
    const mediaId = request.query.get('media_id') ?? '';
    const bytes = this.media.get(mediaId);
    if (!bytes) return wxError(40007, 'invalid media_id');
    return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: bytes };
  }

  private code2Session(query: URLSearchParams): FakeResponse {
    if (query.get('grant_type') !== 'authorization_code') return wxError(40002, 'invalid grant_type');
    const app = this.checkCredentials(query.get('appid'), query.get('secret'));
    if ('status' in app) return app;
    const code = query.get('js_code') ?? '';
    const session = this.loginCodes.get(code);
    if (!session || (session.appId !== undefined && session.appId !== app.appId)) return wxError(40029, 'invalid code');
    this.loginCodes.delete(code); // single use
    const { appId: _appId, ...body } = session;
    return jsonResponse(200, body);
  }

  private phoneNumber(json: JsonBody): FakeResponse {
    const code = typeof json.code === 'string' ? json.code : '';
    const phone = this.phoneCodes.get(code);
    if (!phone) return wxError(40029, 'invalid code');
    this.phoneCodes.delete(code);
    return jsonResponse(200, {
      errcode: 0,
      errmsg: 'ok',
      phone_info: { phoneNumber: phone, purePhoneNumber: phone, countryCode: 86, watermark: { timestamp: Math.floor(this.now() / 1000), appid: '' } },
    });
  }

  private wecomSend(owner: string, json: JsonBody): FakeResponse {
    const app = this.wecomApps.find((candidate) => `${candidate.corpId}:${candidate.agentId}` === owner);
    if (!app) return wxError(40014, 'invalid access_token');
    if (json.agentid !== app.agentId) return wxError(40056, 'invalid agentid');
    const { msgtype } = json;
    if (typeof msgtype !== 'string' || !isObject(json[msgtype])) return wxError(47001, 'data format error');
    const requested = typeof json.touser === 'string' && json.touser !== '' ? json.touser.split('|') : [];
    const everyone = requested.includes('@all');
    const recipients = everyone ? app.members : requested.filter((user) => app.members.includes(user));
    const invalid = everyone ? [] : requested.filter((user) => !app.members.includes(user));
    const hasOtherTargets = (typeof json.toparty === 'string' && json.toparty !== '') || (typeof json.totag === 'string' && json.totag !== '');
    if (recipients.length === 0 && !hasOtherTargets) return wxError(81013, 'user & party & tag all invalid');
    for (const touser of recipients) this.sent.wecom.push({ corpId: app.corpId, agentId: app.agentId, touser, msgtype, body: json });
    return jsonResponse(200, {
      errcode: 0,
      errmsg: 'ok',
      invaliduser: invalid.map((user) => user.toLowerCase()).join('|'),
      invalidparty: '',
      invalidtag: '',
      unlicenseduser: '',
      msgid: `wecom-msg-${this.sent.wecom.length}`,
      response_code: 'fake-response-code',
    });
  }
}
