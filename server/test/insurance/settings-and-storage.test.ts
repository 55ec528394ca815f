import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { loadInsuranceSettings } from '../../src/insurance/settings';
import { setupInsurance } from '../../src/insurance/setup';
import { createLogger } from '../../src/logging/logger';
import { loadPaySettings } from '../../src/payments/settings';
import { InvalidStorageKeyError, LocalDiskStorage, MemoryStorage } from '../../src/storage';
import { MERCHANT_SERIAL, PLATFORM_SERIAL, keys, pay } from '../fixtures/wechat';

const fixturesDir = path.resolve(__dirname, '../fixtures/wechat');
const PAY_ENV = {
  WECHATPAY_MCHID: '1230000109',
  WECHATPAY_SERIAL: MERCHANT_SERIAL,
  WECHATPAY_PRIVATE_KEY: path.join(fixturesDir, 'wechatpay-go-test-key.pem'),
  WECHATPAY_PLATFORM_PUBLIC_KEY: keys.platformPublicPem,
  WECHATPAY_PLATFORM_PUBLIC_KEY_ID: PLATFORM_SERIAL,
  WECHATPAY_APIV3_KEY: pay.notify.apiv3_key,
  WECHATPAY_NOTIFY_URL: 'https://cs.example.com/wechat/pay/notify',
};
const MP_ENV = { WECHAT_MP_APPID: 'wx4f4bc4dec97d474b', WECHAT_MP_SECRET: 'mp-secret-123' };

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('WeChat Pay settings (WECHATPAY_*)', () => {
  it('are off when none is set, and read PEMs inline or from a path', () => {
    expect(loadPaySettings({})).toBeUndefined();
    const settings = loadPaySettings(PAY_ENV);
    expect(settings).toMatchObject({
      mchid: '1230000109',
      apiBase: 'https://api.mch.weixin.qq.com',
      refundNotifyUrl: 'https://cs.example.com/wechat/pay/refund-notify',
      timeoutMs: 5_000,
    });
    expect([...(settings?.platformPublicKeys.keys() ?? [])]).toEqual([PLATFORM_SERIAL]);
  });

  it('name every missing or malformed variable of a half-configured group', () => {
    const missing = problemsOf(() => loadPaySettings({ WECHATPAY_MCHID: '1230000109' }));
    for (const name of ['WECHATPAY_SERIAL', 'WECHATPAY_PRIVATE_KEY', 'WECHATPAY_PLATFORM_PUBLIC_KEY', 'WECHATPAY_APIV3_KEY', 'WECHATPAY_NOTIFY_URL']) {
      expect(missing.some((p) => p.startsWith(`${name}:`))).toBe(true);
    }
    expect(problemsOf(() => loadPaySettings({ ...PAY_ENV, WECHATPAY_APIV3_KEY: 'short' }))).toEqual([expect.stringMatching(/^WECHATPAY_APIV3_KEY: must be the 32-character/)]);
    expect(problemsOf(() => loadPaySettings({ ...PAY_ENV, WECHATPAY_PRIVATE_KEY: '/nonexistent/key.pem' }))[0]).toMatch(/^WECHATPAY_PRIVATE_KEY:/);
    expect(problemsOf(() => loadPaySettings({ ...PAY_ENV, WECHATPAY_NOTIFY_URL: 'https://cs.example.com/notify?x=1' }))[0]).toMatch(/^WECHATPAY_NOTIFY_URL:/);
  });
});

describe('insurance and mini-program settings', () => {
  it('default sensibly, and fit claim documents in the body limit', () => {
    const settings = loadInsuranceSettings({});
    expect(settings.miniProgram).toBeUndefined();
    expect(settings).toMatchObject({ sessions: { idleDays: 7, maxDays: 30 }, renewalReminderDays: 30, jobIntervalMinutes: 60 });
    expect(settings.maxDocumentBytes).toBe(Math.floor(((1024 * 1024 - 4096) * 3) / 4));
    expect(loadInsuranceSettings({ ...MP_ENV, WECHAT_MP_TEMPLATE_RENEWAL: 'T1' }).miniProgram).toMatchObject({
      appId: MP_ENV.WECHAT_MP_APPID,
      apiBase: 'https://api.weixin.qq.com',
      templates: { renewalDue: 'T1' },
    });
  });

  it('name what is missing or inconsistent', () => {
    expect(problemsOf(() => loadInsuranceSettings({ WECHAT_MP_APPID: MP_ENV.WECHAT_MP_APPID }))).toEqual([expect.stringMatching(/^WECHAT_MP_SECRET: is required/)]);
    expect(problemsOf(() => loadInsuranceSettings({ CLAIM_DOCUMENT_MAX_BYTES: '5000000' }))[0]).toMatch(/^CLAIM_DOCUMENT_MAX_BYTES: .*raise BODY_LIMIT_BYTES to at least 6670763/);
    expect(problemsOf(() => loadInsuranceSettings({ CLAIM_DOCUMENT_MAX_BYTES: '5000000', BODY_LIMIT_BYTES: '7000000' }))).toEqual([]);
    expect(problemsOf(() => loadInsuranceSettings({ MP_SESSION_IDLE_DAYS: '0' }))[0]).toMatch(/^MP_SESSION_IDLE_DAYS:/);
  });

  it('wires routers from the environment, and refuses WeChat Pay without the mini-program', () => {
    const config = loadConfig({});
    const logger = createLogger('silent');
    expect(problemsOf(() => setupInsurance({ config, logger, env: PAY_ENV, startJobs: false }))).toEqual([expect.stringMatching(/^WECHAT_MP_APPID:/)]);
    const storage = new MemoryStorage();
    expect(setupInsurance({ config, logger, env: {}, storage, startJobs: false }).routers).toHaveLength(2);
    const full = setupInsurance({ config, logger, env: { ...MP_ENV, ...PAY_ENV }, storage, startJobs: false });
    expect(full.routers).toHaveLength(3);
    expect(full.sessions).toBeDefined();
  });
});

describe('document storage', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'storage-test-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps bytes and type on local disk, and refuses keys that climb out', async () => {
    const storage = new LocalDiskStorage(dir);
    await storage.put('claims/axc1/doc_1.pdf', Buffer.from('%PDF-1.4'), 'application/pdf');
    expect(await storage.get('claims/axc1/doc_1.pdf')).toEqual({ bytes: Buffer.from('%PDF-1.4'), contentType: 'application/pdf' });
    expect(fs.readdirSync(path.join(dir, 'claims', 'axc1')).sort()).toEqual(['doc_1.pdf', 'doc_1.pdf.type']);
    await storage.delete('claims/axc1/doc_1.pdf');
    expect(await storage.get('claims/axc1/doc_1.pdf')).toBeUndefined();
    for (const key of ['../etc/passwd', '/abs/path', 'a/../../b', 'a//b', 'a/b c']) {
      await expect(storage.put(key, Buffer.from('x'), 'text/plain')).rejects.toBeInstanceOf(InvalidStorageKeyError);
    }
    await expect(new MemoryStorage().get('..')).rejects.toBeInstanceOf(InvalidStorageKeyError);
  });
});
