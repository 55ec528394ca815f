import { z } from 'zod';
import { AccessTokenCache, type AccessTokenProvider, type FetchedAccessToken } from './access-token';

/**
 * HTTP client for WeChat's errcode-style JSON APIs (OA, mini-program, WeCom share the envelope, spec §0), and the
 * OA / mini-program endpoints this service uses (§3, §4.1). Every call has a timeout; the base URL is configurable
 * so tests (and any proxy) can stand in for api.weixin.qq.com.
 */

export const DEFAULT_WECHAT_API_TIMEOUT_MS = 5_000;

/** errcodes this codebase acts on. */
export const WeChatErrcode = {
  SystemBusy: -1,
  InvalidCredential: 40001,
  InvalidOpenId: 40003,
  InvalidAppId: 40013,
  InvalidAccessToken: 40014,
  InvalidCode: 40029,
  InvalidAppSecret: 40125,
  CodeBeenUsed: 40163,
  IpNotWhitelisted: 40164,
  AccessTokenExpired: 42001,
  RequireSubscribe: 43004,
  UserRefusedSubscribeMessage: 43101,
  ResponseOutOfTimeLimit: 45015,
  OutOfResponseCountLimit: 45047,
  ApiUnauthorized: 48001,
  WeComAllRecipientsInvalid: 81013,
} as const;

/** OA / mini-program: these mean "get a new access_token and retry once" (§3.1). */
export const OFFICIAL_ACCOUNT_TOKEN_ERRCODES: ReadonlySet<number> = new Set([
  WeChatErrcode.InvalidCredential,
  WeChatErrcode.InvalidAccessToken,
  WeChatErrcode.AccessTokenExpired,
]);

/** WeChat answered with a non-zero errcode. `endpoint` is the path only: queries carry secrets and tokens. */
export class WeChatApiError extends Error {
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
    readonly endpoint: string,
  ) {
    super(`WeChat API ${endpoint} failed with errcode ${errcode}`);
    this.name = 'WeChatApiError';
  }
}

export type WeChatTransportErrorCode = 'timeout' | 'network' | 'http_status' | 'invalid_response';

/** The call did not produce a WeChat answer: timeout, connection failure, non-2xx status or unreadable body. */
export class WeChatTransportError extends Error {
  constructor(
    readonly code: WeChatTransportErrorCode,
    readonly endpoint: string,
    readonly status?: number,
  ) {
    super(`WeChat API ${endpoint}: ${code}${status === undefined ? '' : ` (HTTP ${status})`}`);
    this.name = 'WeChatTransportError';
  }
}

export function isWeChatErrcode(error: unknown, ...errcodes: number[]): error is WeChatApiError {
  return error instanceof WeChatApiError && errcodes.includes(error.errcode);
}

/** 45015: the user's 48 h window closed; a customer-service message can no longer reach them (§3.2). */
export const isCustomServiceWindowClosed = (error: unknown) =>
  isWeChatErrcode(error, WeChatErrcode.ResponseOutOfTimeLimit);
/** 45047: the 5 messages per user message are used up; wait until the user writes again (§3.2). */
export const isCustomServiceQuotaExhausted = (error: unknown) =>
  isWeChatErrcode(error, WeChatErrcode.OutOfResponseCountLimit);

export type JsonObject = { [key: string]: unknown };
export type QueryParams = Record<string, string | number | undefined>;

/**
 * JSON.parse, except that 64-bit ids WeChat sends as bare numbers (`"msgid":3717005636572528642`) are read as
 * strings (§0). Only exact keys are rewritten; an unescaped `"msgid"` can only be a key, never inside a string.
 */
export function parseJsonKeepingIds(text: string, idKeys: readonly string[] = ['msgid']): unknown {
  let quoted = text;
  for (const key of idKeys) {
    quoted = quoted.replace(new RegExp(`("${key}"\\s*:\\s*)(-?\\d+)`, 'g'), '$1"$2"');
  }
  return JSON.parse(quoted);
}

