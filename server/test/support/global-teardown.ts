import fs from 'node:fs/promises';

export default async function globalTeardown(): Promise<void> {
  const state = globalThis.__TEST_DATABASE__;
  if (!state) return;
  await state.running.stop();
  await fs.rm(state.dataDir, { recursive: true, force: true });
}
