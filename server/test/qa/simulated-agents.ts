import { Message } from '../../src/conversation/models';
import type { Transcript, TranscriptTurn } from '../../src/conversation/transcripts';
import type { Decision, EmotionReading } from '../../src/conversation/types';

/**
 * Human-agent conversations as a simulation produces them: a customer asks for a human, an agent greets, answers
 * a few questions and closes. A 'good' agent answers in 15–90 s (now and then slower), a 'bad' one is slow,
 * skips the greeting, is rude and leaves the customer angry.
 */

export type Behaviour = 'good' | 'bad';

const NEUTRAL: EmotionReading = { label: 'none', intensity: 0, polarity: 'neutral' };
const HAPPY: EmotionReading = { label: 'happiness', intensity: 0.5, polarity: 'positive' };
const ANGRY: EmotionReading = { label: 'anger', intensity: 0.8, polarity: 'negative' };
const HANDOFF: Decision = { action: 'handoff', reasons: ['explicit_request'], reason: 'hand off: explicit_request' };
const RELAY: Decision = { action: 'relay_to_agent', reason: 'conversation is human' };

const QUESTIONS = ['我的理赔到哪一步了', '还需要补什么材料', '发票可以电子版吗', '保单能改受益人吗', '续保保费怎么变了', '住院押金能先垫付吗'];
const ANSWERS = ['已为您查询，材料已审核通过，预计3个工作日到账。', '还需要补充出院小结和费用清单，拍照上传即可。', '可以，电子发票与纸质发票具有同等效力。', '可以在保单服务里申请变更受益人，需要上传身份证明。'];

export interface SimulatedConversation {
  conversationId: string;
  transcript: Transcript;
  endedAt: Date;
}

/** One conversation; message ids are `${conversationId}:n`. */
export function simulatedConversation(options: {
  conversationId: string; agentId: string; start: Date; behaviour: Behaviour; random: () => number;
}): SimulatedConversation {
  const { conversationId, agentId, behaviour, random } = options;
  const turns: TranscriptTurn[] = [];
  let t = options.start.getTime();
  let n = 0;
  const say = (speaker: TranscriptTurn['speaker'], text: string, extra: Partial<TranscriptTurn> = {}) => {
    turns.push({ messageId: `${conversationId}:${++n}`, speaker, text, at: new Date(t), agentId: speaker === 'agent' ? agentId : undefined, ...extra });
  };
  const wait = (min: number, max: number) => { t += Math.round((min + random() * (max - min)) * 1000); };
  const agentDelay = () => (behaviour === 'bad' ? wait(200, 420) : random() < 0.05 ? wait(125, 200) : wait(15, 90));

  say('customer', '转人工', { emotion: NEUTRAL, decision: HANDOFF });
  t += 1000;
  say('bot', '正在为您转接人工客服，请稍候。');
  // The desk offers the session at once in this simulation: a good agent greets within a minute.
  if (behaviour === 'bad') wait(200, 420);
  else wait(8, 50);
  say('agent', behaviour === 'bad' ? '什么事' : '您好，我是您的专属客服，很高兴为您服务。');
  const questions = 2 + Math.floor(random() * 2);
  for (let q = 0; q < questions; q++) {
    wait(10, 40);
    const last = q === questions - 1;
    const mood = behaviour === 'bad' && last ? ANGRY : NEUTRAL;
    say('customer', QUESTIONS[Math.floor(random() * QUESTIONS.length)], { emotion: mood, decision: RELAY });
    agentDelay();
    say('agent', behaviour === 'bad' && q === 0 ? '说了多少遍了，你自己去查' : ANSWERS[Math.floor(random() * ANSWERS.length)]);
  }
  if (behaviour === 'good') {
    wait(10, 30);
    const pleased = random() < 0.95;
    say('customer', pleased ? '好的谢谢' : '还是不太明白', { emotion: pleased ? HAPPY : NEUTRAL, decision: RELAY });
    wait(5, 20);
    say('agent', random() < 0.9 ? '不客气，还有其他问题随时联系，再见！' : '好的');
  }
  return { conversationId, transcript: { conversationId, channel: 'official-account', userId: conversationId.split(':')[1], turns }, endedAt: new Date(t) };
}

/** Stores a simulated conversation as the pipeline and the agent desk would have (inbound with replies, agent outbound). */
export async function storeConversation(conversation: SimulatedConversation): Promise<void> {
  const [channel, userId] = conversation.conversationId.split(':');
  const docs = [];
  const turns = conversation.transcript.turns;
  for (let i = 0; i < turns.length; i++) {
    const turn = turns[i];
    if (turn.speaker === 'bot') continue; // bot replies live on the inbound message they answer
    const base = { _id: turn.messageId, conversationId: conversation.conversationId, channel, userId, kind: 'text', text: turn.text, status: 'done', claimedAt: turn.at, createdAt: turn.at, updatedAt: turn.at };
    if (turn.speaker === 'customer') {
      const next = turns[i + 1];
      const botReply = next?.speaker === 'bot' ? next : undefined;
      docs.push({
        ...base, direction: 'in', author: 'user', inbound: { receivedAt: turn.at },
        understanding: { candidates: [], entities: [], emotion: turn.emotion }, decision: turn.decision,
        replies: botReply ? [{ kind: 'text', text: botReply.text }] : [],
        ...(botReply ? { delivery: { mode: 'passive', state: 'sent', attempts: 1, at: botReply.at }, updatedAt: botReply.at } : {}),
      });
    } else {
      docs.push({ ...base, direction: 'out', author: 'agent', agentId: turn.agentId, replies: [{ kind: 'text', text: turn.text }] });
    }
  }
  await Message.insertMany(docs, { ordered: true });
}
