import { createHash, randomBytes } from 'node:crypto';
import type { Middleware } from 'koa';
import { HttpError, unauthorized } from '../../http/errors';
import { recordMiniProgramLogin, type CustomerRef } from '../../insurance';
import { WeChatApiError, WeChatErrcode, WeChatTransportError, type MiniProgramSession as WeChatSession } from '../../wechat/api-client';
import { MiniProgramSession } from './session.model';

declare module 'koa' {
  interface DefaultState {
    /** Set by requireUser: the customer of the session. Every user route acts for this customer only. */
    customer?: CustomerRef;
  }
}

/** What login needs from the WeChat API client (WeChatAppApi has it). */
export interface MiniProgramLogin {
  code2Session(jsCode: string): Promise<WeChatSession>;
}

export interface SessionOptions {
  idleDays: number;
  maxDays: number;
}

const DAY_MS = 86_400_000;
/** Pushing the idle expiry forward costs a write; once an hour is plenty. */
const TOUCH_EVERY_MS = 3_600_000;
const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export interface SessionStarted {
  token: string;
  /** Seconds until the session ends if unused (the client re-runs wx.login on any 401). */
  expiresIn: number;
  customer: CustomerRef;
}

/** Our own opaque session tokens in front of WeChat's code2Session (spec §4.1). */
export class MiniProgramSessions {
  constructor(
    private readonly login: MiniProgramLogin,
    private readonly options: SessionOptions,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async start(code: string): Promise<SessionStarted> {
    let wechat: WeChatSession;
    try {
      wechat = await this.login.code2Session(code);
    } catch (err) {
      throw loginError(err) ?? err;
    }
    const now = this.clock();
    const customer = await recordMiniProgramLogin({ openId: wechat.openId, unionId: wechat.unionId }, now);
    const token = `mps_${randomBytes(32).toString('base64url')}`;
    const idleMs = this.options.idleDays * DAY_MS;
    await MiniProgramSession.create({
      _id: hashToken(token),
      customerId: customer.id,
      openId: wechat.openId,
      unionId: wechat.unionId,
      sessionKey: wechat.sessionKey,
      createdAt: now,
      lastUsedAt: now,
      idleExpiresAt: new Date(now.getTime() + idleMs),
      expiresAt: new Date(now.getTime() + this.options.maxDays * DAY_MS),
    });
    return { token, expiresIn: Math.floor(idleMs / 1000), customer };
  }

  /** The customer of a live session, or undefined (unknown, idle too long, or past its absolute end). */
  async authenticate(token: string): Promise<CustomerRef | undefined> {
    const now = this.clock();
    const session = await MiniProgramSession.findOne({
      _id: hashToken(token),
      idleExpiresAt: { $gt: now },
      expiresAt: { $gt: now },
    }).lean();
    if (!session) return undefined;
    if (now.getTime() - session.lastUsedAt.getTime() > TOUCH_EVERY_MS) {
      const idleExpiresAt = new Date(Math.min(now.getTime() + this.options.idleDays * DAY_MS, session.expiresAt.getTime()));
      await MiniProgramSession.updateOne({ _id: session._id }, { $set: { lastUsedAt: now, idleExpiresAt } });
    }
    return { id: session.customerId, mpOpenId: session.openId, unionId: session.unionId };
  }

  async end(token: string): Promise<void> {
    await MiniProgramSession.deleteOne({ _id: hashToken(token) });
  }

  /** For the housekeeping job. */
  async purgeExpired(): Promise<number> {
    const now = this.clock();
    const result = await MiniProgramSession.deleteMany({ $or: [{ expiresAt: { $lte: now } }, { idleExpiresAt: { $lte: now } }] });
    return result.deletedCount;
  }
}

/** WeChat's answer to a bad code is the client's problem (401: log in again); WeChat being down is ours (503). */
function loginError(err: unknown): HttpError | undefined {
  if (err instanceof WeChatApiError) {
    if (err.errcode === WeChatErrcode.InvalidCode || err.errcode === WeChatErrcode.CodeBeenUsed) {
      return new HttpError(401, 'invalid_login_code', 'code: the wx.login code is invalid or was already used; call wx.login again', { fields: ['code'] });
    }
    if (err.errcode === 45011) return new HttpError(429, 'login_rate_limited', 'too many logins; try again in a minute');
    if (err.errcode === 40226) return new HttpError(403, 'login_blocked', 'WeChat blocked this login as high-risk');
    return new HttpError(502, 'wechat_login_failed', `WeChat refused the login (errcode ${err.errcode})`);
  }
  if (err instanceof WeChatTransportError) return new HttpError(503, 'wechat_unavailable', 'WeChat did not answer; please try again');
  return undefined;
}

export const bearerToken = (authorization: string): string | undefined => /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];

/** Lets through only requests with a live mini-program session (`Authorization: Bearer <token>`). */
export function requireUser(sessions: MiniProgramSessions | undefined): Middleware {
  return async (ctx, next) => {
    if (!sessions) throw new HttpError(503, 'mini_program_not_configured', 'mini-program login is not configured on this server');
    const token = bearerToken(ctx.get('authorization'));
    if (!token) throw unauthorized('a session token is required (Authorization: Bearer …); log in with POST /api/mp/session');
    const customer = await sessions.authenticate(token);
    if (!customer) throw unauthorized('the session has ended; log in again with POST /api/mp/session');
    ctx.state.customer = customer;
    await next();
  };
}
