/**
 * `npm start` and `npm run send` / `npm run reset` as a user runs them, against one shared
 * server started with `npm run start` (PORT=0, a temp LOCAL_DATA_DIR named in a `.env` file,
 * ELEVENLABS_WEBHOOK_SECRET in the environment — the case that used to end in 401) and a
 * scripted CRM on 127.0.0.1. The last test stops it with SIGINT sent to the npm process.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SUBJECT } from '../../scripts/lib/send-payloads';
import { sampleEvent } from '../../support/fixtures/samples';
import { type CrmStandIn, startCrmStandIn } from '../../support/stand-ins/crm';
import { cliEnv, type RunningServer, requestLines, runScript, startServer, waitFor, writeEnvFile } from '../helpers/local-cli';

const run = promisify(execFile);
const SECRET = 'wsec_local_cli_secret_from_the_environment';
const base = mkdtempSync(join(tmpdir(), 'local-cli-'));
const dataDir = join(base, 'data');
const envFile = join(base, 'test.env');
let crm: CrmStandIn;
let server: RunningServer;
/** The environment `npm run send` and `npm run reset` get: only the .env file, no secret. */
let sendEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  crm = await startCrmStandIn();
  // Local settings from the .env file: LOCAL_DATA_DIR and the drain interval must be honoured.
  writeEnvFile(envFile, {
    LOCAL_DATA_DIR: dataDir,
    RETRY_DRAIN_INTERVAL_MS: '400',
    CRM_MAX_ATTEMPTS: '1',
    CRM_TIMEOUT_MS: '1000',
    AUDIO_CHECK_DELAY_SECONDS: '1',
  });
  sendEnv = cliEnv({ LOCAL_ENV_FILE: envFile, TMPDIR: base });
  server = await startServer(cliEnv({ LOCAL_ENV_FILE: envFile, PORT: '0', ELEVENLABS_WEBHOOK_SECRET: SECRET, CRM_WEBHOOK_URL: crm.url }), {
    viaNpm: true,
  });
}, 60_000);
afterAll(async () => {
  await server?.destroy();
  await crm?.close();
  rmSync(base, { recursive: true, force: true });
});

const send = (...args: string[]) => runScript('send', args, sendEnv);
const lines = () => requestLines(server.output());
/** One line on stderr, no stack trace. */
function expectOneLineError(stderr: string, pattern: RegExp): void {
  expect(stderr.trim()).toMatch(pattern);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('npm start', () => {
  it('says where its secret came from, never prints it, and records it with its URL (mode 0600)', () => {
    expect(server.output()).toMatch(/secret\s+ELEVENLABS_WEBHOOK_SECRET from the environment\n/);
    expect(server.output()).toMatch(new RegExp(`data folder\\s+${dataDir}/`));
    expect(server.output()).not.toContain(SECRET);
    const file = join(dataDir, 'server.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
      url: server.url,
      secret: SECRET,
      secretSource: 'environment',
      pid: expect.any(Number),
    });
  });
});

