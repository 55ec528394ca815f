import type { Context } from 'koa';
import { miniProgramPusher } from '../../src/channels/miniprogram-chat/routes';
import { loadWechatConfig } from '../../src/config/wechat-config';
import { UserDelivery } from '../../src/conversation/delivery';
import { ConversationPipeline, type KnowledgeReader, type Understander } from '../../src/conversation/pipeline';
import { ConversationService } from '../../src/conversation/service';
import { ConversationStates } from '../../src/conversation/states';
import { EventBus } from '../../src/events/bus';
import { unauthorized } from '../../src/http/errors';

/**
 * The mini-program chat's collaborators as the platform wires them: one pipeline and conversation service over
 * shared states, agent replies delivered to the mini-program, and an `x-test-user` header standing in for the
 * insurance domain's session middleware.
 */
export function miniProgramChatWiring(understander: Understander, knowledge: KnowledgeReader) {
  const events = new EventBus();
  const config = loadWechatConfig();
  const states = new ConversationStates();
  const conversations = new ConversationService(events, states);
  const pipeline = new ConversationPipeline({ understander, knowledge, config, events, states });
  const delivery = new UserDelivery((channel, userId, message, from) => conversations.recordOutbound({ channel, userId }, from.author, message, from.agentId));
  delivery.register('miniprogram', miniProgramPusher);
  const resolveUser = async (ctx: Pick<Context, 'get'>) => {
    const user = ctx.get('x-test-user');
    if (!user) throw unauthorized();
    return { userId: user };
  };
  return { events, config, conversations, pipeline, delivery, resolveUser };
}
