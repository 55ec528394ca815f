import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * WXBizMsgCrypt: the callback crypto shared by Official Account safe mode, mini-program message push and WeCom
 * callbacks (spec §1). Byte-exact to Tencent's samples; stricter than them on decrypt (§1.4).
 */

/** Tencent's official return codes (§1.4). Stable: callers and logs may rely on them. */
export const WxBizMsgCryptErrorCode = {
  ValidateSignature: -40001,
  ParseXml: -40002,
  ComputeSignature: -40003,
  IllegalAesKey: -40004,
  ValidateReceiveId: -40005,
  EncryptAES: -40006,
  DecryptAES: -40007,
  IllegalBuffer: -40008,
  EncodeBase64: -40009,
  DecodeBase64: -40010,
  GenReturnXml: -40011,
} as const;
export type WxBizMsgCryptErrorCode = (typeof WxBizMsgCryptErrorCode)[keyof typeof WxBizMsgCryptErrorCode];

const codeNames = new Map<number, string>(Object.entries(WxBizMsgCryptErrorCode).map(([name, code]) => [code, name]));

/**
 * Any failure of the callback crypto. The message names only the code: nothing about the key, the plaintext or the
 * received id leaks into logs or responses.
 */
export class WxBizMsgCryptError extends Error {
  constructor(readonly code: WxBizMsgCryptErrorCode) {
    super(`WXBizMsgCrypt ${code} ${codeNames.get(code) ?? ''}`.trim());
    this.name = 'WxBizMsgCryptError';
  }
}

const BLOCK_SIZE = 32; // WXBizMsgCrypt pads to 32 bytes, not AES's 16 (§1.3)
const RANDOM_PREFIX_BYTES = 16;
const LENGTH_FIELD_BYTES = 4;

/** SHA-1 over the byte-wise sorted, unseparated parts (§1.2). Every input is ASCII, so JS sort() is correct. */
function sha1OfSorted(parts: string[]): string {
  return createHash('sha1').update([...parts].sort().join('')).digest('hex');
}

/** `signature` (plain check: no encrypt) or `msg_signature` (with the Encrypt text exactly as received). */
export function computeCallbackSignature(token: string, timestamp: string, nonce: string, encrypt?: string): string {
  const parts = [token, timestamp, nonce];
  if (encrypt !== undefined) parts.push(encrypt);
  return sha1OfSorted(parts);
}

