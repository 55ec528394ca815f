import { randomBytes } from 'node:crypto';

/**
 * Business numbers: a prefix, the China-time second, and random digits, e.g. AXO20240501103000A1B2C3D4. 25
 * characters of [0-9A-Z], so an order number is a valid WeChat Pay out_trade_no (6–32 of [0-9A-Za-z_-|*]) and the
 * refund number R+order fits too. Random enough that numbers cannot be guessed from one another.
 */
export function businessNumber(prefix: 'AXO' | 'AXC', at: Date): string {
  const stamp = new Date(at.getTime() + 8 * 3_600_000).toISOString().replace(/\D/g, '').slice(0, 14);
  return `${prefix}${stamp}${randomBytes(4).toString('hex').toUpperCase()}`;
}

/** The policy issued for an order keeps the order's stamp and suffix: one order, one policy number. */
export const policyNumberFor = (orderNumber: string) => `AXP${orderNumber.slice(3)}`;

/** Refunds once per number at WeChat Pay. */
export const refundNumberFor = (orderNumber: string) => `R${orderNumber}`;
