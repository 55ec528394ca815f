import { createHash, randomBytes } from 'node:crypto';
import type { MiniProgramSession } from '../../wechat/api-client';
import type { MiniProgramLogin } from './sessions';

/**
 * Outside production with no WECHAT_MP_* settings, the mini-program logs in against no WeChat at all: the login code
 * the h5 preview asks for is a demo customer's name, so `npm start` + the h5 build can be tried at once. The same
 * code is the same customer (its openid is derived from it), on every instance and after a restart.
 */
export const demoMiniProgramLogin: MiniProgramLogin = {
  async code2Session(code: string): Promise<MiniProgramSession> {
    const openId = `demo_${createHash('sha256').update(code.trim()).digest('base64url').slice(0, 22)}`;
    return { openId, sessionKey: randomBytes(16).toString('base64') };
  },
};
