import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main, parseFlags } from '../../scripts/nlu-eval';

describe('nlu-eval flags', () => {
  let stderr: jest.SpyInstance;
  let stdout: jest.SpyInstance;
  beforeEach(() => {
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    stderr.mockRestore();
    stdout.mockRestore();
  });
  const message = () => stderr.mock.calls.map((c) => String(c[0])).join('');

  it.each([
    [['--task', 'sentiment', '--test', 'x'], '--task'],
    [['--task', 'intent', '--bogus'], '--bogus'],
    [['--task', 'intent', '--train', 'a.jsonl'], '--test'],
    [['--task', 'intent', '--model', 'latest', '--test', 'x'], '--model'],
    [['--task', 'intent', '--train'], '--train'],
  ])('%j exits 2 naming %s', async (argv, flag) => {
    expect(await main(argv)).toBe(2);
    expect(message()).toContain(flag);
  });

  it('trains, tests and ends with one JSON line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlu-eval-'));
    const rows = (texts: string[], label: string) => texts.map((text) => JSON.stringify({ text, label }));
    const train = path.join(dir, 'train.jsonl');
    fs.writeFileSync(train, [...rows(['怎么退保', '退保流程', '我要退保', '退保扣钱吗'], 'surrender'), ...rows(['怎么报案', '报案流程', '我要报案', '报案电话'], 'report')].join('\n'));
    const test = path.join(dir, 'test.jsonl');
    fs.writeFileSync(test, [...rows(['退保要多久'], 'surrender'), ...rows(['去哪报案'], 'report')].join('\n'));
    expect(parseFlags(['--task', 'intent', '--train', train, '--test', test, '--no-progress']).train).toEqual([train]);
    expect(await main(['--task', 'intent', '--train', train, '--test', test, '--no-progress'])).toBe(0);
    const printed = stdout.mock.calls.map((c) => String(c[0])).join('').trim().split('\n');
    const summary = JSON.parse(printed[printed.length - 1]) as Record<string, unknown>;
    expect(Object.keys(summary)).toEqual(['accuracy', 'macroF1', 'trainSeconds', 'classifyPerSecond', 'test']);
    expect(summary.accuracy).toBe(1);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
