import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import { requireStaff, issueStaffToken } from '../../agents/auth';
import { Agent, type AgentDoc } from '../../agents/models';
import { unauthorized } from '../../http/errors';
import type { WeComOAuth } from './wecom-oauth';

/**
 * Who may see the dashboard and its APIs: managers signed in with WeCom (their console token in an HttpOnly
 * cookie), or anyone holding ADMIN_TOKEN (as a bearer token, or signed in once with it on the login page).
 */

export interface SignedInManager {
  id: string;
  name: string;
  via: 'wecom' | 'admin-token' | 'staff-token';
}

declare module 'koa' {
  interface DefaultState {
    manager?: SignedInManager;
  }
}

export const SESSION_COOKIE = 'cs_dashboard';
const STATE_COOKIE = 'cs_dashboard_oauth_state';
const SESSION_MAX_AGE_MS = 12 * 3_600_000;

const sameSecret = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

export interface DashboardAuthOptions {
  adminToken?: string;
  oauth?: WeComOAuth;
  /** Public base URL (WeCom returns the browser to `${publicUrl}/dashboard/oauth/callback`). */
  publicUrl?: string;
}

export class DashboardAuth {
  private readonly requireManagerToken = requireStaff('manager');

  constructor(private readonly options: DashboardAuthOptions) {}

  get wecomSignIn(): boolean {
    return Boolean(this.options.oauth && this.options.publicUrl);
  }

  get adminSignIn(): boolean {
    return Boolean(this.options.adminToken);
  }

  /** The cookie value standing for the admin token; a derived value, so the token itself never sits in a cookie. */
  private adminSessionValue(): string | undefined {
    const token = this.options.adminToken;
    return token ? `admin.${createHmac('sha256', token).update('dashboard-session').digest('base64url')}` : undefined;
  }

  private credential(ctx: Context): string | undefined {
    const bearer = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'))?.[1];
    return bearer ?? ctx.cookies.get(SESSION_COOKIE) ?? undefined;
  }

  /** Identifies the caller, or leaves `ctx.state.manager` unset. Throws 403 for signed-in staff who are not managers. */
  private async identify(ctx: Context): Promise<void> {
    const credential = this.credential(ctx);
    if (!credential) return;
    const { adminToken } = this.options;
    const adminSession = this.adminSessionValue();
    if ((adminToken && sameSecret(credential, adminToken)) || (adminSession && sameSecret(credential, adminSession))) {
      ctx.state.manager = { id: 'admin', name: '管理员', via: 'admin-token' };
      return;
    }
    if (!credential.startsWith('cs_')) return;
    // A staff console token (from WeCom sign-in or issued to a manager): the agents domain decides.
    ctx.request.header.authorization = `Bearer ${credential}`;
    let allowed = false;
    await this.requireManagerToken(ctx, async () => { allowed = true; });
    const staff = ctx.state.staff as AgentDoc | undefined;
    if (allowed && staff) ctx.state.manager = { id: staff._id, name: staff.name, via: ctx.cookies.get(SESSION_COOKIE) === credential ? 'wecom' : 'staff-token' };
  }

  /** For JSON APIs: 401 unless a manager or the admin token. */
  api(): Middleware {
    return async (ctx: Context, next: Next) => {
      try {
        await this.identify(ctx);
      } catch (err) {
        if ((err as { status?: number }).status === 401) throw unauthorized('sign in to the dashboard, or send Authorization: Bearer <ADMIN_TOKEN>');
        throw err;
      }
      if (!ctx.state.manager) throw unauthorized('sign in to the dashboard, or send Authorization: Bearer <ADMIN_TOKEN>');
      await next();
    };
  }

  /** For the page: true when signed in; otherwise the caller redirects to sign-in. */
  async pageAllowed(ctx: Context): Promise<boolean> {
    try {
      await this.identify(ctx);
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 401) return false;
      throw err;
    }
    return Boolean(ctx.state.manager);
  }

  /** Starts WeCom sign-in: a state nonce in a short-lived cookie, then off to WeCom. */
  startWeComSignIn(ctx: Context): void {
    const state = randomBytes(12).toString('base64url');
    ctx.cookies.set(STATE_COOKIE, state, { httpOnly: true, sameSite: 'lax', maxAge: 10 * 60_000, secure: this.secure(ctx), overwrite: true });
    ctx.redirect(this.options.oauth!.authorizeUrl(`${this.options.publicUrl}/dashboard/oauth/callback`, state));
  }

  /** WeCom returned with a code: a manager gets a session cookie; anyone else a reason. */
  async finishWeComSignIn(ctx: Context, code: string, state: string): Promise<{ ok: true } | { ok: false; status: number; reason: string }> {
    const expected = ctx.cookies.get(STATE_COOKIE);
    ctx.cookies.set(STATE_COOKIE, null, { overwrite: true });
    if (!expected || !sameSecret(expected, state)) return { ok: false, status: 400, reason: '登录已过期，请重新打开看板。' };
    const userId = await this.options.oauth!.userIdForCode(code);
    if (!userId) return { ok: false, status: 403, reason: '仅限企业成员登录。' };
    const staff = await Agent.findById(userId).lean<AgentDoc>();
    if (!staff || staff.role !== 'manager') return { ok: false, status: 403, reason: `${staff?.name ?? userId} 不是主管，无权查看看板。` };
    const token = await issueStaffToken(staff._id);
    this.setSession(ctx, token);
    return { ok: true };
  }

  /** Login page: the admin token, checked and turned into a session cookie. */
  signInWithAdminToken(ctx: Context, token: string): boolean {
    const { adminToken } = this.options;
    if (!adminToken || !sameSecret(token, adminToken)) return false;
    this.setSession(ctx, this.adminSessionValue()!);
    return true;
  }

  signOut(ctx: Context): void {
    ctx.cookies.set(SESSION_COOKIE, null, { overwrite: true });
  }

  private setSession(ctx: Context, value: string): void {
    ctx.cookies.set(SESSION_COOKIE, value, { httpOnly: true, sameSite: 'lax', maxAge: SESSION_MAX_AGE_MS, secure: this.secure(ctx), overwrite: true });
  }

  /** Secure cookies only over HTTPS as Koa sees it (behind a proxy: X-Forwarded-Proto, the app trusts proxies). */
  private secure(ctx: Context): boolean {
    return ctx.secure;
  }
}
