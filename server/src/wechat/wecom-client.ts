import { z } from 'zod';
import { AccessTokenCache, type AccessTokenProvider, type FetchedAccessToken } from './access-token';
import {
  WeChatErrcode,
  WeChatHttpClient,
  isWeChatErrcode,
  readResponse,
  toFetchedAccessToken,
  type JsonObject,
} from './api-client';
import {
  CallbackMessageError,
  callbackDedupeKey,
  openEncryptedCallback,
  optionalField,
  requireField,
  requireUnixSeconds,
  type EncryptedCallbackQuery,
} from './callback';
import { WXBizMsgCrypt } from './crypto';
import type { XmlRecord } from './xml';

/** WeCom (企业微信) self-built app: token (§6.1), app messages (§6.2), callbacks (§6.3). */

/**
 * WeCom: these mean "get a new token and retry once". Unlike the OA, 40001 here is a wrong corpsecret, a config
 * error that a new token cannot fix (§6.1).
 */
export const WECOM_TOKEN_ERRCODES: ReadonlySet<number> = new Set([
  WeChatErrcode.InvalidAccessToken,
  WeChatErrcode.AccessTokenExpired,
]);

export const wecomTokenCacheKey = (corpId: string, agentId: number | string) => `wecom:${corpId}:${agentId}`;

interface WeComRecipients {
  /** Member userids, or '@all'. Up to 1000. */
  toUsers?: readonly string[] | '@all';
  toParties?: readonly string[];
  toTags?: readonly string[];
}

interface WeComSendOptions {
  safe?: boolean;
  enableIdTrans?: boolean;
  /** Drops an identical message within `duplicateCheckIntervalSeconds` (default 1800). */
  enableDuplicateCheck?: boolean;
  duplicateCheckIntervalSeconds?: number;
}

export type WeComAppMessage = WeComRecipients &
  WeComSendOptions &
  (
    | { type: 'text'; content: string }
    /** `description` may use <div class="gray|normal|highlight">. */
    | { type: 'textcard'; title: string; description: string; url: string; buttonText?: string }
    /** Renders only in the WeCom client, not in the WeChat plugin. */
    | { type: 'markdown'; content: string }
  );

const flag = (value: boolean) => (value ? 1 : 0);

/** The wire JSON of `POST /cgi-bin/message/send` (§6.2). Optional fields appear only when given. */
export function wecomAppMessageBody(agentId: number, message: WeComAppMessage): JsonObject {
  const { toUsers, toParties, toTags } = message;
  const hasRecipient =
    toUsers === '@all' || (toUsers?.length ?? 0) > 0 || (toParties?.length ?? 0) > 0 || (toTags?.length ?? 0) > 0;
  if (!hasRecipient) throw new TypeError('a WeCom app message needs at least one recipient');

  const body: JsonObject = {};
  if (toUsers !== undefined) body.touser = toUsers === '@all' ? '@all' : toUsers.join('|');
  if (toParties !== undefined) body.toparty = toParties.join('|');
  if (toTags !== undefined) body.totag = toTags.join('|');
  body.msgtype = message.type;
  body.agentid = agentId;
  switch (message.type) {
    case 'text':
      body.text = { content: message.content };
      break;
    case 'textcard':
      body.textcard = {
        title: message.title,
        description: message.description,
        url: message.url,
        ...(message.buttonText !== undefined && { btntxt: message.buttonText }),
      };
      break;
    case 'markdown':
      body.markdown = { content: message.content };
      break;
  }
  if (message.safe !== undefined) body.safe = flag(message.safe);
  if (message.enableIdTrans !== undefined) body.enable_id_trans = flag(message.enableIdTrans);
  if (message.enableDuplicateCheck !== undefined) body.enable_duplicate_check = flag(message.enableDuplicateCheck);
  if (message.duplicateCheckIntervalSeconds !== undefined) {
    body.duplicate_check_interval = message.duplicateCheckIntervalSeconds;
  }
  return body;
}

export interface WeComSendResult {
  msgId?: string;
  /** Recipients WeCom did not deliver to (lower-cased by WeCom). Delivery to the others went ahead. */
  invalidUsers: string[];
  invalidParties: string[];
  invalidTags: string[];
  unlicensedUsers: string[];
  responseCode?: string;
}

const idList = z
  .string()
  .optional()
  .transform((value) => (value ? value.split('|').filter(Boolean) : []));
const sendResponse = z.object({
  msgid: z.string().optional(),
  invaliduser: idList,
  invalidparty: idList,
  invalidtag: idList,
  unlicenseduser: idList,
  response_code: z.string().optional(),
});

export interface WeComClientOptions {
  /** e.g. https://qyapi.weixin.qq.com */
  http: WeChatHttpClient;
  corpId: string;
  agentId: number;
  /** Each self-built app has its own secret. */
  corpSecret: string;
  /** Defaults to a MongoDB-shared cache keyed `wecom:{corpid}:{agentid}`. */
  accessTokens?: AccessTokenProvider;
}

export class WeComClient {
  readonly corpId: string;
  readonly agentId: number;
  readonly accessTokens: AccessTokenProvider;
  private readonly http: WeChatHttpClient;
  private readonly corpSecret: string;