/** Compares without leaking, through timing, how many leading characters matched. */
export function constantTimeEquals(expected: string, received: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(received, 'utf8');
  // The expected length (40 hex chars) is public, so an early length check leaks nothing secret.
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Plain-mode check of an OA push or URL verification, which needs only the Token (no AES key). */
export function isValidCallbackSignature(
  token: string,
  signature: string,
  timestamp: string,
  nonce: string,
  encrypt?: string,
): boolean {
  return constantTimeEquals(computeCallbackSignature(token, timestamp, nonce, encrypt), signature);
}

export interface WxBizMsgCryptOptions {
  token: string;
  /** 43 chars [A-Za-z0-9], from the admin console. */
  encodingAESKey: string;
  /** OA / mini-program: the AppID. WeCom: the CorpID. Decrypt refuses messages addressed to anyone else. */
  receiveId: string;
  /** The 16-byte random prefix; injectable so tests reproduce the official vectors. */
  randomPrefix?: () => Buffer;
}

export interface EncryptedCallbackParams {
  msgSignature: string;
  timestamp: string;
  nonce: string;
  /** The `<Encrypt>` text or the URL-decoded `echostr`, exactly as received. */
  encrypt: string;
}

export class WXBizMsgCrypt {
  readonly receiveId: string;
  private readonly token: string;
  private readonly key: Buffer;
  private readonly iv: Buffer;
  private readonly randomPrefix: () => Buffer;

  constructor(options: WxBizMsgCryptOptions) {
    if (!/^[A-Za-z0-9]{43}$/.test(options.encodingAESKey)) {
      throw new WxBizMsgCryptError(WxBizMsgCryptErrorCode.IllegalAesKey);
    }
    const key = Buffer.from(`${options.encodingAESKey}=`, 'base64');
    if (key.length !== 32) throw new WxBizMsgCryptError(WxBizMsgCryptErrorCode.IllegalAesKey);
    this.key = key;
    this.iv = key.subarray(0, 16);
    this.token = options.token;
    this.receiveId = options.receiveId;
    this.randomPrefix = options.randomPrefix ?? (() => randomBytes(RANDOM_PREFIX_BYTES));
  }

  signature(timestamp: string, nonce: string, encrypt?: string): string {
    return computeCallbackSignature(this.token, timestamp, nonce, encrypt);
  }

  verifySignature(signature: string, timestamp: string, nonce: string, encrypt?: string): boolean {
    return isValidCallbackSignature(this.token, signature, timestamp, nonce, encrypt);
  }

  /** random(16) ‖ uint32BE(byteLength(msg)) ‖ msg ‖ receiveId, padded to 32, AES-256-CBC, base64 (§1.3). */
  encrypt(message: string): string {
    const random = this.randomPrefix();
    if (random.length !== RANDOM_PREFIX_BYTES) throw new WxBizMsgCryptError(WxBizMsgCryptErrorCode.EncryptAES);
    const messageBytes = Buffer.from(message, 'utf8');
    const length = Buffer.alloc(LENGTH_FIELD_BYTES);
    length.writeUInt32BE(messageBytes.length); // UTF-8 bytes, not JS string length
    const body = Buffer.concat([random, length, messageBytes, Buffer.from(this.receiveId, 'utf8')]);
    const padLength = BLOCK_SIZE - (body.length % BLOCK_SIZE); // 1..32: a whole block when already aligned
    const padded = Buffer.concat([body, Buffer.alloc(padLength, padLength)]);
    try {
      const cipher = createCipheriv('aes-256-cbc', this.key, this.iv).setAutoPadding(false);
      return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
    } catch {
      throw new WxBizMsgCryptError(WxBizMsgCryptErrorCode.EncryptAES);
    }
  }

  /** Decrypts and checks padding, length and receive id (§1.4). Returns the message untrimmed. */
  decrypt(encrypted: string): string {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encrypted)) throw new WxBizMsgCryptError(WxBizMsgCryptErrorCode.DecodeBase64);
    const ciphertext = Buffer.from(encrypted, 'base64');
    if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) {
      throw new WxBizMsgCryptError(WxBizMsgCryptErrorCode.DecodeBase64);
    }
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-cbc', this.key, this.iv).setAutoPadding(false);
      plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      throw new WxBizMsgCryptError(WxBizMsgCryptErrorCode.DecryptAES);
    }
    const padLength = plain[plain.length - 1];
    const minimumLength = RANDOM_PREFIX_BYTES + LENGTH_FIELD_BYTES + padLength;
    if (
      padLength < 1 ||
      padLength > BLOCK_SIZE ||
      plain.length < minimumLength ||
      !plain.subarray(plain.length - padLength).every((byte) => byte === padLength)
    ) {
      throw new WxBizMsgCryptError(WxBizMsgCryptErrorCode.IllegalBuffer);
    }
    const content = plain.subarray(RANDOM_PREFIX_BYTES, plain.length - padLength);
    const messageLength = content.readUInt32BE(0);
    if (LENGTH_FIELD_BYTES + messageLength > content.length) {
      throw new WxBizMsgCryptError(WxBizMsgCryptErrorCode.IllegalBuffer);
    }
    const receivedId = content.subarray(LENGTH_FIELD_BYTES + messageLength);
    if (!constantTimeEquals(this.receiveId, receivedId.toString('utf8'))) {
      throw new WxBizMsgCryptError(WxBizMsgCryptErrorCode.ValidateReceiveId);
    }
    return content.subarray(LENGTH_FIELD_BYTES, LENGTH_FIELD_BYTES + messageLength).toString('utf8');
  }

  /** Checks msg_signature over the ciphertext as received, then decrypts. */
  decryptVerified(params: EncryptedCallbackParams): string {
    if (!this.verifySignature(params.msgSignature, params.timestamp, params.nonce, params.encrypt)) {
      throw new WxBizMsgCryptError(WxBizMsgCryptErrorCode.ValidateSignature);
    }
    return this.decrypt(params.encrypt);
  }

  /**
   * The encrypted passive reply, byte-exact to the official template (§1.5). The signature uses the same timestamp
   * and nonce that are written into the envelope.
   */
  encryptReply(replyXml: string, timestamp: string, nonce: string): string {
    if (!/^\d+$/.test(timestamp) || /[\]<>&]/.test(nonce)) {
      throw new WxBizMsgCryptError(WxBizMsgCryptErrorCode.GenReturnXml);
    }
    const encrypt = this.encrypt(replyXml);
    const msgSignature = this.signature(timestamp, nonce, encrypt);
    return (
      `<xml>\n<Encrypt><![CDATA[${encrypt}]]></Encrypt>\n` +
      `<MsgSignature><![CDATA[${msgSignature}]]></MsgSignature>\n` +
      `<TimeStamp>${timestamp}</TimeStamp>\n` +
      `<Nonce><![CDATA[${nonce}]]></Nonce>\n</xml>`
    );
  }
}

