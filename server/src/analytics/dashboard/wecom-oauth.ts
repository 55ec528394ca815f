import { z } from 'zod';
import type { AccessTokenProvider } from '../../wechat/access-token';
import { readResponse, type WeChatHttpClient } from '../../wechat/api-client';

/**
 * WeCom web sign-in (网页授权): the browser is sent to WeCom's authorize page, which returns to us with a one-time
 * `code`; `/cgi-bin/auth/getuserinfo` turns the code into the member's userid.
 */
export interface WeComOAuthOptions {
  /** qyapi.weixin.qq.com (or a fake). */
  http: WeChatHttpClient;
  /** The app's access tokens (shared with WeComClient). */
  accessTokens: AccessTokenProvider;
  corpId: string;
  agentId: number;
  /** open.weixin.qq.com (or a fake). */
  authorizeBase: string;
}

const userInfoResponse = z.object({
  userid: z.string().optional(),
  /** Present instead of userid when the visitor is not a member of the corp. */
  openid: z.string().optional(),
});

export class WeComOAuth {
  constructor(private readonly options: WeComOAuthOptions) {}

  /** The authorize URL the browser is sent to; WeCom returns to `redirectUri` with `code` and `state`. */
  authorizeUrl(redirectUri: string, state: string): string {
    const query = new URLSearchParams({
      appid: this.options.corpId, redirect_uri: redirectUri, response_type: 'code', scope: 'snsapi_base', state,
      agentid: String(this.options.agentId),
    });
    return `${this.options.authorizeBase}/connect/oauth2/authorize?${query}#wechat_redirect`;
  }

  /** The member's userid for a sign-in code, or undefined for a visitor who is not a member. */
  async userIdForCode(code: string): Promise<string | undefined> {
    const path = '/cgi-bin/auth/getuserinfo';
    const body = await this.options.accessTokens.withAccessToken((accessToken) =>
      this.options.http.get(path, { access_token: accessToken, code }),
    );
    return readResponse(userInfoResponse, body, path).userid;
  }
}
