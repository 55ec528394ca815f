import {
  CallbackMessageError,
  callbackDedupeKey,
  openEncryptedCallback,
  optionalField,
  requireDecimal,
  requireField,
  requireUnixSeconds,
} from './callback';
import { WxBizMsgCryptError, WxBizMsgCryptErrorCode, isValidCallbackSignature, type WXBizMsgCrypt } from './crypto';
import { buildWeChatXml, parseWeChatXml, type XmlRecord } from './xml';

/** Official Account inbound messages and events (§2.4), and passive replies (§2.5). */

interface InboundBase {
  /** The OA's original id (gh_…). */
  toUserName: string;
  /** The user's OpenID under this OA. */
  fromUserName: string;
  /** Unix seconds. */
  createTime: number;
  /** Retry-dedupe key (§2.6). */
  dedupeKey: string;
  /** Every field as received, for what the union does not model. */
  raw: XmlRecord;
}

/** Present on user messages; a 64-bit id kept as a string. */
interface UserMessage extends InboundBase {
  msgId: string;
}

export interface TextMessage extends UserMessage {
  type: 'text';
  content: string;
}
export interface ImageMessage extends UserMessage {
  type: 'image';
  picUrl: string;
  mediaId: string;
}
export interface VoiceMessage extends UserMessage {
  type: 'voice';
  mediaId: string;
  format: string;
  /** Speech-to-text; often absent or empty and being retired, so fall back to fetching the audio (§2.4). */
  recognition?: string;
}
export interface VideoMessage extends UserMessage {
  type: 'video' | 'shortvideo';
  mediaId: string;
  thumbMediaId: string;
}
export interface LocationMessage extends UserMessage {
  type: 'location';
  latitude: number;
  longitude: number;
  scale: number;
  label: string;
}
export interface LinkMessage extends UserMessage {
  type: 'link';
  title: string;
  description: string;
  url: string;
}
export interface SubscribeEvent extends InboundBase {
  type: 'subscribe';
  /** Set when the user followed by scanning a parametric QR code ("qrscene_" prefix removed). */
  sceneId?: string;
  ticket?: string;
}
export interface UnsubscribeEvent extends InboundBase {
  type: 'unsubscribe';
}
/** An already-following user scanned a parametric QR code. */
export interface ScanEvent extends InboundBase {
  type: 'scan';
  sceneId: string;
  ticket?: string;
}
export interface MenuClickEvent extends InboundBase {
  type: 'menu_click';
  eventKey: string;
}
export interface MenuViewEvent extends InboundBase {
  type: 'menu_view';
  url: string;
}
/** Periodic location report (the user allowed it), not a location message. */
export interface LocationReportEvent extends InboundBase {
  type: 'location_report';
  latitude: number;
  longitude: number;
  precision: number;
}
export interface TemplateSendFinishedEvent extends InboundBase {
  type: 'template_send_finished';
  msgId: string;
  status: string;
}
/** A type we do not model yet; acknowledge it with `success` rather than failing (WeChat adds types over time). */
export interface UnsupportedInbound extends InboundBase {
  type: 'unsupported';
  msgType: string;
  event?: string;
}

export type OfficialAccountInbound =
  | TextMessage
  | ImageMessage
  | VoiceMessage
  | VideoMessage
  | LocationMessage
  | LinkMessage
  | SubscribeEvent
  | UnsubscribeEvent
  | ScanEvent
  | MenuClickEvent
  | MenuViewEvent
  | LocationReportEvent
  | TemplateSendFinishedEvent
  | UnsupportedInbound;

/** A field that must be present but may legitimately be empty (e.g. a link's description). */
function presentField(record: XmlRecord, field: string): string {
  const value = record[field];
  if (value === undefined) throw new CallbackMessageError('missing_field', field);
  return value;
}

const QR_SCENE_PREFIX = 'qrscene_';

