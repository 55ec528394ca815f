import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const SERVER_ROOT = path.resolve(__dirname, '../..');
// Node itself runs the server (tsx as a loader), so a signal sent to the child reaches the server, not a wrapper.
const TSX_LOADER = ['--import', 'tsx'];

export interface ServerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the port once the server answers /healthz. */
  listening: Promise<number>;
  exited: Promise<number | null>;
}

/** A port nobody listens on right now (the server is told to use it, so no log parsing is needed). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Runs `src/main.ts` as `npm start` does, with the given environment on top of a clean one. `listening` resolves
 * with the port once /healthz answers (PORT "0" or unset picks a free port).
 */
export function startServerProcess(env: Record<string, string | undefined>, port?: number, nodeArgs: readonly string[] = []): ServerProcess {
  const baseEnv = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !['MONGODB_URI', 'PORT', 'NODE_ENV'].includes(key)),
  );
  const portReady = port !== undefined ? Promise.resolve(port) : env.PORT && env.PORT !== '0' ? Promise.resolve(Number(env.PORT)) : freePort();
  let output = '';
  let exitCode: number | null | undefined;
  let resolveChild!: (child: ChildProcess) => void;
  const childReady = new Promise<ChildProcess>((resolve) => { resolveChild = resolve; });
  const exited = childReady.then((child) => new Promise<number | null>((resolve) => {
    if (exitCode !== undefined) return resolve(exitCode);
    child.once('exit', (code) => resolve(code));
  }));
  const listening = portReady.then(async (chosen) => {
    const child = spawn(process.execPath, [...nodeArgs, ...TSX_LOADER, 'src/main.ts'], {
      cwd: SERVER_ROOT,
      env: { ...baseEnv, LOG_LEVEL: 'info', ...env, PORT: String(chosen) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.once('exit', (code) => { exitCode = code; });
    resolveChild(child);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (exitCode !== undefined) throw new Error(`server exited (${exitCode}) before listening:\n${output}`);
      try {
        if ((await fetch(`http://127.0.0.1:${chosen}/healthz`)).ok) return chosen;
      } catch { /* not up yet */ }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`server did not answer /healthz within 60 s:\n${output}`);
  });
  listening.catch(() => {});
  const handle: ServerProcess = {
    get child() { return childHolder.child!; },
    output: () => output,
    listening,
    exited,
  };
  const childHolder: { child?: ChildProcess } = {};
  void childReady.then((child) => { childHolder.child = child; });
  return handle;
}
