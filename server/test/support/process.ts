import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const SERVER_ROOT = path.resolve(__dirname, '../..');
const TSX_CLI = require.resolve('tsx/cli');

export interface ServerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the port once the server logs that it listens. */
  listening: Promise<number>;
  exited: Promise<number | null>;
}

/** Runs `src/main.ts` as `npm start` does, with the given environment on top of a clean one. */
export function startServerProcess(env: Record<string, string | undefined>): ServerProcess {
  const baseEnv = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !['MONGODB_URI', 'PORT', 'NODE_ENV'].includes(key)),
  );
  const child = spawn(process.execPath, [TSX_CLI, 'src/main.ts'], {
    cwd: SERVER_ROOT,
    env: { ...baseEnv, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listening = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"port":(\d+),"msg":"server listening"/.exec(output);
      if (match) resolve(Number(match[1]));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${output}`)));
  });
  listening.catch(() => {});
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, listening, exited };
}
