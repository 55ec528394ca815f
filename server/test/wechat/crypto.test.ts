import { createCipheriv, createHash } from 'node:crypto';
import {
  MiniProgramDataError,
  WXBizMsgCrypt,
  WxBizMsgCryptError,
  WxBizMsgCryptErrorCode,
  computeCallbackSignature,
  constantTimeEquals,
  decryptMiniProgramData,
  isValidCallbackSignature,
} from '../../src/wechat/crypto';
import { derived, spec } from '../fixtures/wechat';

const fixedRandom = (ascii: string) => () => Buffer.from(ascii, 'ascii');

function expectCryptError(run: () => unknown, code: number): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(WxBizMsgCryptError);
  expect((caught as WxBizMsgCryptError).code).toBe(code);
}

/** Encrypts an arbitrary padded buffer with the T1 key, to build malformed plaintexts. */
function encryptRaw(encodingAESKey: string, plain: Buffer): string {
  const key = Buffer.from(`${encodingAESKey}=`, 'base64');
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
}

const t1 = spec.T1;
const t1Crypt = (overrides: Partial<{ token: string; receiveId: string; random: string }> = {}) =>
  new WXBizMsgCrypt({
    token: overrides.token ?? t1.token,
    encodingAESKey: t1.encodingAESKey,
    receiveId: overrides.receiveId ?? t1.appId,
    randomPrefix: overrides.random ? fixedRandom(overrides.random) : undefined,
  });

describe('callback signatures (§1.2)', () => {
  it('T0: OA plain-mode signature from the official doc', () => {
    const { token, timestamp, nonce } = spec.T0;
    expect([token, timestamp, nonce].sort().join('')).toBe(spec.T0.sortedConcat);
    expect(computeCallbackSignature(token, timestamp, nonce)).toBe(spec.T0.signature);
    expect(isValidCallbackSignature(token, spec.T0.signature, timestamp, nonce)).toBe(true);
  });

  it('T1: msg_signature over Encrypt, and the derived plain signature', () => {
    expect(computeCallbackSignature(t1.token, t1.timestamp, t1.nonce, t1.encrypt)).toBe(t1.msgSignature);
    expect(computeCallbackSignature(t1.token, t1.timestamp, t1.nonce)).toBe(t1.plainSignature);
    expect(t1Crypt().verifySignature(t1.msgSignature, t1.timestamp, t1.nonce, t1.encrypt)).toBe(true);
  });

  it('T8: node-webot signature-only vector', () => {
    const { token, timestamp, nonce, encrypt, signature } = spec.T8;
    expect(computeCallbackSignature(token, timestamp, nonce, encrypt)).toBe(signature);
  });

  it('T5: wechatpy echostr and decrypt signatures', () => {
    const t5 = spec.T5;
    expect(computeCallbackSignature(t5.token, t5.echo.timestamp, t5.echo.nonce, t5.echo.echostr)).toBe(t5.echo.signature);
    expect(computeCallbackSignature(t5.token, t5.timestamp, t5.nonce, t5.decrypt.encrypt)).toBe(t5.decrypt.msgSignature);
  });

  it('is 40 lowercase hex chars', () => {
    expect(computeCallbackSignature('a', '1', '2')).toMatch(/^[0-9a-f]{40}$/);
  });

  it('rejects a wrong token, an uppercase copy, a prefix and an empty signature', () => {
    expect(isValidCallbackSignature('spamtesx', t1.plainSignature, t1.timestamp, t1.nonce)).toBe(false);
    expect(isValidCallbackSignature(t1.token, t1.plainSignature.toUpperCase(), t1.timestamp, t1.nonce)).toBe(false);
    expect(isValidCallbackSignature(t1.token, t1.plainSignature.slice(0, 39), t1.timestamp, t1.nonce)).toBe(false);
    expect(isValidCallbackSignature(t1.token, '', t1.timestamp, t1.nonce)).toBe(false);
  });

  it('compares in constant time without throwing on different lengths', () => {
    expect(constantTimeEquals('abc', 'abc')).toBe(true);
    expect(constantTimeEquals('abc', 'abd')).toBe(false);
    expect(constantTimeEquals('abc', 'abcd')).toBe(false);
    expect(constantTimeEquals('中', '中')).toBe(true);
  });
});