export interface WeChatHttpClientOptions {
  /** e.g. https://api.weixin.qq.com (OA / mini-program) or https://qyapi.weixin.qq.com (WeCom). */
  baseUrl: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Tries for errcode -1 (system busy) on calls marked idempotent (§3.1: backoff, at most 3 tries). */
  busyAttempts?: number;
  busyBackoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface CallOptions {
  /** Safe to repeat on errcode -1. Leave false for sends: a "busy" send may still have been delivered. */
  idempotent?: boolean;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class WeChatHttpClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly busyAttempts: number;
  private readonly busyBackoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: WeChatHttpClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_WECHAT_API_TIMEOUT_MS;
    this.fetchImpl = options.fetch ?? fetch;
    this.busyAttempts = Math.max(1, options.busyAttempts ?? 3);
    this.busyBackoffMs = options.busyBackoffMs ?? 200;
    this.sleep = options.sleep ?? defaultSleep;
  }

  get(path: string, query: QueryParams, options: CallOptions = {}): Promise<JsonObject> {
    return this.call(path, query, { method: 'GET' }, options);
  }

  post(path: string, query: QueryParams, body: unknown, options: CallOptions = {}): Promise<JsonObject> {
    return this.call(
      path,
      query,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
      options,
    );
  }

  /** multipart/form-data upload (media). */
  postForm(path: string, query: QueryParams, form: FormData, options: CallOptions = {}): Promise<JsonObject> {
    return this.call(path, query, { method: 'POST', body: form }, options);
  }

  private async call(path: string, query: QueryParams, init: RequestInit, options: CallOptions): Promise<JsonObject> {
    const attempts = options.idempotent ? this.busyAttempts : 1;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.once(path, query, init);
      } catch (error) {
        if (attempt >= attempts || !isWeChatErrcode(error, WeChatErrcode.SystemBusy)) throw error;
        await this.sleep(this.busyBackoffMs * 2 ** (attempt - 1));
      }
    }
  }

  private async once(path: string, query: QueryParams, init: RequestInit): Promise<JsonObject> {
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    let text: string;
    let status: number;
    // The signal also bounds reading the body, not only the headers.
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const response = await this.fetchImpl(url, { ...init, signal });
      status = response.status;
      text = await response.text();
    } catch {
      // Ask the signal rather than the error: fetch's DOMException is not an Error of this realm under test runners.
      throw new WeChatTransportError(signal.aborted ? 'timeout' : 'network', path);
    }
    if (status < 200 || status > 299) throw new WeChatTransportError('http_status', path, status);
    let parsed: unknown;
    try {
      parsed = parseJsonKeepingIds(text);
    } catch {
      throw new WeChatTransportError('invalid_response', path, status);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new WeChatTransportError('invalid_response', path, status);
    }
    const body = parsed as JsonObject;
    // Absent errcode or 0 is success (§0).
    if (body.errcode !== undefined && body.errcode !== 0) {
      const errcode = typeof body.errcode === 'number' ? body.errcode : Number(body.errcode);
      if (!Number.isInteger(errcode)) throw new WeChatTransportError('invalid_response', path, status);
      throw new WeChatApiError(errcode, typeof body.errmsg === 'string' ? body.errmsg : '', path);
    }
    return body;
  }
}

/** Validates a success body; a body WeChat would never send is a transport problem, not a crash later. */
export function readResponse<T>(schema: z.ZodType<T>, body: JsonObject, endpoint: string): T {
  const result = schema.safeParse(body);
  if (!result.success) throw new WeChatTransportError('invalid_response', endpoint);
  return result.data;
}

const accessTokenResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().int().positive(),
});

export function toFetchedAccessToken(body: JsonObject, endpoint: string): FetchedAccessToken {
  const parsed = readResponse(accessTokenResponse, body, endpoint);
  return { accessToken: parsed.access_token, expiresInSeconds: parsed.expires_in };
}

// ---- Message shapes (§3.2–§3.4, §4.3) ----

interface CustomMessageBase {
  /** OpenID under this app. */
  toUser: string;
  /** Send as a named 客服 account, e.g. "test1@kftest". */
  kfAccount?: string;
}
export type CustomServiceMessage = CustomMessageBase &
  (
    | { type: 'text'; content: string }
    | { type: 'image'; mediaId: string }
    | { type: 'news'; article: { title: string; description: string; url: string; picUrl: string } }
  );

