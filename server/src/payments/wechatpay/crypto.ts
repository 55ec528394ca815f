import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';

/**
 * WeChat Pay API v3 primitives (spec §5.1–§5.8): request signatures, response/notify verification, notify resource
 * AEAD, and paySign for wx.requestPayment. Pure functions on Node's crypto; the HTTP client builds on them.
 */

export const AUTHORIZATION_SCHEMA = 'WECHATPAY2-SHA256-RSA2048';
/** Largest accepted clock difference for Wechatpay-Timestamp (wechatpay-axios-plugin MAXIMUM_CLOCK_OFFSET). */
export const MAX_CLOCK_OFFSET_SECONDS = 300;

export type WechatPayCryptoErrorCode = 'invalid_key' | 'invalid_resource' | 'decrypt_failed';

/** A stable code only; key material and plaintext never reach the message. */
export class WechatPayCryptoError extends Error {
  constructor(readonly code: WechatPayCryptoErrorCode) {
    super(`WeChat Pay crypto: ${code}`);
    this.name = 'WechatPayCryptoError';
  }
}

export function loadPrivateKey(pem: string | Buffer): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    throw new WechatPayCryptoError('invalid_key');
  }
}

export function loadPublicKey(pem: string | Buffer): KeyObject {
  try {
    return createPublicKey(pem);
  } catch {
    throw new WechatPayCryptoError('invalid_key');
  }
}

/** 32 uppercase hex chars, the shape of the docs' nonce_str. */
export function createNonceStr(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

/** Timestamps in every signature are Unix seconds as decimal strings. */
export function unixSecondsString(nowMs: number = Date.now()): string {
  return String(Math.floor(nowMs / 1000));
}

/** RSASSA-PKCS1-v1_5 with SHA-256, base64. Deterministic. */
export function signMessage(privateKey: KeyObject, message: string): string {
  return sign('RSA-SHA256', Buffer.from(message, 'utf8'), privateKey).toString('base64');
}

/** False (never a throw) for a malformed signature, e.g. the WECHATPAY/SIGNTEST/ probes (§5.2). */
export function verifyMessage(publicKey: KeyObject, message: string | Buffer, signatureBase64: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signatureBase64)) return false;
  try {
    const bytes = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
    return verify('RSA-SHA256', bytes, publicKey, Buffer.from(signatureBase64, 'base64'));
  } catch {
    return false;
  }
}

// ---- Requests (§5.1) ----

export interface RequestToSign {
  method: string;
  /** Path and query exactly as sent, without scheme and host: "/v3/pay/transactions/out-trade-no/1?mchid=1". */
  pathAndQuery: string;
  timestamp: string;
  nonce: string;
  /** The exact bytes sent; "" for GET/DELETE. Serialize JSON once and send that same string. */
  body?: string;
}

/** Five lines, each ending in "\n" (a GET therefore ends "\n\n"). */
export function requestSignatureMessage(request: RequestToSign): string {
  return `${request.method.toUpperCase()}\n${request.pathAndQuery}\n${request.timestamp}\n${request.nonce}\n${request.body ?? ''}\n`;
}

export interface MerchantCredentials {
  mchid: string;
  /** Merchant API certificate serial (40 uppercase hex). */
  serialNo: string;
  privateKey: KeyObject;
}

/** The `Authorization` header value for a request. */
export function buildAuthorization(merchant: MerchantCredentials, request: RequestToSign): string {
  const signature = signMessage(merchant.privateKey, requestSignatureMessage(request));
  return (
    `${AUTHORIZATION_SCHEMA} mchid="${merchant.mchid}",nonce_str="${request.nonce}",signature="${signature}",` +
    `timestamp="${request.timestamp}",serial_no="${merchant.serialNo}"`
  );
}

export interface ParsedAuthorization {
  mchid: string;
  nonceStr: string;
  signature: string;
  timestamp: string;
  serialNo: string;
}

/** Reads an Authorization header (parameter order is free); undefined if any part is missing or malformed. */
export function parseAuthorization(header: string | undefined): ParsedAuthorization | undefined {
  if (!header?.startsWith(`${AUTHORIZATION_SCHEMA} `)) return undefined;
  const params = new Map<string, string>();
  const pattern = /\s*([a-z_]+)="([^"]*)"\s*(?:,|$)/gy;
  const rest = header.slice(AUTHORIZATION_SCHEMA.length + 1);
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = pattern.exec(rest)) !== null && match[0] !== '') {
    if (params.has(match[1])) return undefined;
    params.set(match[1], match[2]);
    consumed = pattern.lastIndex;
  }
  if (consumed !== rest.length) return undefined;
  const mchid = params.get('mchid');
  const nonceStr = params.get('nonce_str');
  const signature = params.get('signature');
  const timestamp = params.get('timestamp');
  const serialNo = params.get('serial_no');
  if (!mchid || !nonceStr || !signature || !timestamp || !serialNo) return undefined;
  return { mchid, nonceStr, signature, timestamp, serialNo };
}