describe('WXBizMsgCrypt key handling (§1.1)', () => {
  it('derives the 32-byte AES key of T1', () => {
    const key = Buffer.from(`${t1.encodingAESKey}=`, 'base64');
    expect(key.toString('hex')).toBe(t1.aesKeyHex);
  });

  it.each([
    ['42 chars', t1.encodingAESKey.slice(0, 42)],
    ['44 chars', `${t1.encodingAESKey}A`],
    ['a non-alphanumeric char', `${t1.encodingAESKey.slice(0, 42)}+`],
    ['empty', ''],
  ])('refuses an EncodingAESKey of %s with -40004', (_label, encodingAESKey) => {
    expectCryptError(
      () => new WXBizMsgCrypt({ token: 't', encodingAESKey, receiveId: 'wx' }),
      WxBizMsgCryptErrorCode.IllegalAesKey,
    );
  });
});

describe('decrypt (§1.4) with the official vectors', () => {
  it('T1: OA official sample decrypts to the exact plaintext with LFs', () => {
    const crypt = t1Crypt();
    const plaintext = crypt.decrypt(t1.encrypt);
    expect(plaintext).toBe(t1.plaintext);
    expect(Buffer.byteLength(plaintext)).toBe(t1.msgLen);
    expect(crypt.decryptVerified({ msgSignature: t1.msgSignature, timestamp: t1.timestamp, nonce: t1.nonce, encrypt: t1.encrypt })).toBe(
      t1.plaintext,
    );
  });

  it('T1: round-trips with the sample random prefix to the same ciphertext (pad = 2)', () => {
    expect(t1Crypt({ random: t1.random }).encrypt(t1.plaintext)).toBe(t1.encrypt);
  });

  it('T3: WeCom URL verification echostr and message push', () => {
    const t3 = spec.T3;
    const crypt = new WXBizMsgCrypt({ token: t3.token, encodingAESKey: t3.encodingAESKey, receiveId: t3.corpId });
    expect(decodeURIComponent(t3.verify.echostrUrlEncoded)).toBe(t3.verify.echostr);
    expect(
      crypt.decryptVerified({ msgSignature: t3.verify.msgSignature, timestamp: t3.verify.timestamp, nonce: t3.verify.nonce, encrypt: t3.verify.echostr }),
    ).toBe(t3.verify.plaintext);
    const message = crypt.decryptVerified({
      msgSignature: t3.push.msgSignature,
      timestamp: t3.push.timestamp,
      nonce: t3.push.nonce,
      encrypt: t3.push.encrypt,
    });
    expect(message).toBe(t3.push.plaintext);
    expect(Buffer.byteLength(message)).toBe(t3.push.msgLen);
  });

  it('T4: WeCom v2 sample with a ww corp id', () => {
    const t4 = spec.T4;
    const crypt = new WXBizMsgCrypt({ token: t4.token, encodingAESKey: t4.encodingAESKey, receiveId: t4.corpId });
    expect(
      crypt.decryptVerified({ msgSignature: t4.verify.msgSignature, timestamp: t4.verify.timestamp, nonce: t4.verify.nonce, encrypt: t4.verify.echostr }),
    ).toBe(t4.verify.plaintext);
    expect(
      crypt.decryptVerified({ msgSignature: t4.push.msgSignature, timestamp: t4.push.timestamp, nonce: t4.push.nonce, encrypt: t4.push.encrypt }),
    ).toBe(t4.push.plaintext);
  });

  it('T5: wechatpy echostr, and the pad = 1 edge case', () => {
    const t5 = spec.T5;
    const crypt = new WXBizMsgCrypt({ token: t5.token, encodingAESKey: t5.encodingAESKey, receiveId: t5.receiveId });
    expect(
      crypt.decryptVerified({ msgSignature: t5.echo.signature, timestamp: t5.echo.timestamp, nonce: t5.echo.nonce, encrypt: t5.echo.echostr }),
    ).toBe(t5.echo.plaintext);
    const message = crypt.decryptVerified({
      msgSignature: t5.decrypt.msgSignature,
      timestamp: t5.timestamp,
      nonce: t5.nonce,
      encrypt: t5.decrypt.encrypt,
    });
    expect(message).toContain(`<FromUserName><![CDATA[${t5.decrypt.fromUserName}]]></FromUserName>`);
    expect(message).toContain(`<Content><![CDATA[${t5.decrypt.content}]]></Content>`);
    expect(message).toContain(`<MsgId>${t5.decrypt.msgId}</MsgId>`);
  });

  it('T7: full-block padding (pad = 32) decrypts', () => {
    const v = derived.full_block_pad;
    expect(t1Crypt({ receiveId: v.appid }).decrypt(v.encrypt)).toBe(v.msg);
  });

  it('derived WeCom echostr vector', () => {
    const v = derived.wecom_echostr_derived;
    const crypt = new WXBizMsgCrypt({ token: v.token, encodingAESKey: v.encodingAESKey, receiveId: v.corpid, randomPrefix: fixedRandom(v.random) });
    expect(crypt.encrypt(v.plaintext)).toBe(v.echostr);
    expect(crypt.signature(v.timestamp, v.nonce, v.echostr)).toBe(v.msg_signature);
    expect(crypt.decryptVerified({ msgSignature: v.msg_signature, timestamp: v.timestamp, nonce: v.nonce, encrypt: v.echostr })).toBe(v.plaintext);
  });
});

