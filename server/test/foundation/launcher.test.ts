import { launchDatabase, NoDatabaseError, type LauncherDeps, type RunningDatabase } from '../../src/db/launcher';
import { ferretdbEnvironment } from '../../src/db/ferretdb';

function running(kind: RunningDatabase['kind'], uri: string): RunningDatabase {
  return { kind, uri, description: kind, stop: async () => {} };
}

/** A world where nothing is installed and nothing is reachable; each test adds what it needs. */
function bareMachine(overrides: Partial<LauncherDeps> = {}): LauncherDeps & { calls: string[] } {
  const calls: string[] = [];
  const record = <T>(name: string, value: T) => async () => { calls.push(name); return value; };
  return {
    calls,
    probeOfficialMongod: record('probeOfficialMongod', undefined),
    downloadHostReachable: record('downloadHostReachable', false),
    downloadOfficialMongod: record('downloadOfficialMongod', undefined),
    startOfficialMongod: async (binary) => { calls.push(`startOfficialMongod:${binary}`); return running('mongod', 'mongodb://127.0.0.1:1/'); },
    findFerretdb: record('findFerretdb', undefined),
    findGo: record('findGo', undefined),
    buildFerretdb: async (go) => { calls.push(`buildFerretdb:${go}`); return '/cache/ferretdb'; },
    startFerretdb: async (binary, dataDir) => { calls.push(`startFerretdb:${binary}:${dataDir}`); return running('ferretdb', 'mongodb://127.0.0.1:2/'); },
    log: () => {},
    ...overrides,
  };
}

describe('database launcher', () => {
  it('uses MONGODB_URI when given and starts nothing', async () => {
    const deps = bareMachine();
    const db = await launchDatabase({ uri: 'mongodb://db.example:27017/cs', dataDir: '/d' }, deps);
    expect(db).toMatchObject({ kind: 'uri', uri: 'mongodb://db.example:27017/cs' });
    expect(deps.calls).toEqual([]);
  });

  it('prefers an official mongod found without network', async () => {
    const deps = bareMachine({ probeOfficialMongod: async () => '/usr/bin/mongod' });
    const db = await launchDatabase({ dataDir: '/d' }, deps);
    expect(db.kind).toBe('mongod');
    expect(deps.calls).toEqual(['startOfficialMongod:/usr/bin/mongod']);
  });

  it('downloads mongod when the network allows', async () => {
    const deps = bareMachine({
      downloadHostReachable: async () => true,
      downloadOfficialMongod: async () => '/cache/mongod',
    });
    const db = await launchDatabase({ dataDir: '/d' }, deps);
    expect(db.kind).toBe('mongod');
    expect(deps.calls).toContain('startOfficialMongod:/cache/mongod');
  });

  it('falls back to FerretDB when the download fails', async () => {
    const deps = bareMachine({
      downloadHostReachable: async () => true,
      downloadOfficialMongod: async () => undefined,
      findFerretdb: async () => '/usr/local/bin/ferretdb',
    });
    const db = await launchDatabase({ dataDir: '/d' }, deps);
    expect(db.kind).toBe('ferretdb');
    expect(deps.calls).toContain('startFerretdb:/usr/local/bin/ferretdb:/d/ferretdb');
  });

  it('uses an existing FerretDB offline without building', async () => {
    const deps = bareMachine({ findFerretdb: async () => '/opt/ferretdb' });
    await launchDatabase({ dataDir: '/d' }, deps);
    expect(deps.calls).not.toContain('downloadOfficialMongod');
    expect(deps.calls.some((c) => c.startsWith('buildFerretdb'))).toBe(false);
  });

  it('builds FerretDB with Go when none is found', async () => {
    const deps = bareMachine({ findGo: async () => '/usr/local/go/bin/go' });
    const db = await launchDatabase({ dataDir: '/d' }, deps);
    expect(db.kind).toBe('ferretdb');
    expect(deps.calls).toEqual(expect.arrayContaining(['buildFerretdb:/usr/local/go/bin/go', 'startFerretdb:/cache/ferretdb:/d/ferretdb']));
  });

  it('says how to fix it when there is no way to get a database', async () => {
    const promise = launchDatabase({ dataDir: '/d' }, bareMachine());
    await expect(promise).rejects.toBeInstanceOf(NoDatabaseError);
    await expect(promise).rejects.toThrow(/set MONGODB_URI=.*or install Go/);
  });
});

describe('FerretDB environment', () => {
  it('runs its garbage collector less often unless the operator chose a GOGC, and turns telemetry off', () => {
    expect(ferretdbEnvironment({ PATH: '/usr/bin' })).toEqual({ PATH: '/usr/bin', DO_NOT_TRACK: '1', GOGC: '400' });
    expect(ferretdbEnvironment({ GOGC: '150' }).GOGC).toBe('150');
  });
});