/** The wire JSON of `message/custom/send` (§3.2). */
export function customServiceMessageBody(message: CustomServiceMessage): JsonObject {
  const body: JsonObject = { touser: message.toUser, msgtype: message.type };
  switch (message.type) {
    case 'text':
      body.text = { content: message.content };
      break;
    case 'image':
      body.image = { media_id: message.mediaId };
      break;
    case 'news': {
      const { title, description, url, picUrl } = message.article;
      body.news = { articles: [{ title, description, url, picurl: picUrl }] };
      break;
    }
  }
  if (message.kfAccount !== undefined) body.customservice = { kf_account: message.kfAccount };
  return body;
}

export type MenuButton =
  | { name: string; type: 'click'; key: string }
  | { name: string; type: 'view'; url: string }
  | { name: string; type: 'miniprogram'; url: string; appid: string; pagepath: string }
  | { name: string; sub_button: MenuButton[] };
export interface MenuDefinition {
  button: MenuButton[];
}

/** Keyword values, e.g. { thing1: '车险续保提醒', time2: '2024-05-01 10:00' }. */
export type TemplateData = Record<string, string>;
const wireData = (data: TemplateData) =>
  Object.fromEntries(Object.entries(data).map(([keyword, value]) => [keyword, { value }]));

export interface TemplateMessage {
  toUser: string;
  templateId: string;
  url?: string;
  miniProgram?: { appId: string; pagePath: string };
  /** WeChat de-duplicates sends with the same id. */
  clientMsgId?: string;
  data: TemplateData;
}

export interface OfficialAccountSubscribeNotice {
  toUser: string;
  templateId: string;
  page?: string;
  miniProgram?: { appId: string; pagePath: string };
  data: TemplateData;
}

export interface MiniProgramSubscribeMessage {
  toUser: string;
  templateId: string;
  page?: string;
  miniProgramState?: 'developer' | 'trial' | 'formal';
  lang?: 'zh_CN' | 'en_US' | 'zh_HK' | 'zh_TW';
  data: TemplateData;
}

export interface MiniProgramSession {
  openId: string;
  /** Never send to the client (§4.1). */
  sessionKey: string;
  unionId?: string;
}

const sendResult = z.object({ msgid: z.string().optional() });
const code2SessionResponse = z.object({
  openid: z.string().min(1),
  session_key: z.string().min(1),
  unionid: z.string().min(1).optional(),
});
const mediaUploadResponse = z.object({ type: z.string(), media_id: z.string().min(1), created_at: z.number() });

export interface WeChatAppApiOptions {
  http: WeChatHttpClient;
  appId: string;
  appSecret: string;
  /** Defaults to a MongoDB-shared AccessTokenCache filled from the stable-token endpoint. */
  accessTokens?: AccessTokenProvider;
}

/** Server APIs of one Official Account or mini-program (one AppID). */
export class WeChatAppApi {
  readonly appId: string;
  readonly accessTokens: AccessTokenProvider;
  private readonly http: WeChatHttpClient;
  private readonly appSecret: string;

  constructor(options: WeChatAppApiOptions) {
    this.http = options.http;
    this.appId = options.appId;
    this.appSecret = options.appSecret;
    this.accessTokens =
      options.accessTokens ??
      new AccessTokenCache({
        key: options.appId,
        // The stable endpoint is recommended (§3.1): concurrent fetches by several instances get the same token.
        fetchToken: ({ forceRefresh }) => this.fetchStableAccessToken(forceRefresh),
        isTokenError: (error) => isWeChatErrcode(error, ...OFFICIAL_ACCOUNT_TOKEN_ERRCODES),
      });
  }

  /** Classic `GET /cgi-bin/token`. Every call rotates the token; prefer the stable endpoint. */
  async fetchAccessToken(): Promise<FetchedAccessToken> {
    const path = '/cgi-bin/token';
    const body = await this.http.get(
      path,
      { grant_type: 'client_credential', appid: this.appId, secret: this.appSecret },
      { idempotent: true },
    );
    return toFetchedAccessToken(body, path);
  }

  /** `POST /cgi-bin/stable_token`. `forceRefresh` is limited to 20 a day, 30 s apart. */
  async fetchStableAccessToken(forceRefresh = false): Promise<FetchedAccessToken> {
    const path = '/cgi-bin/stable_token';
    const body = await this.http.post(
      path,
      {},
      { grant_type: 'client_credential', appid: this.appId, secret: this.appSecret, force_refresh: forceRefresh },
      { idempotent: true },
    );
    return toFetchedAccessToken(body, path);
  }

