import { CliUsageError } from '../../src/cli/args';
import { WEBHOOK_PHASE_LIMIT_S, webhookPhaseSeconds } from '../../bench/webhook.bench';

describe('npm run bench -- --webhook-seconds', () => {
  it('defaults to 15 s, 5 s with --small, and takes a whole number up to the phase limit', () => {
    expect(webhookPhaseSeconds(undefined, false)).toBe(15);
    expect(webhookPhaseSeconds(undefined, true)).toBe(5);
    expect(webhookPhaseSeconds('200', false)).toBe(200);
  });

  it.each(['0', '2.5', 'abc', String(WEBHOOK_PHASE_LIMIT_S + 1)])('refuses %s with a usage error naming the flag', (given) => {
    expect(() => webhookPhaseSeconds(given, false)).toThrow(CliUsageError);
    expect(() => webhookPhaseSeconds(given, false)).toThrow(/^--webhook-seconds: a whole number from 1 to 240, got /);
  });
});
