import { buildFerretdb, findFerretdb, findGo, startFerretdb } from './ferretdb';
import { downloadHostReachable, downloadOfficialMongod, probeOfficialMongod, startOfficialMongod } from './mongod';
import type { LauncherDeps } from './launcher';

/** The real world behind the launcher's choices. */
export function defaultLauncherDeps(log: (message: string) => void): LauncherDeps {
  return {
    probeOfficialMongod,
    downloadHostReachable: () => downloadHostReachable(),
    downloadOfficialMongod: () => downloadOfficialMongod(),
    startOfficialMongod,
    findFerretdb: () => findFerretdb(),
    findGo: () => findGo(),
    buildFerretdb: (go) => buildFerretdb(go, process.env, log),
    startFerretdb: (binary, dataDir) => startFerretdb(binary, dataDir),
    log,
  };
}