  /** Throws WeChatApiError 45015 / 45047 / 43004 … (see isCustomServiceWindowClosed, isCustomServiceQuotaExhausted). */
  async sendCustomMessage(message: CustomServiceMessage): Promise<void> {
    await this.postWithToken('/cgi-bin/message/custom/send', customServiceMessageBody(message));
  }

  /** Shows or hides "typing…" for the user. */
  async setTyping(openId: string, typing: boolean): Promise<void> {
    await this.postWithToken('/cgi-bin/message/custom/typing', {
      touser: openId,
      command: typing ? 'Typing' : 'CancelTyping',
    });
  }

  async createMenu(menu: MenuDefinition): Promise<void> {
    await this.postWithToken('/cgi-bin/menu/create', menu, { idempotent: true });
  }

  /** Service-account template message (§3.3). `msgId` is a 64-bit id, kept as a string. */
  async sendTemplateMessage(message: TemplateMessage): Promise<{ msgId?: string }> {
    const path = '/cgi-bin/message/template/send';
    const body = await this.postWithToken(path, {
      touser: message.toUser,
      template_id: message.templateId,
      ...(message.url !== undefined && { url: message.url }),
      ...(message.miniProgram && {
        miniprogram: { appid: message.miniProgram.appId, pagepath: message.miniProgram.pagePath },
      }),
      ...(message.clientMsgId !== undefined && { client_msg_id: message.clientMsgId }),
      data: wireData(message.data),
    });
    return { msgId: readResponse(sendResult, body, path).msgid };
  }

  /** OA subscription notice, `subscribe/bizsend` (§3.4). */
  async sendSubscribeNotice(message: OfficialAccountSubscribeNotice): Promise<void> {
    await this.postWithToken('/cgi-bin/message/subscribe/bizsend', {
      touser: message.toUser,
      template_id: message.templateId,
      ...(message.page !== undefined && { page: message.page }),
      ...(message.miniProgram && {
        miniprogram: { appid: message.miniProgram.appId, pagepath: message.miniProgram.pagePath },
      }),
      data: wireData(message.data),
    });
  }

  /** Mini-program subscription message, `subscribe/send` (§4.3); 43101 when the user has no acceptance left. */
  async sendMiniProgramSubscribeMessage(message: MiniProgramSubscribeMessage): Promise<{ msgId?: string }> {
    const path = '/cgi-bin/message/subscribe/send';
    const body = await this.postWithToken(path, {
      touser: message.toUser,
      template_id: message.templateId,
      ...(message.page !== undefined && { page: message.page }),
      ...(message.miniProgramState !== undefined && { miniprogram_state: message.miniProgramState }),
      ...(message.lang !== undefined && { lang: message.lang }),
      data: wireData(message.data),
    });
    return { msgId: readResponse(sendResult, body, path).msgid };
  }

  /** Temporary media (3 days), e.g. an image for a customer-service message. */
  async uploadTemporaryMedia(
    type: 'image' | 'voice' | 'video' | 'thumb',
    file: { filename: string; contentType: string; bytes: Uint8Array },
  ): Promise<{ mediaId: string; createdAt: number }> {
    const path = '/cgi-bin/media/upload';
    const body = await this.accessTokens.withAccessToken((accessToken) => {
      const form = new FormData();
      form.append('media', new Blob([file.bytes], { type: file.contentType }), file.filename);
      return this.http.postForm(path, { access_token: accessToken, type }, form);
    });
    const parsed = readResponse(mediaUploadResponse, body, path);
    return { mediaId: parsed.media_id, createdAt: parsed.created_at };
  }

  /** Mini-program login (§4.1). 40029 / 40163 for a bad or reused code. */
  async code2Session(jsCode: string): Promise<MiniProgramSession> {
    const path = '/sns/jscode2session';
    const body = await this.http.get(
      path,
      { appid: this.appId, secret: this.appSecret, js_code: jsCode, grant_type: 'authorization_code' },
      { idempotent: true },
    );
    const parsed = readResponse(code2SessionResponse, body, path);
    return { openId: parsed.openid, sessionKey: parsed.session_key, unionId: parsed.unionid };
  }

  private postWithToken(path: string, body: unknown, options: CallOptions = {}): Promise<JsonObject> {
    return this.accessTokens.withAccessToken((accessToken) =>
      this.http.post(path, { access_token: accessToken }, body, options),
    );
  }
}

