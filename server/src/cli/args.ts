import path from 'node:path';
/** Minimal `--flag value` / `--switch` parsing for the project's CLIs, with errors that name the flag. */
export class CliUsageError extends Error {}

export function parseArgs(argv: string[], spec: { values?: string[]; switches?: string[] }): Record<string, string | boolean> {
  const values = new Set(spec.values ?? []);
  const switches = new Set(spec.switches ?? []);
  const result: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') ? arg.slice(2).split(/=(.*)/s, 2) : [undefined, undefined];
    if (flag === undefined) throw new CliUsageError(`unexpected argument "${arg}"`);
    if (switches.has(flag)) { result[flag] = true; continue; }
    if (!values.has(flag)) throw new CliUsageError(`unknown flag --${flag}`);
    const value = inline ?? argv[++i];
    if (value === undefined || value.startsWith('--')) throw new CliUsageError(`--${flag} needs a value`);
    result[flag] = value;
  }
  return result;
}

/** Runs a CLI main: usage errors exit 2 with the message, other known errors exit 1 with their message. */
export function runCli(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      if (err instanceof CliUsageError) { console.error(`error: ${err.message}`); process.exit(2); }
      console.error(err instanceof Error && err.name !== 'Error' ? err.message : err);
      process.exit(1);
    },
  );
}

/** npm runs workspace scripts inside server/; paths the user typed are relative to where they typed them. */
export function resolveUserPath(file: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), file);
}