  constructor(options: WeComClientOptions) {
    this.http = options.http;
    this.corpId = options.corpId;
    this.agentId = options.agentId;
    this.corpSecret = options.corpSecret;
    this.accessTokens =
      options.accessTokens ??
      new AccessTokenCache({
        key: wecomTokenCacheKey(options.corpId, options.agentId),
        fetchToken: () => this.fetchAccessToken(), // WeCom has no stable/force variant
        isTokenError: (error) => isWeChatErrcode(error, ...WECOM_TOKEN_ERRCODES),
      });
  }

  /** `GET /cgi-bin/gettoken` (§6.1). */
  async fetchAccessToken(): Promise<FetchedAccessToken> {
    const path = '/cgi-bin/gettoken';
    const body = await this.http.get(path, { corpid: this.corpId, corpsecret: this.corpSecret }, { idempotent: true });
    return toFetchedAccessToken(body, path);
  }

  /** Sends an app message; 81013 (WeChatApiError) when every recipient is invalid. */
  async sendAppMessage(message: WeComAppMessage): Promise<WeComSendResult> {
    const path = '/cgi-bin/message/send';
    const payload = wecomAppMessageBody(this.agentId, message);
    const body = await this.accessTokens.withAccessToken((accessToken) =>
      this.http.post(path, { access_token: accessToken }, payload),
    );
    const parsed = readResponse(sendResponse, body, path);
    return {
      msgId: parsed.msgid,
      invalidUsers: parsed.invaliduser,
      invalidParties: parsed.invalidparty,
      invalidTags: parsed.invalidtag,
      unlicensedUsers: parsed.unlicenseduser,
      responseCode: parsed.response_code,
    };
  }
}

// ---- Callbacks (§6.3): always encrypted, receive id = CorpID ----

export function createWeComCallbackCrypt(options: { token: string; encodingAESKey: string; corpId: string }) {
  return new WXBizMsgCrypt({ token: options.token, encodingAESKey: options.encodingAESKey, receiveId: options.corpId });
}

/**
 * URL verification (GET): `echostr` must already be URL-decoded exactly once (Koa's ctx.query does that). Returns
 * the plaintext to answer with, as text/plain with nothing added.
 */
export function answerWeComUrlVerification(
  crypt: WXBizMsgCrypt,
  query: EncryptedCallbackQuery & { echostr: string },
): string {
  const { echostr, ...signed } = query;
  return crypt.decryptVerified({ ...signed, encrypt: echostr });
}

interface WeComInboundBase {
  /** The CorpID. */
  toUserName: string;
  /** The member's userid (or "sys" for some system events). */
  fromUserName: string;
  createTime: number;
  agentId?: string;
  dedupeKey: string;
  raw: XmlRecord;
}

export type WeComInbound =
  | (WeComInboundBase & { type: 'text'; msgId: string; content: string })
  /** App events are lower-case in WeCom ("click", not "CLICK"). */
  | (WeComInboundBase & { type: 'event'; event: string; eventKey?: string })
  /** 微信客服: pull the messages with kf/sync_msg using `syncToken` (valid 10 min) (§6.4). */
  | (WeComInboundBase & { type: 'kf_msg_or_event'; syncToken: string; openKfId: string })
  | (WeComInboundBase & { type: 'unsupported'; msgType: string });

/** Turns a decrypted WeCom callback message into the typed union. */
export function parseWeComMessage(record: XmlRecord): WeComInbound {
  const base: WeComInboundBase = {
    toUserName: requireField(record, 'ToUserName'),
    // KF events carry no FromUserName.
    fromUserName: record.FromUserName ?? '',
    createTime: requireUnixSeconds(record, 'CreateTime'),
    agentId: optionalField(record, 'AgentID'),
    dedupeKey: callbackDedupeKey(record),
    raw: record,
  };
  const msgType = requireField(record, 'MsgType');
  if (msgType === 'text') {
    const content = record.Content;
    if (content === undefined) throw new CallbackMessageError('missing_field', 'Content');
    return { ...base, type: 'text', msgId: requireField(record, 'MsgId'), content };
  }
  if (msgType === 'event') {
    const event = requireField(record, 'Event');
    if (event === 'kf_msg_or_event') {
      return {
        ...base,
        type: 'kf_msg_or_event',
        syncToken: requireField(record, 'Token'),
        openKfId: requireField(record, 'OpenKfId'),
      };
    }
    return { ...base, type: 'event', event, eventKey: optionalField(record, 'EventKey') };
  }
  return { ...base, type: 'unsupported', msgType };
}

/**
 * Verifies, decrypts and parses a callback POST. With `expectedAgentId`, a message for another app of the same
 * corp is refused (the URL is configured per app, so a mismatch means a misrouted or forged push).
 */
export function openWeComCallback(
  crypt: WXBizMsgCrypt,
  query: EncryptedCallbackQuery,
  body: string | Uint8Array,
  options: { expectedAgentId?: number } = {},
): WeComInbound {
  const { message } = openEncryptedCallback(crypt, query, body);
  const inbound = parseWeComMessage(message);
  if (
    options.expectedAgentId !== undefined &&
    inbound.agentId !== undefined &&
    inbound.agentId !== String(options.expectedAgentId)
  ) {
    throw new CallbackMessageError('invalid_field', 'AgentID');
  }
  return inbound;
}
