import { randomBytes } from 'node:crypto';
import { jsonResponse, startLoopbackServer, type FakeRequest, type FakeResponse, type LoopbackServer } from './loopback-server';

/**
 * A local stand-in for WeCom web sign-in (网页授权): the authorize page (open.weixin.qq.com) "signs in" whoever the
 * test says is at the browser and returns to the app with a one-time code, and the API (qyapi.weixin.qq.com)
 * answers `gettoken` and `auth/getuserinfo`. One server plays both: point WECOM_OAUTH_BASE and the API base at it.
 */
export interface FakeWeComOAuthOptions {
  corpId: string;
  corpSecret: string;
  agentId: number;
}

export class FakeWeComOAuth {
  /** Who is "in WeCom" at the browser: a member userid, or `{ openid }` for a non-member. */
  private visitor: { userId?: string; openId?: string } = {};
  private readonly codes = new Map<string, { userId?: string; openId?: string }>();
  private readonly tokens = new Set<string>();
  private server: LoopbackServer | undefined;
  readonly calls: string[] = [];

  private constructor(private readonly options: FakeWeComOAuthOptions) {}

  static async start(options: FakeWeComOAuthOptions): Promise<FakeWeComOAuth> {
    const fake = new FakeWeComOAuth(options);
    fake.server = await startLoopbackServer(async (request) => fake.handle(request));
    return fake;
  }

  get baseUrl(): string {
    if (!this.server) throw new Error('fake not started');
    return this.server.baseUrl;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }

  signInAs(userId: string): void {
    this.visitor = { userId };
  }

  signInAsOutsider(openId: string): void {
    this.visitor = { openId };
  }

  private handle(request: FakeRequest): FakeResponse {
    this.calls.push(`${request.method} ${request.path}`);
    const q = request.query;
    switch (`${request.method} ${request.path}`) {
      case 'GET /connect/oauth2/authorize': {
        if (q.get('appid') !== this.options.corpId || q.get('response_type') !== 'code' || q.get('agentid') !== String(this.options.agentId)) {
          return { status: 400, body: 'bad authorize request' };
        }
        const redirect = new URL(q.get('redirect_uri') ?? '');
        const code = randomBytes(8).toString('hex');
        this.codes.set(code, { ...this.visitor });
        redirect.searchParams.set('code', code);
        redirect.searchParams.set('state', q.get('state') ?? '');
        return { status: 302, headers: { location: redirect.toString() } };
      }
      case 'GET /cgi-bin/gettoken': {
        if (q.get('corpid') !== this.options.corpId || q.get('corpsecret') !== this.options.corpSecret) return jsonResponse(200, { errcode: 40001, errmsg: 'invalid credential' });
        const token = `oauth-tok-${randomBytes(6).toString('hex')}`;
        this.tokens.add(token);
        return jsonResponse(200, { errcode: 0, errmsg: 'ok', access_token: token, expires_in: 7200 });
      }
      case 'GET /cgi-bin/auth/getuserinfo': {
        if (!this.tokens.has(q.get('access_token') ?? '')) return jsonResponse(200, { errcode: 40014, errmsg: 'invalid access_token' });
        const who = this.codes.get(q.get('code') ?? '');
        this.codes.delete(q.get('code') ?? ''); // a code works once
        if (!who) return jsonResponse(200, { errcode: 40029, errmsg: 'invalid code' });
        return jsonResponse(200, who.userId ? { errcode: 0, errmsg: 'ok', userid: who.userId } : { errcode: 0, errmsg: 'ok', openid: who.openId });
      }
      default:
        return jsonResponse(404, { errcode: 404, errmsg: `fake has no ${request.method} ${request.path}` });
    }
  }
}
