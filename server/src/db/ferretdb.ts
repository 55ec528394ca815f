import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { RunningDatabase } from './launcher';

const execFileAsync = promisify(execFile);

export const FERRETDB_VERSION = 'v1.24.2';

function cacheDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'wechat-insurance-cs', `ferretdb-${FERRETDB_VERSION}`);
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await fs.access(file, fs.constants.X_OK);
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

async function onPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** FERRETDB_BIN, then `ferretdb` on PATH, then the copy this project built earlier. */
export async function findFerretdb(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (env.FERRETDB_BIN) {
    if (await isExecutable(env.FERRETDB_BIN)) return env.FERRETDB_BIN;
    throw new Error(`FERRETDB_BIN is set to "${env.FERRETDB_BIN}", which is not an executable file`);
  }
  const fromPath = await onPath('ferretdb', env);
  if (fromPath) return fromPath;
  const built = path.join(cacheDir(env), 'ferretdb');
  return (await isExecutable(built)) ? built : undefined;
}

/** The Go toolchain, on PATH or where the official tarball installs it. */
export async function findGo(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const fromPath = await onPath('go', env);
  if (fromPath) return fromPath;
  return (await isExecutable('/usr/local/go/bin/go')) ? '/usr/local/go/bin/go' : undefined;
}

/**
 * Builds FerretDB once from the Go module proxy into the user's cache, reused by every later run and clone.
 * The module is copied out of Go's read-only cache and built as its own main module with version.txt written,
 * because a plain `go install …@v1.24.2` panics at start on the missing generated version file.
 */
export async function buildFerretdb(goBinary: string, env: NodeJS.ProcessEnv = process.env, log: (line: string) => void = () => {}): Promise<string> {
  const outDir = cacheDir(env);
  await fs.mkdir(outDir, { recursive: true });
  const target = path.join(outDir, 'ferretdb');
  log(`building FerretDB ${FERRETDB_VERSION} with ${goBinary} (first time only, one to three minutes)`);
  const goEnv = { ...env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' };
  const { stdout } = await execFileAsync(goBinary, ['mod', 'download', '-json', `github.com/FerretDB/FerretDB@${FERRETDB_VERSION}`], {
    cwd: os.tmpdir(),
    env: goEnv,
    maxBuffer: 16 * 1024 * 1024,
  });
  const moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
  const sourceDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferretdb-src-'));
  try {
    await fs.cp(moduleDir, sourceDir, { recursive: true });
    await execFileAsync('chmod', ['-R', 'u+w', sourceDir]);
    await fs.writeFile(path.join(sourceDir, 'build/version/version.txt'), `${FERRETDB_VERSION}\n`);
    const partial = `${target}.${process.pid}.partial`;
    await execFileAsync(goBinary, ['build', '-buildvcs=false', '-tags', 'ferretdb_no_postgresql', '-o', partial, './cmd/ferretdb'], {
      cwd: sourceDir,
      env: goEnv,
      maxBuffer: 16 * 1024 * 1024,
    });
    await fs.rename(partial, target);
  } finally {
    await fs.rm(sourceDir, { recursive: true, force: true });
  }
  log(`FerretDB built at ${target}`);
  return target;
}

const LISTENING = /^Listening on TCP (.+):(\d+)\.\.\.$/;

/**
 * FerretDB's environment. Its Go garbage collector ran at the default `GOGC=100` for about a fifth of its CPU per
 * insert (each document is decoded, re-encoded as JSON and handed to the pure-Go SQLite); at 400 it uses a few
 * tens of megabytes more and about 20% less CPU per insert (measured with four concurrent writers). A `GOGC`
 * already set by the operator wins.
 */
export function ferretdbEnvironment(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...base, DO_NOT_TRACK: '1', GOGC: base.GOGC ?? '400' };
}

/** Starts FerretDB (SQLite backend) on a free loopback port with its data in `dataDir`. */
export async function startFerretdb(binary: string, dataDir: string, startTimeoutMs = 15_000): Promise<RunningDatabase> {
  await fs.mkdir(dataDir, { recursive: true });
  const sqliteDir = path.resolve(dataDir).replace(/\/?$/, '/');
  const child = spawn(
    binary,
    [
      '--handler=sqlite',
      // IMMEDIATE transactions take the write lock up front and wait for it (busy_timeout); the default DEFERRED
      // ones fail at once with SQLITE_BUSY when two writers upgrade together, which surfaced as random write errors.
      // synchronous=NORMAL in WAL mode survives a crash of any process (only an OS crash can lose the last commits)
      // and skips an fsync per write, which capped this embedded database at a few hundred writes a second.
      `--sqlite-url=file:${sqliteDir}?_txlock=immediate&_pragma=synchronous(normal)`,
      '--listen-addr=127.0.0.1:0',
      '--state-dir=-',
      '--debug-addr=-',
      '--telemetry=disable',
      '--log-level=info',
      '--log-format=json',
    ],
    { env: ferretdbEnvironment(process.env), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const recentLines: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`FerretDB did not start within ${startTimeoutMs} ms: ${recentLines.join(' | ')}`));
    }, startTimeoutMs);
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`FerretDB exited with code ${code}: ${recentLines.join(' | ')}`));
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      recentLines.push(line);
      if (recentLines.length > 5) recentLines.shift();
      let msg = line;
      try { msg = (JSON.parse(line) as { msg?: string }).msg ?? line; } catch { /* console format */ }
      const match = LISTENING.exec(msg);
      if (match) { clearTimeout(timer); resolve(Number(match[2])); }
    });
  });
  child.removeAllListeners('exit');
  return {
    kind: 'ferretdb',
    uri: `mongodb://127.0.0.1:${port}/`,
    description: `FerretDB ${FERRETDB_VERSION} (SQLite in ${dataDir}) from ${binary}`,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    }),
  };
}
