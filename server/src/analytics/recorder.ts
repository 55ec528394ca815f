import type { EventBus } from '../events/bus';
import type { DomainEvents } from '../events/types';
import type { BucketStore, Increment } from './buckets';

/**
 * Turns conversation events into bucket counts: volume, sessions, the bot's answers and misses, handoffs and
 * their reasons, emotions, and the scenario / intent of each understood question (the hot-issue topics).
 */

export const SESSION_GAP_MS = 30 * 60_000;

const BOT_DECISIONS = new Set(['answer', 'clarify', 'fallback', 'ask_slot', 'handoff']);

/** The scenario and intent of a sub-intent, from its id path (`scenario/intent/sub`). */
export function topicOf(subIntentId: string): { scenarioId: string; intentId: string } {
  const [scenario, intent] = subIntentId.split('/');
  return { scenarioId: scenario, intentId: intent ? `${scenario}/${intent}` : scenario };
}

export interface TrafficRecorderOptions {
  events: EventBus;
  buckets: BucketStore;
  /** A question counts toward its topic from this confidence (below it, it is a miss, counted as unanswered). */
  topicMinConfidence: number;
}

export class TrafficRecorder {
  constructor(private readonly options: TrafficRecorderOptions) {}

  listen(): void {
    const { events } = this.options;
    events.on('message.received', (event) => this.onMessage(event));
    events.on('message.answered', (event) => this.onAnswered(event));
    events.on('conversation.handed_off', (event) => this.onHandedOff(event));
  }

  async onMessage(event: DomainEvents['message.received']): Promise<void> {
    const at = new Date(event.at);
    const increments: Increment[] = [{ metric: 'messages', key: 'all', at }];
    if (event.text && event.emotion) increments.push({ metric: 'emotion', key: event.emotion.label, at });
    if (event.topSubIntentId && (event.confidence ?? 0) >= this.options.topicMinConfidence) {
      const { scenarioId, intentId } = topicOf(event.topSubIntentId);
      increments.push({ metric: 'scenario', key: scenarioId, at }, { metric: 'intent', key: intentId, at });
    }
    // The conversation's previous activity comes with the event: a session starts with a first message or after a gap.
    const previous = event.previousActivityAt;
    if (!previous || at.getTime() - new Date(previous).getTime() >= SESSION_GAP_MS) increments.push({ metric: 'sessions', key: 'all', at });
    await this.options.buckets.add(increments);
  }

  async onAnswered(event: DomainEvents['message.answered']): Promise<void> {
    const at = new Date(event.at);
    const action = event.decision.action;
    if (!BOT_DECISIONS.has(action)) return;
    const increments: Increment[] = [{ metric: 'bot_questions', key: 'all', at }];
    if (action === 'answer') increments.push({ metric: 'bot_answered', key: 'all', at });
    if (action === 'fallback' || action === 'clarify') increments.push({ metric: 'unanswered', key: 'all', at });
    await this.options.buckets.add(increments);
  }

  async onHandedOff(event: DomainEvents['conversation.handed_off']): Promise<void> {
    const at = new Date(event.at);
    await this.options.buckets.add([
      { metric: 'handoffs', key: 'all', at },
      ...event.reasons.map((reason) => ({ metric: 'handoff_reason' as const, key: reason, at })),
    ]);
  }
}
