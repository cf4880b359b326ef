/**
 * `npm run reset` as a user runs it: asks on a terminal (a real pseudo-terminal through
 * util-linux `script`), takes --yes otherwise, and never empties anything but a data folder.
 * Refusing while npm start runs is tested with a live server in local-cli.test.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliBundle, cliEnv, ROOT, runProcess, runScript, writeEnvFile } from '../helpers/local-cli';

const base = mkdtempSync(join(tmpdir(), 'reset-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** A data folder as npm start leaves it, plus a server.json whose process is gone. */
function dataFolder(name: string): string {
  const dir = join(base, name);
  mkdirSync(join(dir, 's3', 'bucket'), { recursive: true });
  mkdirSync(join(dir, 'retry-queue', 'dead-letter'), { recursive: true });
  writeFileSync(join(dir, '.elevenlabs-local-data'), '');
  writeFileSync(join(dir, 'webhook-secret'), 'wsec_x\n');
  writeFileSync(
    join(dir, 'server.json'),
    JSON.stringify({
      pid: 2 ** 22 + 1,
      url: 'http://127.0.0.1:1/webhooks/elevenlabs',
      secret: 'wsec_x',
      secretSource: 'saved',
      startedAt: '',
    }),
  );
  return dir;
}
const envFor = (dataDir: string) =>
  cliEnv({ LOCAL_ENV_FILE: writeEnvFile(join(base, `${Math.random()}.env`), { LOCAL_DATA_DIR: dataDir }) });
const reset = (dataDir: string, ...args: string[]) => runScript('reset', args, envFor(dataDir));
/** On a pseudo-terminal, answering the prompt with `answer`. */
const resetOnTerminal = (dataDir: string, answer: string) =>
  runProcess('script', ['-qec', `${process.execPath} ${cliBundle('scripts/reset.ts')}`, '/dev/null'], envFor(dataDir), {
    input: `${answer}\n`,
  });

describe('npm run reset', () => {
  it('never empties the filesystem root, the repository, or a folder npm start did not make', async () => {
    const other = join(base, 'thesis');
    mkdirSync(other);
    writeFileSync(join(other, 'chapter1.tex'), 'x');
    const [root, repo, foreign] = await Promise.all([reset('/', '--yes'), reset(ROOT, '--yes', '--force'), reset(other, '--yes')]);
    expect(root.stderr.trim()).toBe('reset: refusing to empty /: it is the filesystem root');
    expect(repo.stderr.trim()).toMatch(/^reset: refusing to empty .*: it is the repository or a folder that contains it$/);
    expect(foreign.stderr.trim()).toMatch(/^reset: refusing to empty .*thesis: it is not a data folder made by npm start/);
    for (const result of [root, repo, foreign]) expect(result.code).toBe(1);
    expect(readdirSync(other)).toEqual(['chapter1.tex']);
  });

  it('asks first: without a terminal it needs --yes; on a terminal "n" keeps everything and "y" empties it', async () => {
    const [piped, no, yes] = [dataFolder('piped'), dataFolder('no'), dataFolder('yes')];
    const [pipedResult, noResult, yesResult] = await Promise.all([reset(piped), resetOnTerminal(no, 'n'), resetOnTerminal(yes, 'y')]);
    expect(pipedResult.stderr.trim()).toBe('reset: refusing to delete without confirmation: run it on a terminal, or pass --yes');
    expect(pipedResult.code).toBe(2);
    expect(existsSync(join(piped, 'webhook-secret'))).toBe(true);

    expect(noResult.stdout).toMatch(/Empty .*no\? This deletes stored audio and archived events, .* \[y\/N\]/);
    expect(noResult.stdout).toMatch(/reset: cancelled; nothing deleted/);
    expect(noResult.code).toBe(1);
    expect(existsSync(join(no, 's3'))).toBe(true);

    expect(yesResult.stdout).toMatch(/Emptied .*yes \(removed retry-queue, s3, server\.json, webhook-secret\)\./);
    expect(yesResult.code).toBe(0);
    expect(readdirSync(yes)).toEqual(['.elevenlabs-local-data']);
  });

  it('empties with --yes when the recorded server is gone, and says when there is nothing to do', async () => {
    const dir = dataFolder('stale');
    const emptied = await reset(dir, '--yes');
    expect(emptied.stdout.trim()).toMatch(/^Emptied .*stale \(removed retry-queue, s3, server\.json, webhook-secret\)\.$/);
    expect(emptied.code).toBe(0);
    const [again, missing, flag] = await Promise.all([
      reset(dir, '--yes'),
      reset(join(base, 'never-created'), '--yes'),
      reset(dir, '--all'),
    ]);
    expect(again.stdout.trim()).toMatch(/is already empty\.$/);
    expect(missing.stdout.trim()).toMatch(/^Nothing to reset: .*never-created does not exist\.$/);
    expect(flag.stderr.trim()).toBe('reset: unknown option --all (see --help)');
    expect(flag.code).toBe(2);
  });
});