describe('encrypt (§1.3) and the reply envelope (§1.5)', () => {
  it.each(spec.T2.cases.map((c, i) => [i, c] as const))('T2 case %i: Java sample with fixed random, UTF-8 lengths', (_i, c) => {
    const crypt = new WXBizMsgCrypt({
      token: spec.T2.token,
      encodingAESKey: spec.T2.encodingAESKey,
      receiveId: spec.T2.appId,
      randomPrefix: fixedRandom(spec.T2.random),
    });
    expect(crypt.encrypt(c.plaintext)).toBe(c.encrypt);
    expect(crypt.decrypt(c.encrypt)).toBe(c.plaintext);
  });

  it('T5: byte-exact encrypted passive reply', () => {
    const t5 = spec.T5;
    const crypt = new WXBizMsgCrypt({
      token: t5.token,
      encodingAESKey: t5.encodingAESKey,
      receiveId: t5.receiveId,
      randomPrefix: fixedRandom(t5.random),
    });
    expect(crypt.encryptReply(t5.replyPlaintext, t5.timestamp, t5.nonce)).toBe(t5.envelope);
  });

  it('T6: OA passive-reply envelope for the T1 credentials (Chinese text, pad = 31)', () => {
    const v = derived.oa_reply;
    const crypt = new WXBizMsgCrypt({ token: v.token, encodingAESKey: v.encodingAESKey, receiveId: v.appid, randomPrefix: fixedRandom(v.random) });
    expect(Buffer.byteLength(v.plaintext)).toBe(v.plaintext_utf8_len);
    expect(crypt.encrypt(v.plaintext)).toBe(v.encrypt);
    expect(crypt.signature(v.timestamp, v.nonce, v.encrypt)).toBe(v.msg_signature);
    const envelope = crypt.encryptReply(v.plaintext, v.timestamp, v.nonce);
    expect(envelope).toBe(
      `<xml>\n<Encrypt><![CDATA[${v.encrypt}]]></Encrypt>\n<MsgSignature><![CDATA[${v.msg_signature}]]></MsgSignature>\n` +
        `<TimeStamp>${v.timestamp}</TimeStamp>\n<Nonce><![CDATA[${v.nonce}]]></Nonce>\n</xml>`,
    );
    expect(envelope.endsWith('\n')).toBe(false);
  });

  it('T7: full-block padding (pad = 32) encrypts', () => {
    const v = derived.full_block_pad;
    expect(t1Crypt({ receiveId: v.appid, random: v.random }).encrypt(v.msg)).toBe(v.encrypt);
  });

  it('round-trips random messages with random prefixes (every pad length)', () => {
    const crypt = t1Crypt();
    for (let length = 0; length < 70; length += 1) {
      const message = '中a'.repeat(length).slice(0, length);
      expect(crypt.decrypt(crypt.encrypt(message))).toBe(message);
    }
  });

  it('refuses a random prefix that is not 16 bytes', () => {
    expectCryptError(() => t1Crypt({ random: 'short' }).encrypt('x'), WxBizMsgCryptErrorCode.EncryptAES);
  });

  it('refuses a timestamp or nonce that would break the envelope', () => {
    expectCryptError(() => t1Crypt().encryptReply('<xml/>', '12a', '1'), WxBizMsgCryptErrorCode.GenReturnXml);
    expectCryptError(() => t1Crypt().encryptReply('<xml/>', '12', ']]>'), WxBizMsgCryptErrorCode.GenReturnXml);
  });
});