// ---- Responses and notifies (§5.2) ----

/** `timestamp\nnonce\nbody\n`; an empty body gives "ts\nnonce\n\n". Also what WeChat Pay signs responses with. */
export function responseSignatureMessage(timestamp: string, nonce: string, body: string | Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`${timestamp}\n${nonce}\n`, 'utf8'),
    typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
    Buffer.from('\n', 'utf8'),
  ]);
}

/** |now − timestamp| ≤ window. A non-numeric timestamp is outside every window. */
export function isTimestampWithinWindow(
  timestamp: string,
  nowSeconds: number,
  windowSeconds: number = MAX_CLOCK_OFFSET_SECONDS,
): boolean {
  if (!/^\d{1,12}$/.test(timestamp)) return false;
  return Math.abs(nowSeconds - Number(timestamp)) <= windowSeconds;
}

export type HeaderSource = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

function headerReader(headers: HeaderSource): (name: string) => string | undefined {
  if (headers instanceof Headers) return (name) => headers.get(name) ?? undefined;
  const lowerCased = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    // A repeated signature header is ambiguous; refuse rather than pick one.
    lowerCased.set(name.toLowerCase(), typeof value === 'string' ? value : value.length === 1 ? value[0] : '');
  }
  return (name) => lowerCased.get(name) || undefined;
}

export type WechatpaySignatureFailure =
  | 'missing_header'
  | 'timestamp_out_of_window'
  | 'unknown_serial'
  | 'bad_signature';

export type WechatpaySignatureCheck = { ok: true; serial: string } | { ok: false; reason: WechatpaySignatureFailure };

/**
 * Verifies a WeChat Pay response or notify against the raw body bytes (never a re-serialized parse), with the
 * public key named by Wechatpay-Serial. SIGNTEST probes fail here like any forgery; there is no special case.
 */
export function verifyWechatpaySignature(params: {
  headers: HeaderSource;
  body: string | Buffer;
  /** WeChat Pay public keys (PUB_KEY_ID_…) or platform certificates' keys, by serial. */
  publicKeys: ReadonlyMap<string, KeyObject>;
  nowSeconds: number;
}): WechatpaySignatureCheck {
  const header = headerReader(params.headers);
  const timestamp = header('wechatpay-timestamp');
  const nonce = header('wechatpay-nonce');
  const signature = header('wechatpay-signature');
  const serial = header('wechatpay-serial');
  if (!timestamp || !nonce || !signature || !serial) return { ok: false, reason: 'missing_header' };
  if (!isTimestampWithinWindow(timestamp, params.nowSeconds)) return { ok: false, reason: 'timestamp_out_of_window' };
  const publicKey = params.publicKeys.get(serial);
  if (!publicKey) return { ok: false, reason: 'unknown_serial' };
  const message = responseSignatureMessage(timestamp, nonce, params.body);
  return verifyMessage(publicKey, message, signature) ? { ok: true, serial } : { ok: false, reason: 'bad_signature' };
}

/** The headers WeChat Pay attaches to a signed response or notify (what the fake sends). */
export function signWechatpayResponse(params: {
  privateKey: KeyObject;
  serial: string;
  timestamp: string;
  nonce: string;
  body: string;
}): Record<string, string> {
  const message = responseSignatureMessage(params.timestamp, params.nonce, params.body);
  return {
    'Wechatpay-Timestamp': params.timestamp,
    'Wechatpay-Nonce': params.nonce,
    'Wechatpay-Serial': params.serial,
    'Wechatpay-Signature': sign('RSA-SHA256', message, params.privateKey).toString('base64'),
    'Wechatpay-Signature-Type': AUTHORIZATION_SCHEMA,
  };
}

// ---- AEAD_AES_256_GCM (§5.5) ----

const GCM_TAG_BYTES = 16;

function gcmAlgorithm(key: Buffer): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  // Chosen by key length as the official Go SDK does; real APIv3 keys are 32 bytes (see decryptNotifyResource).
  switch (key.length) {
    case 16:
      return 'aes-128-gcm';
    case 24:
      return 'aes-192-gcm';
    case 32:
      return 'aes-256-gcm';
    default:
      throw new WechatPayCryptoError('invalid_key');
  }
}

