import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { withDatabaseName } from '../../src/db/connection';
import { Claim, Policy } from '../../src/insurance/models';
import { FAKE_MINI_PROGRAM, FakeWeChatApi } from '../fakes/wechat-api';
import { FakeWechatPay } from '../fakes/wechat-pay';
import { MERCHANT_SERIAL, PLATFORM_SERIAL, keys, pay } from '../fixtures/wechat';
import { useTestDatabase } from '../support/database';
import { freePort, startServerProcess, type ServerProcess } from '../support/process';
import {
  ARTIFACTS_DIR, CHROMIUM, H5_DIST, ensureH5Build, loadPlaywright, pngBytes, residentId, serverUp,
} from './miniprogram-h5-harness';

const db = useTestDatabase(__filename);
jest.setTimeout(300_000);

const LOGIN_CODE = 'e2e-h5-login-code';
const OPENID = 'oE2eH5Buyer';
async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
const chinaDate = (offsetDays: number) => new Date(Date.now() + 8 * 3_600_000 + offsetDays * 86_400_000).toISOString().slice(0, 10);

/**
 * The mini-program's h5 build in Debian's Chromium against the real server (child process, test database, fake
 * WeChat API and fake WeChat Pay): log in → ask the bot → buy a policy through the fake Pay → see it under my
 * policies → file a claim with a photo. Screenshots go to test-artifacts/miniprogram-h5-*.png.
 */
// Debian's Chromium is part of CI; on a developer machine without it the test says so and is skipped.
const noBrowser = !fs.existsSync(CHROMIUM) && !process.env.CI;
if (noBrowser) process.stderr.write(`[miniprogram-h5] ${CHROMIUM} not found: skipped (apt-get install chromium, or set CHROMIUM_PATH)\n`);

