import type { Logger } from '../logging/logger';
import { MessageClaim } from './models';
import type { ConversationStates } from './states';

/** A superseded snapshot is kept this long (a takeover after a crash may still read the decision it holds). */
export const SUPERSEDED_SNAPSHOT_RETENTION_MS = 3_600_000;
/** A message claim is kept this long: a retry of the same delivery within it is recognised before any work. */
export const MESSAGE_CLAIM_RETENTION_MS = 7 * 24 * 3_600_000;

/**
 * Keeps the conversation store bounded: every message writes a state snapshot and a claim, and neither is needed
 * for long. (Messages themselves are the transcript and stay.)
 */
export async function tidyConversations(states: ConversationStates, now: Date): Promise<{ snapshots: number; claims: number }> {
  const snapshots = await states.compact(new Date(now.getTime() - SUPERSEDED_SNAPSHOT_RETENTION_MS));
  const { deletedCount: claims } = await MessageClaim.deleteMany({ claimedAt: { $lt: new Date(now.getTime() - MESSAGE_CLAIM_RETENTION_MS) } });
  return { snapshots, claims };
}

/** Runs `tidyConversations` every `intervalMs` on this instance (overlapping instances delete the same rows). */
export function startConversationHousekeeping(states: ConversationStates, intervalMs: number, logger: Logger): () => void {
  const timer = setInterval(() => {
    tidyConversations(states, new Date())
      .then((done) => { if (done.snapshots || done.claims) logger.info(done, 'conversation store tidied'); })
      .catch((err: unknown) => logger.error({ err }, 'conversation housekeeping failed'));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