describe('negative cases (§1.7 table)', () => {
  it('T1 with token spamtesx → -40001', () => {
    expectCryptError(
      () => t1Crypt({ token: 'spamtesx' }).decryptVerified({ msgSignature: t1.msgSignature, timestamp: t1.timestamp, nonce: t1.nonce, encrypt: t1.encrypt }),
      WxBizMsgCryptErrorCode.ValidateSignature,
    );
  });

  it('one char of Encrypt flipped → signature failure', () => {
    const flipped = `${t1.encrypt.slice(0, 10)}${t1.encrypt[10] === 'A' ? 'B' : 'A'}${t1.encrypt.slice(11)}`;
    expectCryptError(
      () => t1Crypt().decryptVerified({ msgSignature: t1.msgSignature, timestamp: t1.timestamp, nonce: t1.nonce, encrypt: flipped }),
      WxBizMsgCryptErrorCode.ValidateSignature,
    );
  });

  it('re-signed tampered ciphertext → -40007 or -40008 (or a refused receive id), never a plaintext', () => {
    const crypt = t1Crypt();
    const raw = Buffer.from(t1.encrypt, 'base64');
    for (let index = raw.length - 32; index < raw.length; index += 1) {
      const tampered = Buffer.from(raw);
      tampered[index] ^= 0x01;
      const encrypt = tampered.toString('base64');
      const msgSignature = crypt.signature(t1.timestamp, t1.nonce, encrypt);
      let caught: unknown;
      try {
        crypt.decryptVerified({ msgSignature, timestamp: t1.timestamp, nonce: t1.nonce, encrypt });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(WxBizMsgCryptError);
      expect([WxBizMsgCryptErrorCode.DecryptAES, WxBizMsgCryptErrorCode.IllegalBuffer, WxBizMsgCryptErrorCode.ValidateReceiveId]).toContain(
        (caught as WxBizMsgCryptError).code,
      );
    }
  });

  it('T1 decrypted with configured appid wx0000000000000000 → -40005', () => {
    expectCryptError(() => t1Crypt({ receiveId: 'wx0000000000000000' }).decrypt(t1.encrypt), WxBizMsgCryptErrorCode.ValidateReceiveId);
  });

  it('a receive id that is only a prefix of ours → -40005', () => {
    const crypt = t1Crypt({ receiveId: 'wx2c2769f8efd9abc' });
    expectCryptError(() => crypt.decrypt(t1.encrypt), WxBizMsgCryptErrorCode.ValidateReceiveId);
  });

  it('ciphertext truncated to 31 bytes → -40010', () => {
    const truncated = Buffer.from(t1.encrypt, 'base64').subarray(0, 31).toString('base64');
    expectCryptError(() => t1Crypt().decrypt(truncated), WxBizMsgCryptErrorCode.DecodeBase64);
    expectCryptError(() => t1Crypt().decrypt(t1.encrypt.slice(0, 31)), WxBizMsgCryptErrorCode.DecodeBase64);
  });

  it('empty or non-base64 Encrypt → -40010', () => {
    expectCryptError(() => t1Crypt().decrypt(''), WxBizMsgCryptErrorCode.DecodeBase64);
    expectCryptError(() => t1Crypt().decrypt('not base64!'), WxBizMsgCryptErrorCode.DecodeBase64);
  });

  it('T3 echostr with + turned into space (an unencoded + in the query) → signature failure', () => {
    const t3 = spec.T3;
    const crypt = new WXBizMsgCrypt({ token: t3.token, encodingAESKey: t3.encodingAESKey, receiveId: t3.corpId });
    const mangled = t3.verify.echostr.replace(/\+/g, ' ');
    expect(mangled).not.toBe(t3.verify.echostr);
    expectCryptError(
      () => crypt.decryptVerified({ msgSignature: t3.verify.msgSignature, timestamp: t3.verify.timestamp, nonce: t3.verify.nonce, encrypt: mangled }),
      WxBizMsgCryptErrorCode.ValidateSignature,
    );
  });

  describe('strict padding and length checks', () => {
    const key = t1.encodingAESKey;
    const body = (messageLength: number, message: Buffer, receiveId: string) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(messageLength);
      return Buffer.concat([Buffer.alloc(16, 0x61), length, message, Buffer.from(receiveId)]);
    };
    const pad = (plain: Buffer, value: number, count = value) => Buffer.concat([plain, Buffer.alloc(count, value)]);
    const align = (plain: Buffer) => 32 - (plain.length % 32);

    it('a pad byte of 0 → -40008', () => {
      const plain = body(3, Buffer.from('abc'), t1.appId);
      const n = align(plain);
      const padded = Buffer.concat([plain, Buffer.alloc(n - 1, n), Buffer.from([0])]);
      expectCryptError(() => t1Crypt().decrypt(encryptRaw(key, padded)), WxBizMsgCryptErrorCode.IllegalBuffer);
    });

    it('a pad byte above 32 → -40008', () => {
      const plain = body(3, Buffer.from('abc'), t1.appId);
      const n = align(plain);
      const padded = Buffer.concat([plain, Buffer.alloc(n, 33)]);
      expectCryptError(() => t1Crypt().decrypt(encryptRaw(key, padded)), WxBizMsgCryptErrorCode.IllegalBuffer);
    });

    it('inconsistent pad bytes → -40008', () => {
      const plain = body(3, Buffer.from('abc'), t1.appId); // 41 bytes → 23 pad bytes
      const n = align(plain);
      const padded = pad(plain, n);
      padded[padded.length - 2] = n - 1;
      expectCryptError(() => t1Crypt().decrypt(encryptRaw(key, padded)), WxBizMsgCryptErrorCode.IllegalBuffer);
    });

    it('a msg_len beyond the content → -40008', () => {
      const plain = body(1000, Buffer.from('abc'), t1.appId);
      expectCryptError(() => t1Crypt().decrypt(encryptRaw(key, pad(plain, align(plain)))), WxBizMsgCryptErrorCode.IllegalBuffer);
    });

    it('a 32-byte plaintext that is all padding → -40008', () => {
      expectCryptError(() => t1Crypt().decrypt(encryptRaw(key, Buffer.alloc(32, 32))), WxBizMsgCryptErrorCode.IllegalBuffer);
    });

    it('a well-formed buffer is accepted (control for the cases above)', () => {
      const plain = body(3, Buffer.from('abc'), t1.appId);
      expect(t1Crypt().decrypt(encryptRaw(key, pad(plain, align(plain))))).toBe('abc');
    });
  });

  it('error messages carry the code only', () => {
    expect.assertions(2);
    try {
      t1Crypt({ receiveId: 'wx0000000000000000' }).decrypt(t1.encrypt);
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toBe('WXBizMsgCrypt -40005 ValidateReceiveId');
      expect(message).not.toContain(t1.appId);
    }
  });
});

