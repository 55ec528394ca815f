import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import zlib from 'node:zlib';
import type { ServerProcess } from '../support/process';

/**
 * Helpers for the mini-program's h5 end-to-end test: the h5 build (served by the server itself at /h5/), Debian's
 * Chromium through playwright-core (a dependency of the miniprogram workspace), and a real PNG to upload as a claim
 * photo.
 */

export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const MINIPROGRAM_DIR = path.join(REPO_ROOT, 'miniprogram');
export const H5_DIST = path.join(MINIPROGRAM_DIR, 'dist-h5');
export const ARTIFACTS_DIR = path.join(REPO_ROOT, 'test-artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** playwright-core as the miniprogram workspace installed it. */
export function loadPlaywright(): typeof import('playwright-core') {
  return createRequire(path.join(MINIPROGRAM_DIR, 'package.json'))('playwright-core');
}

/** The h5 build, built here (≈ 1–2 min) only when CI or a developer has not built it already. */
export function ensureH5Build(): void {
  if (fs.existsSync(path.join(H5_DIST, 'index.html'))) return;
  process.stderr.write('[miniprogram-h5] no miniprogram/dist-h5: running `npm run build:h5 -w miniprogram`\n');
  const result = spawnSync('npm', ['run', 'build:h5', '-w', 'miniprogram'], { cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, TARO_APP_API_BASE: '' } });
  if (result.status !== 0 || !fs.existsSync(path.join(H5_DIST, 'index.html'))) throw new Error('the h5 build failed');
}

/** A valid resident ID number for a birth date (check character per GB 11643). */
export function residentId(birthDate: string, sequence = '123'): string {
  const first17 = `110101${birthDate.replace(/-/g, '')}${sequence}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, digit, i) => acc + Number(digit) * weights[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

/** A real PNG (a small receipt-coloured square), for the claim photo. */
export function pngBytes(width = 64, height = 48): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      const stripe = y % 8 < 2 && x > 6 && x < width - 6;
      rows[row + 1 + x * 3] = stripe ? 90 : 245;
      rows[row + 2 + x * 3] = stripe ? 120 : 240;
      rows[row + 3 + x * 3] = stripe ? 200 : 225;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * startServerProcess gives the server 60 s to answer /healthz. A first start on a fresh database imports the
 * knowledge and trains the language models, which on a busy 2-core CI machine can take longer: keep waiting (the
 * process is still starting) up to `timeoutMs`, and fail at once if it exits.
 */
export async function serverUp(server: ServerProcess, port: number, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void server.exited.then(() => { exited = true; });
  try {
    await server.listening;
    return;
  } catch (err) {
    if (exited || !/within 60 s/.test(String(err))) throw err;
  }
  while (Date.now() < deadline) {
    if (exited) throw new Error(`server exited before listening:\n${server.output()}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return;
    } catch { /* still starting */ }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`server did not answer /healthz within ${timeoutMs / 1000} s:\n${server.output()}`);
}