describe('npm run send', () => {
  it('sends the samples to the running server with its recorded secret (no --url, no --secret)', async () => {
    const before = crm.accepted.length;
    const { code, stdout, stderr } = await send('all');
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^transcription 200 .*"forwarded":true/m);
    expect(stdout).toMatch(/^audio +200 .*"audioKey":"audio\/agent_sample\/conv_sample_\w+\.mp3"/m);
    expect(stdout).toMatch(/^failure +200 .*"forwarded":true/m);
    expect(code).toBe(0);
    expect(crm.accepted.length - before).toBe(2);
    expect(
      readdirSync(join(dataDir, 's3', 'elevenlabs-audio-local', 'audio', 'agent_sample')).some((f) => f.endsWith('.mp3._S3rver_object')),
    ).toBe(true);
  });

  it("keeps every call as the stack does: the archive on disk, and an audio check by the worker's code", async () => {
    const { stdout } = await send('all');
    const conversationId = /^transcription 200 .*"conversationId":"(conv_sample_\w+)"/m.exec(stdout)![1]!;
    // `all` is one connected call: its audio event carries the same conversation id.
    expect(stdout).toMatch(new RegExp(`^audio +200 .*"audioKey":"audio/agent_sample/${conversationId}\\.mp3"`, 'm'));
    const archived = join(
      dataDir,
      's3',
      'elevenlabs-audio-local',
      'calls',
      'agent_sample',
      conversationId,
      'post_call_transcription.json._S3rver_object',
    );
    await waitFor(
      () => existsSync(archived),
      5_000,
      () => server.output(),
    );
    expect(JSON.parse(readFileSync(archived, 'utf8')).data.conversation_id).toBe(conversationId);
    // The call check runs a second later and finds the record archived and the recording the audio webhook stored.
    await waitFor(
      () => server.output().includes(`[call check] ${conversationId}: CRM record already kept; recording already stored`),
      10_000,
      () => server.output(),
    );
    expect(server.output()).toMatch(/ELEVENLABS_API_KEY is not set: a missing recording is reported as AudioMissing/);
  });

  it('prints one short line per request, with nothing secret or personal in it', async () => {
    await waitFor(
      () => lines().length >= 3,
      5_000,
      () => server.output(),
    );
    expect(lines().slice(0, 3)).toEqual([
      expect.stringMatching(/^POST \/webhooks\/elevenlabs 200 forwarded \d+ ms$/),
      expect.stringMatching(/^POST \/webhooks\/elevenlabs 200 audio_stored \d+ ms$/),
      expect.stringMatching(/^POST \/webhooks\/elevenlabs 200 forwarded \d+ ms$/),
    ]);
    const all = lines().join('\n');
    for (const text of [SECRET, 'angelo', 'Angelo', '61413052898', 'fun fact', 'v0=']) expect(all).not.toContain(text);
    expect(server.output()).not.toMatch(/^\{"level"/m); // the JSON line only with LOG_FORMAT=json
  });

  it('deduplicates locally as on AWS: the same transcription twice is answered deduplicated', async () => {
    const before = crm.accepted.length;
    const first = await send('transcription', '--conversation-id', 'conv_cli_dedup');
    const second = await send('transcription', '--conversation-id', 'conv_cli_dedup');
    expect(first.stdout).toMatch(/"conversationId":"conv_cli_dedup","forwarded":true/);
    expect(second.stdout).toMatch(/"conversationId":"conv_cli_dedup","deduplicated":true/);
    expect(crm.accepted.length - before).toBe(1);
    await waitFor(
      () => lines().some((l) => / 200 deduplicated /.test(l)),
      5_000,
      () => server.output(),
    );
  });

  it('pings: 200 skipped, no CRM record', async () => {
    const before = crm.received.length;
    const { code, stdout } = await send('ping');
    expect(stdout).toMatch(/^ping +200 \{"received":true,"type":"ping",.*"skipped":true/m);
    expect(stdout).toMatch(/URL and secret are right/);
    expect(code).toBe(0);
    expect(crm.received.length).toBe(before);
  });

  it('warns in one line when --secret differs from the server’s, and shows the 401', async () => {
    const { code, stdout, stderr } = await send('ping', '--secret', 'wsec_wrong');
    expectOneLineError(stderr, /^warning: --secret differs from the secret the running npm start verifies with .*expect 401$/);
    expect(stdout).toMatch(/^ping +401 \{"error":"signature mismatch"\}/m);
    expect(code).toBe(1);
    expect(stderr + stdout).not.toContain('wsec_wrong');
    await waitFor(
      () => lines().some((l) => / 401 signature_rejected \d+ ms \(signature mismatch\)$/.test(l)),
      5_000,
      () => server.output(),
    );
  });

  it('warns when ELEVENLABS_WEBHOOK_SECRET in .env differs from the running server’s, and signs with the server’s', async () => {
    const otherEnv = writeEnvFile(join(base, 'other.env'), { LOCAL_DATA_DIR: dataDir, ELEVENLABS_WEBHOOK_SECRET: 'wsec_changed_since' });
    const { code, stdout, stderr } = await runScript('send', ['ping'], cliEnv({ LOCAL_ENV_FILE: otherEnv }));
    expectOneLineError(
      stderr,
      /^warning: ELEVENLABS_WEBHOOK_SECRET in \.env differs from the secret the running npm start verifies with .*using the server's/,
    );
    expect(stdout).toMatch(/^ping +200 /m);
    expect(code).toBe(0);
  });

  it('--file sends a saved payload as it is; --conversation-id replaces its id', async () => {
    const event = sampleEvent('transcription', { conversationId: 'conv_saved_file' });
    event.data.conversation_initiation_client_data.dynamic_variables.subject = 'Saved payload subject';
    const file = join(base, 'payload.json');
    writeFileSync(file, `${JSON.stringify(event, null, 2)}\n`);
    const before = crm.accepted.length;
    const sent = await send('--file', file);
    expect(sent.stdout).toMatch(/^post_call_transcription 200 .*"conversationId":"conv_saved_file","forwarded":true/m);
    const again = await send('--file', file, '--conversation-id', 'conv_saved_file_2');
    expect(again.stdout).toMatch(/"conversationId":"conv_saved_file_2","forwarded":true/);
    expect(crm.accepted.slice(before)).toEqual([
      expect.objectContaining({ subject: 'Saved payload subject' }),
      expect.objectContaining({ subject: 'Saved payload subject' }),
    ]);
  });

  it('--file reads a relative path from where npm was run (INIT_CWD), not from the repository', async () => {
    const event = sampleEvent('transcription', { conversationId: 'conv_relative_file' });
    writeFileSync(join(base, 'relative.json'), JSON.stringify(event));
    const sent = await runScript('send', ['--file', 'relative.json'], { ...sendEnv, INIT_CWD: base });
    expect(sent.stdout).toMatch(/"conversationId":"conv_relative_file","forwarded":true/);
    const missing = await runScript('send', ['--file', 'nope.json'], { ...sendEnv, INIT_CWD: base });
    expectOneLineError(
      missing.stderr,
      new RegExp(`^send: cannot read --file nope\\.json \\(${base.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/nope\\.json\\): no such file$`),
    );
  });

  it('--print-curl prints commands that work when pasted into a shell (inline and from a file)', async () => {
    const { code, stdout, stderr } = await send('all', '--print-curl', '--conversation-id', 'conv_curl');
    expect(code).toBe(0);
    expect(stderr).toMatch(/^# signed now/);
    const commands = stdout.trim().split('\n');
    expect(commands).toHaveLength(3);
    expect(
      commands.every((c) => c.startsWith(`curl -sS -w '\\n' -X POST '${server.url}' `) && c.includes("-H 'elevenlabs-signature: t=")),
    ).toBe(true);
    expect(commands[0]).toContain("--data-binary '{");
    const bodyFile = /--data-binary @'([^']+)'/.exec(commands[1]!)?.[1];
    expect(bodyFile?.startsWith(base)).toBe(true); // the temp folder (TMPDIR)
    expect(statSync(bodyFile!).mode & 0o777).toBe(0o600);
    // Asynchronously: the scripted CRM answers from this process's event loop.
    const answers: unknown[] = [];
    for (const command of commands) answers.push(JSON.parse((await run('sh', ['-c', command])).stdout));
    expect(answers).toEqual([
      expect.objectContaining({ conversationId: 'conv_curl', forwarded: true }),
      expect.objectContaining({ audioKey: 'audio/agent_sample/conv_curl.mp3' }),
      expect.objectContaining({ conversationId: 'conv_curl', forwarded: true }),
    ]);
  });

  it('refuses samples for another machine without --yes, and marks them as tests', async () => {
    const remote = 'https://receiver.example.com/webhooks/elevenlabs';
    const refused = await send('all', '--url', remote, '--secret', 'wsec_remote');
    expectOneLineError(
      refused.stderr,
      /^send: refusing to send samples to receiver\.example\.com, which is not this machine: .*--yes.*"ping"/,
    );
    expect(refused.stdout).toBe('');
    expect(refused.code).toBe(2);
    const file = await send('--file', join(base, 'payload.json'), '--url', remote, '--secret', 'wsec_remote');
    expect(file.code).toBe(2);
    // Printed, not sent: the body shows the subject a deployment's CRM would receive.
    const printed = await send('transcription', '--url', remote, '--secret', 'wsec_remote', '--print-curl');
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain(`"subject":"${TEST_SUBJECT}"`);
  });

  it.each([
    [['--bogus'], /^send: unknown option --bogus \(see --help\)$/, 2],
    [['weird'], /^send: unknown kind "weird": use transcription, audio, failure, all or ping/, 2],
    [['audio', '--audio-seconds', 'abc'], /^send: --audio-seconds must be a number of seconds above 0 and at most 600 \(got "abc"\)$/, 2],
    [['--url'], /^send: Option '--url <value>' argument missing \(see --help\)$/, 2],
    [
      ['--file', '/nonexistent/payload.json'],
      /^send: cannot read --file \/nonexistent\/payload\.json \(\/nonexistent\/payload\.json\): no such file$/,
      1,
    ],
    [['ping', '--file', 'x.json'], /^send: give either a kind or --file, not both$/, 2],
    [['--url', 'ftp://127.0.0.1/x', 'ping'], /^send: --url must be an http\(s\) URL/, 2],
  ])('refuses %j in one line', async (args, message, exitCode) => {
    const { code, stdout, stderr } = await send(...(args as string[]));
    expectOneLineError(stderr, message as RegExp);
    expect(stdout).toBe('');
    expect(code).toBe(exitCode);
  });

  it('refuses a --file that is not JSON without quoting it', async () => {
    const file = join(base, 'broken.json');
    writeFileSync(file, '{"name": "Jane Citizen", "summary": oops');
    const { code, stderr } = await send('--file', file);
    expectOneLineError(stderr, /^send: --file .*broken\.json is not valid JSON$/);
    expect(code).toBe(1);
  });

  it('reports an unreachable URL in one line', async () => {
    const closed = await closedPort();
    const { code, stdout, stderr } = await send('ping', '--url', `http://127.0.0.1:${closed}/webhooks/elevenlabs`, '--secret', 'wsec_x');
    expectOneLineError(
      stderr,
      new RegExp(`^send: cannot reach http://127\\.0\\.0\\.1:${closed}/webhooks/elevenlabs: connection refused — is npm start running\\?$`),
    );
    expect(stdout).toBe('');
    expect(code).toBe(1);
  });
});

