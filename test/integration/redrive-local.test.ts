/**
 * `npm run redrive -- --local` as a user runs it: npm start's dead-letter folders (CRM
 * payloads and audio checks) go back into their queues with a fresh receive count, byte for
 * byte; `--dry-run` only counts; bad flag combinations are one line and exit code 2.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { redriveFolder } from '../../support/folder-queue';
import { cliEnv, runScript, writeEnvFile } from '../helpers/local-cli';

const base = mkdtempSync(join(tmpdir(), 'redrive-local-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** A data folder whose queues hold `dead` dead-lettered messages each (and one live message). */
function dataFolder(name: string, dead: number): string {
  const dir = join(base, name);
  for (const queue of ['retry-queue', 'audio-checks']) {
    mkdirSync(join(dir, queue, 'dead-letter'), { recursive: true });
    writeFileSync(join(dir, queue, '1764000000000-000001-live.failed-2.json'), '{"live":true}');
    for (let i = 0; i < dead; i++) writeFileSync(join(dir, queue, 'dead-letter', `1764000000000-00000${i}-dead${i}.json`), `{"dead":${i}}`);
    writeFileSync(join(dir, queue, 'dead-letter', '.partial.json.tmp'), 'half');
  }
  return dir;
}
const redriveIn = (dataDir: string, ...args: string[]) =>
  runScript('redrive', args, cliEnv({ LOCAL_ENV_FILE: writeEnvFile(join(base, `${Math.random()}.env`), { LOCAL_DATA_DIR: dataDir }) }));

describe('npm run redrive -- --local', () => {
  it('--dry-run counts what would move and moves nothing', async () => {
    const dir = dataFolder('dry', 2);
    const { code, stdout } = await redriveIn(dir, '--local', '--dry-run');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^CRM payloads: would move 2 from .*retry-queue\/dead-letter\/ back to .*retry-queue\/ \(dry run\)$/m);
    expect(stdout).toMatch(/^call checks: would move 2 from .*audio-checks\/dead-letter\/ back/m);
    expect(readdirSync(join(dir, 'retry-queue', 'dead-letter'))).toHaveLength(3);
  });

  it('moves every dead-lettered message back, byte for byte, with a fresh count; temp files stay', async () => {
    const dir = dataFolder('real', 3);
    const { code, stdout } = await redriveIn(dir, '--local');
    expect(code).toBe(0);
    // No npm start runs against this folder: the line says what delivers them.
    expect(stdout).toMatch(/^CRM payloads: moved 3 from .* start npm start to deliver them$/m);
    for (const queue of ['retry-queue', 'audio-checks']) {
      expect(readdirSync(join(dir, queue, 'dead-letter'))).toEqual(['.partial.json.tmp']);
      const back = readdirSync(join(dir, queue)).filter((name) => name.endsWith('.json'));
      expect(back.sort()).toEqual([
        '1764000000000-000000-dead0.json',
        '1764000000000-000001-dead1.json',
        '1764000000000-000001-live.failed-2.json',
        '1764000000000-000002-dead2.json',
      ]);
      expect(readFileSync(join(dir, queue, '1764000000000-000002-dead2.json'), 'utf8')).toBe('{"dead":2}');
    }
    const again = await redriveIn(dir, '--local');
    expect(again.stdout).toMatch(/^CRM payloads: nothing in .*retry-queue\/dead-letter\/$/m);
  });

  it('says "nothing" for a data folder npm start never used', async () => {
    const { code, stdout } = await redriveIn(join(base, 'never-started'), '--local');
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^CRM payloads: nothing in /),
      expect.stringMatching(/^call checks: nothing in /),
      expect.stringMatching(/^texts: nothing in /),
    ]);
  });

  it.each([
    [
      ['--local', '--dlq', 'https://sqs.ap-southeast-2.amazonaws.com/1/dlq'],
      /^redrive: --local works on the local folders; leave out --dlq and --queue \(see --help\)$/m,
    ],
    [[], /^redrive: --dlq is required \(the DlqUrl output of the stack\), or --local for npm start's folders \(see --help\)$/m],
    [['--local', '--bogus'], /^redrive: unknown option --bogus/m],
  ])('refuses %j with one line and exit code 2', async (args, message) => {
    const { code, stderr } = await redriveIn(dataFolder(`bad-${Math.random()}`, 1), ...args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('redriveFolder renames a failed-count name back to a fresh one', async () => {
    const dir = join(base, 'renamed');
    mkdirSync(join(dir, 'dead-letter'), { recursive: true });
    writeFileSync(join(dir, 'dead-letter', 'abc.failed-7.json'), 'x');
    expect(await redriveFolder(dir)).toEqual({ moved: 1 });
    expect(readdirSync(dir).sort()).toEqual(['abc.json', 'dead-letter']);
  });
});
