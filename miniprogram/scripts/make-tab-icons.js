/**
 * Draws the tab bar icons (81×81 PNG, grey and selected blue) into src/assets/tab/. WeChat's tabBar takes only
 * local PNG/JPG files, no SVG, so the shapes are rasterised here (4× supersampled) and the PNGs are committed.
 * Run: node scripts/make-tab-icons.js
 */
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const SIZE = 81;
const SS = 4;
const COLORS = { normal: [0x8a, 0x8f, 0x99], active: [0x16, 0x77, 0xff] };

const inCircle = (x, y, cx, cy, r) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const inEllipse = (x, y, cx, cy, rx, ry) => ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1;
function inRoundRect(x, y, x0, y0, x1, y1, r) {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false;
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}
/** A stroke of width w around a filled shape: inside the shape but not inside its shrunken copy. */
const ring = (outer, inner) => (x, y) => outer(x, y) && !inner(x, y);

const SHAPES = {
  // 客服: a speech bubble with a tail and three dots.
  chat: (x, y) => {
    const bubble = ring((a, b) => inRoundRect(a, b, 10, 14, 71, 58, 14), (a, b) => inRoundRect(a, b, 16, 20, 65, 52, 9));
    const tail = y >= 56 && y <= 70 && x >= 22 && x <= 36 && x - 22 <= (70 - y) * 1.0 && x >= 22 + (y - 56) * 0.2;
    const dots = [28, 40.5, 53].some((cx) => inCircle(x, y, cx, 36, 4));
    return bubble(x, y) || tail || dots;
  },
  // 保险: a shield with a tick.
  shield: (x, y) => {
    const shield = (a, b, m) => {
      const top = 10 + m;
      const mid = 44;
      const halfTop = 28 - m;
      if (b < top || b > 73 - m * 1.3) return false;
      if (b <= mid) return Math.abs(a - 40.5) <= halfTop - Math.max(0, top + 5 - b) * 0.8;
      const t = (b - mid) / (73 - m * 1.3 - mid);
      return Math.abs(a - 40.5) <= halfTop * (1 - t * t);
    };
    const tick = (Math.abs((y - 44) - (x - 29)) <= 3.2 && x >= 28 && x <= 38) || (Math.abs((y - 54) + (x - 38) * 1.25) <= 3.6 && x >= 37 && x <= 54);
    return (shield(x, y, 0) && !shield(x, y, 6)) || tick;
  },
  // 我的: a head and shoulders.
  me: (x, y) => {
    const head = ring((a, b) => inCircle(a, b, 40.5, 28, 15), (a, b) => inCircle(a, b, 40.5, 28, 9));
    const body = ring((a, b) => b <= 72 && inEllipse(a, b, 40.5, 74, 29, 26), (a, b) => b <= 66 && inEllipse(a, b, 40.5, 74, 23, 20));
    return head(x, y) || body(x, y);
  },
};

function crcTable() {
  return Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
}
const TABLE = crcTable();
function crc(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type), data]);
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(crc(body));
  return Buffer.concat([len, body, sum]);
}

function png(shape, [r, g, b]) {
  const rows = Buffer.alloc((SIZE * 4 + 1) * SIZE);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      let hits = 0;
      for (let sy = 0; sy < SS; sy++) for (let sx = 0; sx < SS; sx++) if (shape(x + (sx + 0.5) / SS, y + (sy + 0.5) / SS)) hits++;
      const at = y * (SIZE * 4 + 1) + 1 + x * 4;
      rows[at] = r;
      rows[at + 1] = g;
      rows[at + 2] = b;
      rows[at + 3] = Math.round((255 * hits) / (SS * SS));
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(SIZE, 0);
  header.writeUInt32BE(SIZE, 4);
  header[8] = 8;
  header[9] = 6; // RGBA
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', zlib.deflateSync(rows, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

const out = path.resolve(__dirname, '../src/assets/tab');
fs.mkdirSync(out, { recursive: true });
for (const [name, shape] of Object.entries(SHAPES)) {
  fs.writeFileSync(path.join(out, `${name}.png`), png(shape, COLORS.normal));
  fs.writeFileSync(path.join(out, `${name}-active.png`), png(shape, COLORS.active));
}
console.log(`tab icons written to ${path.relative(process.cwd(), out)}`);