/** Official WXBizDataCrypt codes for mini-program encryptedData [M]. */
export const MiniProgramDataErrorCode = {
  IllegalAesKey: -41001,
  IllegalIv: -41002,
  IllegalBuffer: -41003,
  DecodeBase64: -41004,
} as const;
export type MiniProgramDataErrorCode = (typeof MiniProgramDataErrorCode)[keyof typeof MiniProgramDataErrorCode];

export class MiniProgramDataError extends Error {
  constructor(readonly code: MiniProgramDataErrorCode) {
    super(`WXBizDataCrypt ${code}`);
    this.name = 'MiniProgramDataError';
  }
}

/**
 * Legacy mini-program `encryptedData` (§4.2): AES-128-CBC with the session_key, standard PKCS#7, and a watermark
 * that must name our AppID, so data encrypted for another app is refused.
 */
export function decryptMiniProgramData(params: {
  appId: string;
  sessionKey: string;
  iv: string;
  encryptedData: string;
}): Record<string, unknown> {
  const key = Buffer.from(params.sessionKey, 'base64');
  if (key.length !== 16) throw new MiniProgramDataError(MiniProgramDataErrorCode.IllegalAesKey);
  const iv = Buffer.from(params.iv, 'base64');
  if (iv.length !== 16) throw new MiniProgramDataError(MiniProgramDataErrorCode.IllegalIv);
  const ciphertext = Buffer.from(params.encryptedData, 'base64');
  if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) {
    throw new MiniProgramDataError(MiniProgramDataErrorCode.DecodeBase64);
  }
  let decoded: unknown;
  try {
    const decipher = createDecipheriv('aes-128-cbc', key, iv);
    decoded = JSON.parse(Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8'));
  } catch {
    throw new MiniProgramDataError(MiniProgramDataErrorCode.IllegalBuffer);
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) {
    throw new MiniProgramDataError(MiniProgramDataErrorCode.IllegalBuffer);
  }
  const data = decoded as Record<string, unknown>;
  const watermark = data.watermark;
  const watermarkAppId =
    typeof watermark === 'object' && watermark !== null ? (watermark as Record<string, unknown>).appid : undefined;
  if (watermarkAppId !== params.appId) throw new MiniProgramDataError(MiniProgramDataErrorCode.IllegalBuffer);
  return data;
}
