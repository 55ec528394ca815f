import { randomInt } from 'node:crypto';
import { customerIdFor, findCustomer, findCustomerByUnionId, type CustomerRef } from './customers';
import { BindingAttempt, BindingCode, FollowerBinding, isDuplicateKey } from './models';

/**
 * Official Account followers linked to mini-program customers, so the bot can answer "我的保单" from live data.
 * Two ways: the same unionid (both apps bound to one Open Platform account), or a short code the customer gets in
 * the mini-program and sends to the Official Account ("绑定 123456").
 */

const CODE_TTL_MS = 10 * 60_000;
const ATTEMPT_WINDOW_MS = 60 * 60_000;
const MAX_FAILED_ATTEMPTS = 5;

export interface BindingCodeIssued {
  code: string;
  expiresAt: Date;
}

/** A fresh 6-digit code for the customer; earlier unused codes of theirs stop working. */
export async function createBindingCode(customer: CustomerRef, now: Date): Promise<BindingCodeIssued> {
  await BindingCode.deleteMany({ customerId: customer.id });
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const expiresAt = new Date(now.getTime() + CODE_TTL_MS);
    try {
      await BindingCode.create({ _id: code, customerId: customer.id, expiresAt, createdAt: now });
      return { code, expiresAt };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Taken: free it if it has expired (no TTL index here), then draw again.
      await BindingCode.deleteOne({ _id: code, expiresAt: { $lte: now } });
    }
  }
  throw new Error('could not draw a free binding code');
}

export type RedeemResult =
  | { ok: true; customerId: string }
  | { ok: false; reason: 'invalid_or_expired' | 'too_many_attempts' };

/** The follower sent a code: link them, or count a failed try (five per hour, then wait). */
export async function redeemBindingCode(input: { oaOpenId: string; code: string; now: Date }): Promise<RedeemResult> {
  const { oaOpenId, now } = input;
  const attempts = await BindingAttempt.findById(oaOpenId).lean();
  const windowOpen = attempts && now.getTime() - attempts.windowStartedAt.getTime() < ATTEMPT_WINDOW_MS;
  if (windowOpen && attempts.failures >= MAX_FAILED_ATTEMPTS) return { ok: false, reason: 'too_many_attempts' };

  const code = input.code.trim();
  const found = /^\d{6}$/.test(code) ? await BindingCode.findOne({ _id: code, expiresAt: { $gt: now } }).lean() : null;
  if (!found) {
    await BindingAttempt.updateOne(
      { _id: oaOpenId },
      windowOpen ? { $inc: { failures: 1 } } : { $set: { windowStartedAt: now, failures: 1 } },
      { upsert: true },
    );
    return { ok: false, reason: 'invalid_or_expired' };
  }
  // Single use: whoever deletes it binds.
  const taken = await BindingCode.deleteOne({ _id: code, customerId: found.customerId });
  if (taken.deletedCount !== 1) return { ok: false, reason: 'invalid_or_expired' };
  await bindFollower(oaOpenId, found.customerId, 'code', now);
  await BindingAttempt.deleteOne({ _id: oaOpenId });
  return { ok: true, customerId: found.customerId };
}

async function bindFollower(oaOpenId: string, customerId: string, via: 'unionid' | 'code', now: Date): Promise<void> {
  await FollowerBinding.updateOne({ _id: oaOpenId }, { $set: { customerId, via, boundAt: now } }, { upsert: true }).catch(async (err: unknown) => {
    if (!isDuplicateKey(err)) throw err;
    await FollowerBinding.updateOne({ _id: oaOpenId }, { $set: { customerId, via, boundAt: now } });
  });
}

/** When the OA knows the follower's unionid: link them to the customer with the same one, if there is one. */
export async function linkFollowerByUnionId(oaOpenId: string, unionId: string, now: Date): Promise<string | undefined> {
  const customer = await findCustomerByUnionId(unionId);
  if (!customer) return undefined;
  await bindFollower(oaOpenId, customer.id, 'unionid', now);
  return customer.id;
}

export async function unbindFollower(oaOpenId: string): Promise<void> {
  await FollowerBinding.deleteOne({ _id: oaOpenId });
}

/**
 * The customer behind a chat user: an Official Account follower (bound), a mini-program user (same openid), or
 * anyone with a known unionid.
 */
export async function resolveCustomer(ref: { openId?: string; unionId?: string }): Promise<CustomerRef | undefined> {
  if (ref.openId) {
    const binding = await FollowerBinding.findById(ref.openId).lean();
    if (binding) return findCustomer(binding.customerId);
    const asMiniProgramUser = await findCustomer(customerIdFor(ref.openId));
    if (asMiniProgramUser) return asMiniProgramUser;
  }
  if (ref.unionId) return findCustomerByUnionId(ref.unionId);
  return undefined;
}

/** Expired codes and stale attempt counters (there is no TTL index); run by the housekeeping job. */
export async function purgeBindingLeftovers(now: Date): Promise<void> {
  await BindingCode.deleteMany({ expiresAt: { $lte: now } });
  await BindingAttempt.deleteMany({ windowStartedAt: { $lte: new Date(now.getTime() - ATTEMPT_WINDOW_MS) } });
}
