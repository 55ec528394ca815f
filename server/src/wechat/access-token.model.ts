import { Schema, model, type InferSchemaType } from 'mongoose';

/**
 * One cached access_token per app, shared by every server instance (spec §3.1). `_id` is the cache key: the AppID
 * for OA / mini-program, `wecom:{corpid}:{agentid}` for a WeCom app. No TTL index (FerretDB has none): expiry is
 * read from `expiresAt` / `refreshAfter` instead.
 */
const accessTokenSchema = new Schema(
  {
    _id: { type: String, required: true },
    accessToken: { type: String, required: true },
    /** When WeChat stops accepting the token. */
    expiresAt: { type: Date, required: true },
    /** When we fetch a new one: ahead of expiry so calls never race the deadline. */
    refreshAfter: { type: Date, required: true },
    fetchedAt: { type: Date, required: true },
  },
  { collection: 'wechat_access_tokens', versionKey: false },
);

export type AccessTokenDocument = InferSchemaType<typeof accessTokenSchema>;

export const AccessTokenModel = model('WeChatAccessToken', accessTokenSchema);

/**
 * Which instance spends the forced refresh after WeChat refused a token: `_id` = key + the refused token's hash,
 * inserted once. A forced refresh can invalidate the token the previous one gave out, and WeChat allows one every
 * 30 s, so two instances forcing at once would leave one of them with a dead token.
 */
export const AccessTokenRefreshClaim = model(
  'WeChatAccessTokenRefreshClaim',
  new Schema({ _id: { type: String, required: true }, at: { type: Date, required: true } }, { collection: 'wechat_access_token_refresh_claims', versionKey: false }),
);