function parseEvent(record: XmlRecord, base: InboundBase): OfficialAccountInbound {
  // Event names are case-sensitive: subscribe/unsubscribe lowercase, the rest uppercase (§2.4).
  const event = requireField(record, 'Event');
  switch (event) {
    case 'subscribe': {
      const eventKey = optionalField(record, 'EventKey');
      return {
        ...base,
        type: 'subscribe',
        sceneId: eventKey?.startsWith(QR_SCENE_PREFIX) ? eventKey.slice(QR_SCENE_PREFIX.length) : undefined,
        ticket: optionalField(record, 'Ticket'),
      };
    }
    case 'unsubscribe':
      return { ...base, type: 'unsubscribe' };
    case 'SCAN':
      return { ...base, type: 'scan', sceneId: requireField(record, 'EventKey'), ticket: optionalField(record, 'Ticket') };
    case 'CLICK':
      return { ...base, type: 'menu_click', eventKey: requireField(record, 'EventKey') };
    case 'VIEW':
      return { ...base, type: 'menu_view', url: requireField(record, 'EventKey') };
    case 'LOCATION':
      return {
        ...base,
        type: 'location_report',
        latitude: requireDecimal(record, 'Latitude'),
        longitude: requireDecimal(record, 'Longitude'),
        precision: requireDecimal(record, 'Precision'),
      };
    case 'TEMPLATESENDJOBFINISH':
      // This event spells the id "MsgID".
      return {
        ...base,
        type: 'template_send_finished',
        msgId: requireField(record, 'MsgID'),
        status: requireField(record, 'Status'),
      };
    default:
      return { ...base, type: 'unsupported', msgType: 'event', event };
  }
}

/**
 * Turns a parsed (and, in safe mode, already decrypted) push into the typed union. Throws CallbackMessageError when
 * a field its type requires is missing; unknown types come back as `unsupported`.
 */
export function parseOfficialAccountMessage(record: XmlRecord): OfficialAccountInbound {
  const base: InboundBase = {
    toUserName: requireField(record, 'ToUserName'),
    fromUserName: requireField(record, 'FromUserName'),
    createTime: requireUnixSeconds(record, 'CreateTime'),
    dedupeKey: callbackDedupeKey(record),
    raw: record,
  };
  const msgType = requireField(record, 'MsgType');
  if (msgType === 'event') return parseEvent(record, base);

  const message = (): UserMessage => ({ ...base, msgId: requireField(record, 'MsgId') });
  switch (msgType) {
    case 'text':
      return { ...message(), type: 'text', content: presentField(record, 'Content') };
    case 'image':
      return { ...message(), type: 'image', picUrl: requireField(record, 'PicUrl'), mediaId: requireField(record, 'MediaId') };
    case 'voice':
      return {
        ...message(),
        type: 'voice',
        mediaId: requireField(record, 'MediaId'),
        format: requireField(record, 'Format'),
        recognition: optionalField(record, 'Recognition'),
      };
    case 'video':
    case 'shortvideo':
      return {
        ...message(),
        type: msgType,
        mediaId: requireField(record, 'MediaId'),
        thumbMediaId: requireField(record, 'ThumbMediaId'),
      };
    case 'location':
      return {
        ...message(),
        type: 'location',
        latitude: requireDecimal(record, 'Location_X'),
        longitude: requireDecimal(record, 'Location_Y'),
        scale: requireDecimal(record, 'Scale'),
        label: presentField(record, 'Label'),
      };
    case 'link':
      return {
        ...message(),
        type: 'link',
        title: presentField(record, 'Title'),
        description: presentField(record, 'Description'),
        url: requireField(record, 'Url'),
      };
    default:
      return { ...base, type: 'unsupported', msgType };
  }
}

// ---- Opening a push (§2.2, §2.3) ----

/** The query WeChat adds to the webhook URL; unknown params (e.g. openid) are ignored. */
export interface OfficialAccountPushQuery {
  signature?: string;
  timestamp: string;
  nonce: string;
  /** "aes" in compat and safe mode. */
  encryptType?: string;
  msgSignature?: string;
}

/**
 * URL verification (GET). The OA echostr is never encrypted, in any mode (§2.2). Returns the body to send
 * (exactly echostr) or throws -40001.
 */
export function answerOfficialAccountUrlVerification(
  token: string,
  query: { signature: string; timestamp: string; nonce: string; echostr: string },
): string {
  if (!isValidCallbackSignature(token, query.signature, query.timestamp, query.nonce)) {
    throw new WxBizMsgCryptError(WxBizMsgCryptErrorCode.ValidateSignature);
  }
  return query.echostr;
}

