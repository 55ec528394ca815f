import { WxBizMsgCryptError, WxBizMsgCryptErrorCode, type WXBizMsgCrypt } from './crypto';
import { parseWeChatXml, type XmlRecord } from './xml';

/**
 * Steps shared by every WeChat callback (OA safe/compat mode, mini-program push, WeCom): open the encrypted
 * envelope, read the common fields, compute the retry-dedupe key.
 */

export interface EncryptedCallbackQuery {
  msgSignature: string;
  timestamp: string;
  nonce: string;
}

export interface OpenedCallback {
  /** The envelope as received: ToUserName, Encrypt, maybe AgentID, and in compat mode the plaintext fields too. */
  envelope: XmlRecord;
  /** The decrypted message, parsed. */
  message: XmlRecord;
  /** The decrypted XML text, untrimmed. */
  plaintext: string;
}

/**
 * Parses the envelope, checks msg_signature over its `<Encrypt>` exactly as received, decrypts (checking the
 * receive id) and parses the inner XML. Throws WeChatXmlError or WxBizMsgCryptError; never returns unverified data.
 */
export function openEncryptedCallback(
  crypt: WXBizMsgCrypt,
  query: EncryptedCallbackQuery,
  body: string | Uint8Array,
  options: { maxBytes?: number } = {},
): OpenedCallback {
  const envelope = parseWeChatXml(body, options);
  const encrypt = envelope.Encrypt;
  if (!encrypt) throw new WxBizMsgCryptError(WxBizMsgCryptErrorCode.ParseXml);
  const plaintext = crypt.decryptVerified({ ...query, encrypt });
  return { envelope, message: parseWeChatXml(plaintext, options), plaintext };
}

export type CallbackMessageErrorCode = 'missing_field' | 'invalid_field';

/** A decrypted, well-formed XML message that lacks a field its type requires. Names the field, never its value. */
export class CallbackMessageError extends Error {
  constructor(
    readonly code: CallbackMessageErrorCode,
    readonly field: string,
  ) {
    super(`WeChat message ${code}: ${field}`);
    this.name = 'CallbackMessageError';
  }
}

export function requireField(record: XmlRecord, field: string): string {
  const value = record[field];
  if (value === undefined || value === '') throw new CallbackMessageError('missing_field', field);
  return value;
}

export function optionalField(record: XmlRecord, field: string): string | undefined {
  const value = record[field];
  return value === undefined || value === '' ? undefined : value;
}

/** Unix seconds as a safe integer (CreateTime). */
export function requireUnixSeconds(record: XmlRecord, field: string): number {
  const value = requireField(record, field);
  if (!/^\d{1,12}$/.test(value)) throw new CallbackMessageError('invalid_field', field);
  return Number(value);
}

export function requireDecimal(record: XmlRecord, field: string): number {
  const value = requireField(record, field);
  if (!/^-?\d+(\.\d+)?$/.test(value)) throw new CallbackMessageError('invalid_field', field);
  return Number(value);
}

/**
 * The retry-dedupe key of §2.6: `msg:{MsgId}` for messages, `evt:{From}:{CreateTime}:{Event}:{EventKey}` for
 * events (which have no MsgId). Never uses the query's nonce/timestamp: retries are new HTTP requests.
 * Ids are unique per account only, so a store shared by several accounts should prefix the key with the account.
 */
export function callbackDedupeKey(record: XmlRecord): string {
  const msgId = optionalField(record, 'MsgId');
  if (msgId !== undefined) return `msg:${msgId}`;
  const from = record.FromUserName ?? '';
  const createTime = record.CreateTime ?? '';
  const event = record.Event ?? record.MsgType ?? '';
  return `evt:${from}:${createTime}:${event}:${record.EventKey ?? ''}`;
}
