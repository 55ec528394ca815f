import { loadWechatConfig } from '../../src/config/wechat-config';
import { MESSAGE_CLAIM_RETENTION_MS, SUPERSEDED_SNAPSHOT_RETENTION_MS, tidyConversations } from '../../src/conversation/housekeeping';
import { ConversationState, MessageClaim } from '../../src/conversation/models';
import { ConversationPipeline, type KnowledgeReader } from '../../src/conversation/pipeline';
import { ConversationStates, readConversation } from '../../src/conversation/states';
import type { InboundMessage } from '../../src/conversation/types';
import { EventBus } from '../../src/events/bus';
import { useTestDatabase } from '../support/database';
import { scriptedUnderstander } from '../support/fake-understander';

useTestDatabase(__filename);

const knowledge: KnowledgeReader = {
  getSubIntent: (id) => (id === 'claim-report/how/online' ? { id, name: '线上报案', scenarioId: 'claim-report', sensitive: false, needsProduct: false } : undefined),
  selectSolution: async (id) => ({ id: `${id}|*|*`, text: `答案:${id}` }),
};
const understander = scriptedUnderstander([
  { when: '怎么报案', candidates: [{ subIntentId: 'claim-report/how/online', name: '线上报案', confidence: 0.92 }] },
  { when: '理赔', candidates: [
    { subIntentId: 'claim-report/how/online', name: '线上报案', confidence: 0.35 },
    { subIntentId: 'claim-progress/query/status', name: '查询理赔进度', confidence: 0.33 },
  ] },
]);

let counter = 0;
const text = (userId: string, body: string): InboundMessage => ({
  channel: 'official-account', userId, dedupeKey: `tidy:${++counter}`, kind: 'text', text: body, receivedAt: new Date(),
});

describe('conversation housekeeping', () => {
  it('deletes superseded snapshots after an hour but keeps each conversation\'s first and latest; the dialogue goes on', async () => {
    let clock = new Date();
    const pipeline = () => new ConversationPipeline({ understander, knowledge, config: loadWechatConfig(), events: new EventBus(), now: () => clock });
    const first = pipeline();
    for (const body of ['怎么报案', '怎么报案', '怎么报案', '理赔']) await first.handle(text('u-tidy', body));
    await first.handle(text('u-other', '怎么报案'));
    const seqs = async (userId: string) => (await ConversationState.find({ userId }).lean()).map((s) => s.seq).sort((a, b) => a - b);
    expect(await seqs('u-tidy')).toEqual([1, 2, 3, 4]);

    // Too recent: nothing goes.
    expect(await tidyConversations(new ConversationStates(), new Date())).toEqual({ snapshots: 0, claims: 0 });
    const later = new Date(Date.now() + SUPERSEDED_SNAPSHOT_RETENTION_MS + 60_000);
    expect(await tidyConversations(new ConversationStates(), later)).toEqual({ snapshots: 2, claims: 0 });
    expect(await seqs('u-tidy')).toEqual([1, 4]);
    expect(await seqs('u-other')).toEqual([1]);
    expect(await readConversation('official-account:u-tidy')).toMatchObject({ seq: 4, pendingChoices: [{ number: 1 }, { number: 2 }] });

    // An instance that never saw this user picks the pending choice up from the latest snapshot.
    clock = new Date(clock.getTime() + 60_000);
    expect((await pipeline().handle(text('u-tidy', '1'))).decision).toMatchObject({ action: 'answer', subIntentId: 'claim-report/how/online' });
    expect(await seqs('u-tidy')).toEqual([1, 4, 5]);
  });

  it('forgets message claims after a week', async () => {
    await MessageClaim.create([
      { _id: 'official-account:old', conversationId: 'official-account:u', claimedAt: new Date('2026-01-01T00:00:00Z') },
      { _id: 'official-account:new', conversationId: 'official-account:u', claimedAt: new Date('2026-01-08T00:00:00Z') },
    ]);
    const now = new Date(new Date('2026-01-01T00:00:00Z').getTime() + MESSAGE_CLAIM_RETENTION_MS + 1);
    expect(await tidyConversations(new ConversationStates(), now)).toMatchObject({ claims: 1 });
    expect((await MessageClaim.find({ _id: /^official-account:(old|new)$/ }).lean()).map((c) => c._id)).toEqual(['official-account:new']);
  });
});