/**
 * Verifies and parses a push in any mode (§2.3): with `encrypt_type=aes` the msg_signature and the `<Encrypt>`
 * content (receive id = AppID) decide, and the plaintext fields of a compat-mode body are ignored; otherwise the
 * plain signature must match. Throws WxBizMsgCryptError, WeChatXmlError or CallbackMessageError; the caller answers
 * 401 (or `success`) and processes nothing.
 */
export function openOfficialAccountPush(options: {
  token: string;
  /**
   * The account's EncodingAESKey, set only for compat and safe mode (its token must be the same `token`). With it,
   * every push must be encrypted: WeChat encrypts every push in those modes, and a plaintext push is checked by a
   * signature that does not cover its body, so anyone who saw one push's query could replay it with a body of their
   * own (another follower's openid, "我的保单").
   */
  crypt?: WXBizMsgCrypt;
  query: OfficialAccountPushQuery;
  body: string | Uint8Array;
  maxBytes?: number;
}): { message: OfficialAccountInbound; encrypted: boolean } {
  const { query } = options;
  if (query.encryptType === 'aes') {
    if (!options.crypt) throw new WxBizMsgCryptError(WxBizMsgCryptErrorCode.IllegalAesKey);
    if (!query.msgSignature) throw new WxBizMsgCryptError(WxBizMsgCryptErrorCode.ValidateSignature);
    const opened = openEncryptedCallback(
      options.crypt,
      { msgSignature: query.msgSignature, timestamp: query.timestamp, nonce: query.nonce },
      options.body,
      { maxBytes: options.maxBytes },
    );
    return { message: parseOfficialAccountMessage(opened.message), encrypted: true };
  }
  if (options.crypt) throw new WxBizMsgCryptError(WxBizMsgCryptErrorCode.ValidateSignature);
  if (!query.signature || !isValidCallbackSignature(options.token, query.signature, query.timestamp, query.nonce)) {
    throw new WxBizMsgCryptError(WxBizMsgCryptErrorCode.ValidateSignature);
  }
  const record = parseWeChatXml(options.body, { maxBytes: options.maxBytes });
  return { message: parseOfficialAccountMessage(record), encrypted: false };
}

// ---- Passive replies (§2.5) ----

/** Acknowledges a push without replying; WeChat then neither retries nor shows an error. */
export const ACKNOWLEDGE_REPLY = 'success';

export interface ReplyAddress {
  /** The user's OpenID: the inbound FromUserName. */
  toUserName: string;
  /** The OA's gh_ id: the inbound ToUserName. */
  fromUserName: string;
  /** Unix seconds (not milliseconds, unlike co-wechat). */
  createTime: number;
}

/** Swaps the inbound ids, as every passive reply must. */
export function replyAddressFor(
  inbound: Pick<InboundBase, 'toUserName' | 'fromUserName'>,
  nowMs: number = Date.now(),
): ReplyAddress {
  return { toUserName: inbound.fromUserName, fromUserName: inbound.toUserName, createTime: Math.floor(nowMs / 1000) };
}

function header(address: ReplyAddress, msgType: string) {
  return {
    ToUserName: address.toUserName,
    FromUserName: address.fromUserName,
    CreateTime: address.createTime,
    MsgType: msgType,
  };
}

export function buildTextReply(address: ReplyAddress, content: string): string {
  return buildWeChatXml({ ...header(address, 'text'), Content: content });
}

export function buildImageReply(address: ReplyAddress, mediaId: string): string {
  return buildWeChatXml({ ...header(address, 'image'), Image: { MediaId: mediaId } });
}

export interface NewsArticle {
  title: string;
  description: string;
  picUrl: string;
  url: string;
}

/** A news (图文) reply. WeChat now shows only one article per passive reply (§2.5), so the type takes one. */
export function buildNewsReply(address: ReplyAddress, article: NewsArticle): string {
  return buildWeChatXml({
    ...header(address, 'news'),
    ArticleCount: 1,
    Articles: {
      item: [{ Title: article.title, Description: article.description, PicUrl: article.picUrl, Url: article.url }],
    },
  });
}
