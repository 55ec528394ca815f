import mongoose, { Schema } from 'mongoose';

/**
 * A mini-program login. Keyed by sha256(token), so the token itself is never stored and authentication is a key
 * read. Expiry is a date filter (no TTL index on FerretDB); expired rows are purged by the housekeeping job.
 */
export interface MiniProgramSessionRecord {
  _id: string;
  customerId: string;
  openId: string;
  unionId?: string;
  /** WeChat's session_key: needed to decrypt encryptedData; never leaves the server. */
  sessionKey: string;
  createdAt: Date;
  lastUsedAt: Date;
  /** Sliding: pushed forward on use. */
  idleExpiresAt: Date;
  /** Fixed at login. */
  expiresAt: Date;
}

const sessionSchema = new Schema<MiniProgramSessionRecord>({
  _id: { type: String, required: true },
  customerId: { type: String, required: true, index: true },
  openId: { type: String, required: true },
  unionId: String,
  sessionKey: { type: String, required: true },
  createdAt: { type: Date, required: true },
  lastUsedAt: { type: Date, required: true },
  idleExpiresAt: { type: Date, required: true },
  expiresAt: { type: Date, required: true, index: true },
});

export const MiniProgramSession = mongoose.model<MiniProgramSessionRecord>('MiniProgramSession', sessionSchema);