describe('mini-program encryptedData (§4.2)', () => {
  const m1 = spec.M1;

  it('M1: decrypts the wechatpy vector and checks the watermark', () => {
    const data = decryptMiniProgramData({ appId: m1.appId, sessionKey: m1.sessionKey, iv: m1.iv, encryptedData: m1.encryptedData });
    expect(data.openId).toBe(m1.openId);
    expect(data.unionId).toBe(m1.unionId);
    expect(data.watermark).toEqual({ timestamp: m1.watermarkTimestamp, appid: m1.appId });
  });

  it('refuses data whose watermark names another app', () => {
    expect(() =>
      decryptMiniProgramData({ appId: 'wx0000000000000000', sessionKey: m1.sessionKey, iv: m1.iv, encryptedData: m1.encryptedData }),
    ).toThrow(MiniProgramDataError);
  });

  it('refuses a wrong session key, a bad iv and truncated data with stable codes', () => {
    const wrongKey = createHash('md5').update('x').digest().toString('base64');
    const codeOf = (params: Parameters<typeof decryptMiniProgramData>[0]) => {
      try {
        decryptMiniProgramData(params);
      } catch (error) {
        return (error as MiniProgramDataError).code;
      }
      return 0;
    };
    expect(codeOf({ ...m1, sessionKey: 'c2hvcnQ=' })).toBe(-41001);
    expect(codeOf({ ...m1, iv: 'c2hvcnQ=' })).toBe(-41002);
    expect(codeOf({ ...m1, sessionKey: wrongKey })).toBe(-41003);
    expect(codeOf({ ...m1, encryptedData: m1.encryptedData.slice(0, 10) })).toBe(-41004);
  });
});
