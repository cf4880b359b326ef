/**
 * `npm start` across runs on one data folder: the secret generated and shown once, then
 * found in the saved file and said so (never shown again); LOG_FORMAT=json; a second start on a
 * busy folder; SIGTERM. And the settings it refuses, in one line naming the variable.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEnv, type RunningServer, requestLines, runScript, startServer, waitFor, writeEnvFile } from '../helpers/local-cli';

const base = mkdtempSync(join(tmpdir(), 'local-start-'));
const dataDir = join(base, 'data');
const running: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(running.map((server) => server.destroy()));
  rmSync(base, { recursive: true, force: true });
});

const env = (file: string, values: Record<string, string>, extra: Record<string, string> = {}) =>
  cliEnv({ LOCAL_ENV_FILE: writeEnvFile(join(base, file), values), ...extra });

describe('settings npm start refuses', () => {
  // Each refusal is one short process (~0.2 s of CPU): the limit below only ends a start that
  // did not refuse (it would serve until killed), and its message names the setting checked.
  const REFUSAL_LIMIT_MS = 90_000;

  it(
    'refuses bad local and receiver settings in one line naming the variable, from the environment or .env',
    async () => {
      const refused = join(base, 'refused');
      const cases: { setting: string; env: NodeJS.ProcessEnv; refusal: RegExp }[] = [
        {
          setting: 'PORT=abc in the environment',
          env: env('a.env', { LOCAL_DATA_DIR: refused }, { PORT: 'abc' }),
          refusal: /^npm start: PORT must be a port number from 0 to 65535 .*\(got "abc"\); fix it in your environment or \.env/,
        },
        {
          setting: 'RETRY_DRAIN_INTERVAL_MS=abc in .env',
          env: env('b.env', { LOCAL_DATA_DIR: refused, RETRY_DRAIN_INTERVAL_MS: 'abc' }),
          refusal: /^npm start: RETRY_DRAIN_INTERVAL_MS must be a whole number of milliseconds .*\(got "abc"\)/,
        },
        {
          setting: 'LOG_FORMAT=xml in .env',
          env: env('c.env', { LOCAL_DATA_DIR: refused, LOG_FORMAT: 'xml' }),
          refusal: /^npm start: LOG_FORMAT must be "short"/,
        },
        {
          setting: 'CRM_TIMEOUT_MS=soon in .env (a receiver setting)',
          env: env('d.env', { LOCAL_DATA_DIR: refused, PORT: '0', CRM_TIMEOUT_MS: 'soon' }),
          refusal: /^npm start: invalid configuration: CRM_TIMEOUT_MS must be a whole number/,
        },
        {
          setting: 'LOCAL_DATA_DIR=/ in .env',
          env: env('e.env', { LOCAL_DATA_DIR: '/' }),
          refusal: /^npm start: LOCAL_DATA_DIR is \/, which cannot be the data folder: it is the filesystem root$/,
        },
      ];
      const results = await Promise.all(
        cases.map(({ setting, env }) =>
          runScript('start', [], env, { label: `npm start with ${setting} (it must refuse and exit)`, timeoutMs: REFUSAL_LIMIT_MS }),
        ),
      );
      expect(existsSync(refused)).toBe(false); // refused before anything was started or written
      for (const [index, { code, stdout, stderr }] of results.entries()) {
        const { setting, refusal } = cases[index]!;
        expect(stderr.trim(), `npm start with ${setting}`).toMatch(refusal);
        expect(stderr.trim().split('\n'), `npm start with ${setting}: one line`).toHaveLength(1);
        expect(stdout, `npm start with ${setting}: nothing on stdout`).toBe('');
        expect(code, `npm start with ${setting}: exit code`).toBe(1);
      }
    },
    REFUSAL_LIMIT_MS + 30_000,
  );
});

describe('a start that fails after its checks leaves nothing of its own behind', () => {
  it('a busy port: one line naming the port, and no new data folder or unseen secret is left', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = String((busy.address() as AddressInfo).port);
    const fresh = join(base, 'busy-fresh');
    const kept = join(base, 'busy-kept');
    mkdirSync(kept);
    try {
      for (const folder of [fresh, kept]) {
        const { code, stderr } = await runScript('start', [], env(`busy-${folder.length}.env`, { LOCAL_DATA_DIR: folder, PORT: port }), {
          label: `npm start on busy port ${port} with LOCAL_DATA_DIR ${folder} (it must fail and exit)`,
          timeoutMs: 90_000,
        });
        expect(code).toBe(1);
        expect(stderr.trim()).toMatch(new RegExp(`^npm start: port ${port} is in use`));
      }
      expect(existsSync(fresh)).toBe(false); // the folder it made is gone
      expect(existsSync(join(kept, 'webhook-secret'))).toBe(false); // the folder was there: only the secret nobody saw goes
      expect(existsSync(kept)).toBe(true);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  }, 120_000);
});

describe('npm start on one data folder, run after run', () => {
  let generated: string;

  it('generates a secret on the first run, shows it once and saves it (0600); send all reaches the CRM sink', async () => {
    const server = await startServer(env('first.env', { LOCAL_DATA_DIR: dataDir, PORT: '0' }));
    running.push(server);
    const match = /secret\s+(wsec_[0-9a-f]{48})\s+\(generated now, saved in (\S+); shown this once\)/.exec(server.output());
    expect(match?.[2]).toBe(join(dataDir, 'webhook-secret'));
    generated = match![1]!;
    expect(readFileSync(join(dataDir, 'webhook-secret'), 'utf8').trim()).toBe(generated);
    expect(statSync(join(dataDir, 'webhook-secret')).mode & 0o777).toBe(0o600);

    const sent = await runScript('send', ['all'], env('send.env', { LOCAL_DATA_DIR: dataDir }));
    expect(sent.code).toBe(0);
    await waitFor(() => (server.output().match(/\[crm sink\] received/g) ?? []).length === 2, 5_000, server.output);
    expect(server.output()).toContain('"type": "conversationAICall"');

    expect(await server.stop('SIGTERM')).toBe(0);
    expect(server.output()).toMatch(/^Stopped\. /m);
  });

  it('says the next run’s secret is the saved one and never prints it; LOG_FORMAT=json prints Lambda’s line', async () => {
    const server = await startServer(env('second.env', { LOCAL_DATA_DIR: dataDir, PORT: '0', LOG_FORMAT: 'json' }));
    running.push(server);
    expect(server.output()).toMatch(new RegExp(`secret\\s+saved in ${dataDir}/webhook-secret \\(generated by an earlier npm start\\)\\n`));
    expect(server.output()).not.toContain(generated);

    const sent = await runScript('send', ['ping'], env('send.env', { LOCAL_DATA_DIR: dataDir }));
    expect(sent.stdout).toMatch(/^ping +200 /m);
    await fetch(server.url, { method: 'GET' });
    await waitFor(() => /"message":"local server request"/.test(server.output()), 5_000, server.output);
    const json = server
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
    expect(json).toEqual([
      expect.objectContaining({ message: 'webhook request', outcome: 'skipped', statusCode: 200, _aws: expect.any(Object) }),
      expect.objectContaining({ message: 'local server request', method: 'GET', statusCode: 405, outcome: 'method_not_allowed' }),
    ]);
    expect(requestLines(server.output())).toEqual([]);
    expect(server.output()).not.toContain(generated);

    // A second npm start on the same folder is refused while this one runs.
    const second = await runScript('start', [], env('third.env', { LOCAL_DATA_DIR: dataDir, PORT: '0' }));
    expect(second.stderr.trim()).toMatch(
      /^npm start: npm start is already running against .*\(pid \d+, http:\/\/127\.0\.0\.1:\d+\/webhooks\/elevenlabs\); stop it first, or use another LOCAL_DATA_DIR$/,
    );
    expect(second.code).toBe(1);

    // --force empties it anyway.
    const reset = await runScript('reset', ['--yes', '--force'], env('send.env', { LOCAL_DATA_DIR: dataDir }));
    expect(reset.stdout).toMatch(/^Emptied .*data \(removed (audio-checks, )?dynamodb, s3, server\.json, webhook-secret\)\.$/m);
    expect(reset.code).toBe(0);
    expect(existsSync(join(dataDir, 'webhook-secret'))).toBe(false);

    expect(await server.stop('SIGINT')).toBe(0);
  });
});