describe('the local server on the wire', () => {
  it('prints a line for 404, 405 and 413 too, and 413 reaches the client', async () => {
    expect((await fetch(server.url.replace('/webhooks/elevenlabs', '/favicon.ico'))).status).toBe(404);
    expect((await fetch(server.url)).status).toBe(405);
    const tooLarge = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.alloc(6_300_000, 0x20),
    });
    expect(tooLarge.status).toBe(413);
    await waitFor(
      () => lines().some((l) => / 413 /.test(l)),
      5_000,
      () => server.output(),
    );
    expect(lines()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^GET \/favicon\.ico 404 not_found \d+ ms$/),
        expect.stringMatching(/^GET \/webhooks\/elevenlabs 405 method_not_allowed \d+ ms$/),
        expect.stringMatching(/^POST \/webhooks\/elevenlabs 413 payload_too_large \d+ ms$/),
      ]),
    );
  });

  it('queues when the CRM fails, says so with the next drain, then delivers when it is back', async () => {
    crm.respond({ status: 503 });
    const sent = await send('failure', '--conversation-id', 'conv_cli_retry');
    expect(sent.stdout).toMatch(/"forwarded":false,"queued":true/);
    await waitFor(
      () => /\[retry queue\] 1 waiting; next drain in [\d.]+ s \(\d\d:\d\d:\d\d\)/.test(server.output()),
      5_000,
      () => server.output(),
    );
    expect(lines()).toContainEqual(expect.stringMatching(/ 200 queued \d+ ms \(CRM failed: HTTP 503; waiting in the retry queue\)$/));
    const before = crm.accepted.length;
    crm.respond({ status: 200 });
    await waitFor(
      () => /\[retry queue\] drained: delivered 1 to the CRM; none waiting/.test(server.output()),
      10_000,
      () => server.output(),
    );
    expect(crm.accepted.length - before).toBe(1);
  });
});

