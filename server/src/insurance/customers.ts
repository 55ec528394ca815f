import { createHash } from 'node:crypto';
import { Customer, isDuplicateKey } from './models';

/** Who is asking, as every user route and service sees it: taken from the session, never from the request. */
export interface CustomerRef {
  id: string;
  /** Mini-program openid: the payer of JSAPI payments and the target of subscription messages. */
  mpOpenId: string;
  unionId?: string;
}

/** Deterministic, so login and the bot find a customer by a key read without storing a second index. */
export const customerIdFor = (mpOpenId: string) => `cu_${createHash('sha256').update(`mp:${mpOpenId}`).digest('hex').slice(0, 32)}`;

/** Creates the customer on first login; keeps the unionid current (it appears once the app is bound). */
export async function recordMiniProgramLogin(login: { openId: string; unionId?: string }, at: Date): Promise<CustomerRef> {
  const id = customerIdFor(login.openId);
  const write = () =>
    Customer.updateOne(
      { _id: id },
      { $set: { mpOpenId: login.openId, lastLoginAt: at, ...(login.unionId && { unionId: login.unionId }) }, $setOnInsert: { createdAt: at } },
      { upsert: true },
    ).exec();
  try {
    await write();
  } catch (err) {
    // Two first logins at once: one upsert inserts, the other lost the race and now finds the document.
    if (!isDuplicateKey(err)) throw err;
    await write();
  }
  const doc = await Customer.findById(id).lean();
  return { id, mpOpenId: login.openId, unionId: doc?.unionId };
}

export async function findCustomer(id: string): Promise<CustomerRef | undefined> {
  const doc = await Customer.findById(id).lean();
  return doc ? { id: doc._id, mpOpenId: doc.mpOpenId, unionId: doc.unionId } : undefined;
}

export async function findCustomerByUnionId(unionId: string): Promise<CustomerRef | undefined> {
  const doc = await Customer.findOne({ unionId }).sort({ lastLoginAt: -1 }).lean();
  return doc ? { id: doc._id, mpOpenId: doc.mpOpenId, unionId: doc.unionId } : undefined;
}
