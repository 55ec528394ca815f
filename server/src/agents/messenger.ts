import type { Logger } from '../logging/logger';
import type { WeComAppMessage, WeComClient } from '../wechat/wecom-client';
import { TEXT_MAX_BYTES, truncateUtf8 } from './cards';

export type WeComSender = Pick<WeComClient, 'sendAppMessage'>;

/**
 * Messages to agents through the WeCom app. A failed send is logged and reported as false, never thrown: the
 * desk's state (offers, sessions) is in the database, and the sweep retries what matters (a lapsed offer moves on).
 */
export class AgentMessenger {
  constructor(private readonly wecom: WeComSender, private readonly logger: Logger) {}

  async text(to: string | readonly string[], content: string): Promise<boolean> {
    return this.send({ type: 'text', toUsers: typeof to === 'string' ? [to] : to, content: truncateUtf8(content, TEXT_MAX_BYTES) });
  }

  async card(to: string, card: { title: string; description: string; url: string; buttonText?: string }): Promise<boolean> {
    return this.send({ type: 'textcard', toUsers: [to], ...card });
  }

  private async send(message: WeComAppMessage): Promise<boolean> {
    if (message.toUsers !== '@all' && !message.toUsers?.length) return false;
    try {
      const result = await this.wecom.sendAppMessage(message);
      if (result.invalidUsers.length) this.logger.warn({ invalidUsers: result.invalidUsers }, 'WeCom did not deliver to some agents');
      return true;
    } catch (err) {
      this.logger.error({ err, to: message.toUsers }, 'WeCom message to agents failed');
      return false;
    }
  }
}