describe('npm run reset while npm start runs', () => {
  it('refuses without --force and deletes nothing', async () => {
    const { code, stdout, stderr } = await runScript('reset', ['--yes'], sendEnv);
    expectOneLineError(
      stderr,
      /^reset: npm start is running against .*data \(pid \d+, http:\/\/127\.0\.0\.1:\d+\/webhooks\/elevenlabs\); stop it first, or pass --force$/,
    );
    expect(stdout).toBe('');
    expect(code).toBe(1);
    expect(existsSync(join(dataDir, 'server.json'))).toBe(true);
    expect(existsSync(join(dataDir, 's3'))).toBe(true);
  });
});

describe('stopping', () => {
  it('stops on SIGINT sent to the npm process with one goodbye line and exit code 0', async () => {
    const code = await server.stop('SIGINT');
    expect(code).toBe(0);
    expect(server.output().match(/^Stopped\. Local data kept in .*\(npm run reset empties it\)\.$/gm)).toHaveLength(1);
    expect(existsSync(join(dataDir, 'server.json'))).toBe(false);
  });
});

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('every CLI documents itself', () => {
  it.each(['start', 'send', 'replay', 'backfill', 'redrive', 'reset'])('%s --help: usage first, its exit codes, exit 0', async (name) => {
    const { code, stdout, stderr } = await runScript(name, ['--help'], cliEnv({}));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: /);
    expect(stdout).toMatch(/Exit codes: 0 /);
  });
});
