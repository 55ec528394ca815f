import { SingleBar, Presets } from 'cli-progress';

/** A progress bar on stderr for long command-line jobs (imports, training); quiet when not on a terminal. */
export function progressBar(label: string): { update(done: number, total: number): void; stop(): void } {
  const bar = new SingleBar(
    { format: `${label} [{bar}] {percentage}% {value}/{total} {eta_formatted}`, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 5_000 },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) { bar.start(total, 0); started = true; }
      bar.setTotal(total);
      bar.update(done);
    },
    stop() { if (started) bar.stop(); },
  };
}