(noBrowser ? describe.skip : describe)('mini-program h5 in a real browser', () => {
  let wechat: FakeWeChatApi;
  let wechatPay: FakeWechatPay;
  let server: ServerProcess;
  /** The h5 build as the server itself serves it (same origin as the API it calls). */
  let appUrl: string;
  let browser: Browser;
  let page: Page;
  let apiPort: number;
  let storageDir: string;

  const shot = async (name: string, fullHeight = false) => {
    const file = path.join(ARTIFACTS_DIR, `miniprogram-h5-${name}.png`);
    await page.waitForTimeout(400); // let Taro's 300 ms page slide-in finish
    if (fullHeight) {
      // Taro pages scroll inside their own container, so a "full page" shot means a tall viewport.
      const height = await page.evaluate<number>(
        `Math.max(window.innerHeight, ...[...document.querySelectorAll('.taro_page')].filter((el) => getComputedStyle(el).display !== 'none').map((el) => el.scrollHeight))`,
      );
      await page.setViewportSize({ width: 390, height: Math.min(height + 120, 3000) });
      await page.waitForTimeout(150);
      await page.screenshot({ path: file });
      await page.setViewportSize({ width: 390, height: 844 });
    } else {
      await page.screenshot({ path: file });
    }
  };
  const visible = (selector: string) => page.locator(selector).locator('visible=true');

  beforeAll(async () => {
    ensureH5Build();
    fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
    storageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-h5-docs-'));
    wechat = await FakeWeChatApi.start();
    wechatPay = await FakeWechatPay.start();
    wechat.addLoginCode(LOGIN_CODE, { openid: OPENID, appId: FAKE_MINI_PROGRAM.appId });
    apiPort = await freePort();
    server = startServerProcess(
      {
        MONGODB_URI: withDatabaseName(db.uri, db.name, { replace: true }),
        WECHAT_API_BASE: wechat.baseUrl,
        WECHAT_MP_APPID: FAKE_MINI_PROGRAM.appId,
        WECHAT_MP_SECRET: FAKE_MINI_PROGRAM.secret,
        WECHATPAY_MCHID: wechatPay.mchid,
        WECHATPAY_SERIAL: MERCHANT_SERIAL,
        WECHATPAY_PRIVATE_KEY: path.resolve(__dirname, '../fixtures/wechat/wechatpay-go-test-key.pem'),
        WECHATPAY_PLATFORM_PUBLIC_KEY: keys.platformPublicPem,
        WECHATPAY_PLATFORM_PUBLIC_KEY_ID: PLATFORM_SERIAL,
        WECHATPAY_APIV3_KEY: pay.notify.apiv3_key,
        WECHATPAY_API_BASE: wechatPay.baseUrl,
        WECHATPAY_NOTIFY_URL: `http://127.0.0.1:${apiPort}/wechat/pay/notify`,
        DOCUMENT_STORAGE_DIR: storageDir,
        MINIPROGRAM_H5_DIR: H5_DIST,
        LOG_LEVEL: process.env.E2E_SERVER_LOG_LEVEL ?? 'warn',
      },
      apiPort,
    );
    await serverUp(server, apiPort);
    appUrl = `http://127.0.0.1:${apiPort}/h5`;
    const { chromium } = loadPlaywright();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--font-render-hinting=none'],
    });
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, locale: 'zh-CN', hasTouch: true, isMobile: true });
    page = await context.newPage();
    page.on('pageerror', (err) => process.stderr.write(`[browser] ${err.message}\n`));
  });

  afterAll(async () => {
    if (process.env.E2E_SERVER_LOG_LEVEL) process.stderr.write(server?.output() ?? '');
    await browser?.close();
    if (server) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    await wechatPay?.stop();
    await wechat?.stop();
    if (storageDir) fs.rmSync(storageDir, { recursive: true, force: true });
  });

  it('logs in with the code in the URL and gets the bot\'s answer in the 客服 chat', async () => {
    await page.goto(`${appUrl}/?code=${LOGIN_CODE}#/pages/chat/index`);
    await visible('.chat__welcome').waitFor({ timeout: 30_000 });
    expect(new URL(page.url()).searchParams.get('code')).toBeNull(); // single-use code taken out of the address bar
    await shot('01-chat-welcome');

    await visible('.chat__input input').fill('怎么报案');
    await visible('.chat__send').click();
    const answer = visible('.msg--bot .msg__bubble').first();
    await answer.waitFor({ timeout: 30_000 });
    const answerText = (await answer.innerText()).trim();
    expect(answerText.length).toBeGreaterThan(4);
    expect(await visible('.msg--user').first().innerText()).toContain('怎么报案');
    await shot('02-chat-answer');
  });

  it('sends a photo in the chat: it shows in the conversation and the bot acknowledges it', async () => {
    const botBubbles = await visible('.msg--bot .msg__bubble').count();
    const chooser = page.waitForEvent('filechooser');
    await visible('.chat__photo').click();
    await (await chooser).setFiles({ name: 'accident.png', mimeType: 'image/png', buffer: pngBytes() });
    await visible('.msg--user .msg__image').waitFor({ timeout: 30_000 });
    await page.waitForFunction(`document.querySelectorAll('.msg--bot .msg__bubble').length > ${botBubbles}`, undefined, { timeout: 30_000 });
    await shot('02b-chat-photo');
  });

  it('buys a policy: product → quote form with validation → 模拟支付 → the fake WeChat Pay notifies → policy issued', async () => {
    await visible('.weui-tabbar__item:has-text("保险")').click();
    await visible('.product-card:has-text("安心保·综合意外险")').click();
    await visible('.bottom-bar .btn--primary:has-text("立即投保")').click();
    await visible('.quote__premium:has-text("¥")').waitFor();

    // Submitting empty is refused, field by field.
    await visible('.bottom-bar .btn--primary:has-text("提交投保")').click();
    await visible('.submit-error').waitFor();
    expect(await visible('.field__error').allInnerTexts()).toEqual(expect.arrayContaining(['请填写姓名', '请填写身份证号', '请填写手机号']));

    for (const no of await visible('.health-q .chip:has-text("否")').all()) await no.click();
    await visible('.health-q .chip--active').nth(1).waitFor(); // both questions answered 否
    await visible('.input--holderName input').fill('张安心');
    await visible('.input--holderIdCard input').fill(residentId('1990-01-01'));
    await visible('.input--holderPhone input').fill('13800138000');
    await visible('.chip:has-text("50万元")').click();
    await visible('.quote__premium:has-text("¥300")').waitFor(); // 50万 × 0.60‰ at 36
    await shot('03-quote-form', true);

    await visible('.bottom-bar .btn--primary:has-text("提交投保")').click();
    await visible('.pay__simulated').waitFor();
    const orderNumber = (await visible('.pay__order-no').innerText()).trim();
    expect(orderNumber).toMatch(/^AXO/);
    await shot('04-pay-simulated');

    await visible('.pay__button:has-text("模拟支付")').click();
    await visible('.pay__waiting').waitFor();
    await until(() => wechatPay.orders.has(orderNumber), 10_000); // the server prepaid with the fake
    const notified = await wechatPay.sendNotify(`http://127.0.0.1:${apiPort}/wechat/pay/notify`, orderNumber);
    expect(notified.status).toBeLessThan(300);
    await visible('.pay__title:has-text("保单已出单")').waitFor({ timeout: 30_000 });
    await shot('05-paid');

    await visible('.btn:has-text("我的保单")').click();
    await visible('.policy-card:has-text("安心保·综合意外险")').waitFor();
    expect(await visible('.policy-card').first().innerText()).toContain('待生效'); // cover starts tomorrow
    await shot('06-my-policies');
  });

  it('files a claim with a photo on the policy, and shows its timeline', async () => {
    // A month later: the policy is in force and something happened (the server counts days in China time).
    const policy = await Policy.findOne({ productId: 'accident' }).lean();
    expect(policy).toBeTruthy();
    const startsOn = chinaDate(-30);
    await Policy.updateOne({ _id: policy!._id }, { $set: { startsOn, startsAt: new Date(`${startsOn}T00:00:00+08:00`) } });

    await page.reload();
    await visible('.policy-card:has-text("保障中")').click();
    await visible('.bottom-bar .btn--primary:has-text("申请理赔")').waitFor();
    await shot('07-policy-detail');
    await visible('.bottom-bar .btn--primary:has-text("申请理赔")').click();

    await visible('.claim-description textarea').fill('下楼梯时摔倒，右脚踝骨折，在市第一医院就诊。');
    await visible('.input--place input').fill('上海市浦东新区');
    await visible('.input--amount input').fill('3200');
    await visible('.input--contactPhone input').fill('13800138000');
    const chooser = page.waitForEvent('filechooser');
    await visible('.photo--add').click();
    await (await chooser).setFiles({ name: 'receipt.png', mimeType: 'image/png', buffer: pngBytes() });
    await visible('.photo .photo__img').waitFor();
    await shot('08-claim-form', true);

    await visible('.bottom-bar .btn--primary:has-text("提交报案")').click();
    await visible('.timeline__title:has-text("已报案")').waitFor({ timeout: 30_000 });
    await visible('.claim-doc').waitFor();
    expect(await visible('.claim-doc').innerText()).toContain('receipt.png');
    await shot('09-claim-detail', true);

    const claims = await Claim.find({ policyId: policy!._id }).lean();
    expect(claims).toHaveLength(1);
    expect(claims[0]).toMatchObject({ status: 'reported', incident: { kind: 'accident', estimatedAmountFen: 320000 } });
    expect(claims[0].documents).toEqual([expect.objectContaining({ kind: 'accident_proof', fileName: 'receipt.png', contentType: 'image/png' })]);
  });
});