export interface AeadInput {
  key: string | Buffer;
  /** UTF-8 text as WeChat Pay sends it (12 chars in notifies). */
  nonce: string;
  /** May be ""; it is still authenticated. */
  associatedData: string;
}

/** Decrypts base64(ciphertext ‖ 16-byte tag). Any tampering or wrong key → `decrypt_failed`. */
export function decryptAeadAesGcm(input: AeadInput & { ciphertext: string }): string {
  const key = typeof input.key === 'string' ? Buffer.from(input.key, 'utf8') : input.key;
  const algorithm = gcmAlgorithm(key);
  const sealed = Buffer.from(input.ciphertext, 'base64');
  if (sealed.length < GCM_TAG_BYTES || input.nonce.length === 0) throw new WechatPayCryptoError('invalid_resource');
  try {
    const decipher = createDecipheriv(algorithm, key, Buffer.from(input.nonce, 'utf8'));
    decipher.setAuthTag(sealed.subarray(sealed.length - GCM_TAG_BYTES));
    decipher.setAAD(Buffer.from(input.associatedData, 'utf8'));
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - GCM_TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw new WechatPayCryptoError('decrypt_failed');
  }
}

export function encryptAeadAesGcm(input: AeadInput & { plaintext: string }): string {
  const key = typeof input.key === 'string' ? Buffer.from(input.key, 'utf8') : input.key;
  const cipher = createCipheriv(gcmAlgorithm(key), key, Buffer.from(input.nonce, 'utf8'));
  cipher.setAAD(Buffer.from(input.associatedData, 'utf8'));
  return Buffer.concat([cipher.update(input.plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64');
}

/** The `resource` of a payment or refund notify. */
export interface NotifyResource {
  original_type?: string;
  algorithm: string;
  ciphertext: string;
  associated_data?: string;
  nonce: string;
}

/** Decrypts a notify's resource with the 32-byte APIv3 key; returns the plaintext JSON text. */
export function decryptNotifyResource(apiV3Key: string, resource: NotifyResource): string {
  if (Buffer.byteLength(apiV3Key, 'utf8') !== 32) throw new WechatPayCryptoError('invalid_key');
  if (resource.algorithm !== 'AEAD_AES_256_GCM') throw new WechatPayCryptoError('invalid_resource');
  return decryptAeadAesGcm({
    key: apiV3Key,
    nonce: resource.nonce,
    associatedData: resource.associated_data ?? '',
    ciphertext: resource.ciphertext,
  });
}

export function encryptNotifyResource(
  apiV3Key: string,
  plaintext: string,
  options: { nonce: string; associatedData: string; originalType: string },
): Required<NotifyResource> {
  if (Buffer.byteLength(apiV3Key, 'utf8') !== 32) throw new WechatPayCryptoError('invalid_key');
  return {
    original_type: options.originalType,
    algorithm: 'AEAD_AES_256_GCM',
    ciphertext: encryptAeadAesGcm({ key: apiV3Key, nonce: options.nonce, associatedData: options.associatedData, plaintext }),
    associated_data: options.associatedData,
    nonce: options.nonce,
  };
}

// ---- paySign for wx.requestPayment / getBrandWCPayRequest (§5.4) ----

export interface PaySignInput {
  /** The app the user pays in (the mini-program AppID for MP payment); signed even though MP does not pass it. */
  appId: string;
  timeStamp: string;
  nonceStr: string;
  /** "prepay_id=…" */
  package: string;
}

export function paySignMessage(input: PaySignInput): string {
  return `${input.appId}\n${input.timeStamp}\n${input.nonceStr}\n${input.package}\n`;
}

export function createPaySign(privateKey: KeyObject, input: PaySignInput): string {
  return signMessage(privateKey, paySignMessage(input));
}

export interface RequestPaymentParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

/** What the client passes to wx.requestPayment. Its success callback is not proof of payment: only the notify is. */
export function buildRequestPaymentParams(params: {
  privateKey: KeyObject;
  appId: string;
  prepayId: string;
  timeStamp?: string;
  nonceStr?: string;
}): RequestPaymentParams {
  const input: PaySignInput = {
    appId: params.appId,
    timeStamp: params.timeStamp ?? unixSecondsString(),
    nonceStr: params.nonceStr ?? createNonceStr(),
    package: `prepay_id=${params.prepayId}`,
  };
  return {
    timeStamp: input.timeStamp,
    nonceStr: input.nonceStr,
    package: input.package,
    signType: 'RSA',
    paySign: createPaySign(params.privateKey, input),
  };
}
