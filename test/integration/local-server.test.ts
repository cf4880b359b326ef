/**
 * The local server in front of the real handler (`npm start`), and the README's promise:
 * `npm start`, then `npm run send -- all`, shows CRM payloads and stores the MP3.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReceiver } from '../../lambda/create-receiver';
import { createLocalServer, LAMBDA_MAX_EVENT_BYTES, WEBHOOK_PATH } from '../../scripts/lib/local-server';
import { type LocalAws, startLocalAws } from '../helpers/local-aws';
import { sampleEvent } from '../fixtures/samples';
import { signatureHeaders } from '../fixtures/signing';

const SECRET = 'wsec_local_server_secret';
const ROOT = new URL('../..', import.meta.url).pathname;
let local: LocalAws;
let url: string;
let server: ReturnType<typeof createLocalServer>;

beforeAll(async () => {
  local = await startLocalAws();
  const env = { ...local.env, ELEVENLABS_WEBHOOK_SECRET: SECRET, WEBHOOK_SECRET_ARN: '' };
  server = createLocalServer({ handler: createReceiver(env, { write: () => undefined }) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${WEBHOOK_PATH}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await local.close();
});

/** A raw HTTP/1.1 request, so tests control framing (Content-Length or chunked). */
function post(path: string, body: Buffer | string, headers: Record<string, string | number> = {}, chunked = false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = request({ host: '127.0.0.1', port: target.port, path, method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', (error) => (error as NodeJS.ErrnoException).code === 'ECONNRESET' || (error as NodeJS.ErrnoException).code === 'EPIPE' ? undefined : reject(error));
    if (chunked) {
      const data = Buffer.from(body);
      const step = 1 << 20;
      for (let i = 0; i < data.length; i += step) req.write(data.subarray(i, i + step));
    } else {
      req.write(body);
    }
    req.end();
  });
}

describe('the local server', () => {
  it('turns a signed POST into an API Gateway 2.0 event for the real handler', async () => {
    const body = JSON.stringify(sampleEvent('transcription'));
    const response = await post(WEBHOOK_PATH, body, signatureHeaders(SECRET, body));
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ received: true, forwarded: true });
  });

  it('answers 401 for an unsigned request', async () => {
    const response = await post(WEBHOOK_PATH, '{}', { 'content-type': 'application/json' });
    expect(response).toEqual({ status: 401, body: '{"error":"missing signature"}' });
  });

  it('answers 413 for a body over Lambda’s 6,291,456-byte limit (Content-Length)', async () => {
    const before = local.crm.received.length;
    const response = await post(WEBHOOK_PATH, Buffer.alloc(LAMBDA_MAX_EVENT_BYTES + 1, 0x20), { 'content-type': 'application/json' });
    expect(response).toEqual({ status: 413, body: '{"error":"payload too large"}' });
    expect(local.crm.received.length).toBe(before);
  });

  it('answers 413 for a chunked body that grows past the limit', async () => {
    const response = await post(WEBHOOK_PATH, Buffer.alloc(LAMBDA_MAX_EVENT_BYTES + 10, 0x20), { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, true);
    expect(response.status).toBe(413);
  });

  it('accepts a body of exactly the limit (and then judges its content)', async () => {
    const response = await post(WEBHOOK_PATH, Buffer.alloc(LAMBDA_MAX_EVENT_BYTES, 0x20), { 'content-type': 'application/json' });
    expect(response.status).toBe(401);
  });

  it('answers 404 elsewhere and 405 for other methods', async () => {
    expect((await post('/other', '{}')).status).toBe(404);
    const status = await new Promise<number>((resolve) => {
      const target = new URL(url);
      request({ host: '127.0.0.1', port: target.port, path: WEBHOOK_PATH, method: 'GET' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).end();
    });
    expect(status).toBe(405);
  });
});

describe('npm start, then npm run send -- all (the README promise)', () => {
  let child: ChildProcess | undefined;
  let dataDir: string;
  afterAll(async () => {
    child?.kill('SIGTERM');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('prints what to do next, forwards the samples and stores the MP3', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'local-run-'));
    const env = { ...process.env, PORT: '0', LOCAL_DATA_DIR: dataDir, CRM_WEBHOOK_URL: '', ELEVENLABS_WEBHOOK_SECRET: '' };
    child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await waitFor(() => output.includes('npm run send -- all'), 20_000, () => output);

    const sendUrl = /npm run send -- all --url (\S+)/.exec(output)?.[1];
    expect(sendUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhooks\/elevenlabs$/);
    expect(output).toMatch(/secret\s+wsec_[0-9a-f]{48}\s+\(generated/);

    const send = spawn(process.execPath, ['--import', 'tsx', 'scripts/send.ts', 'all', '--url', sendUrl!], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let sent = '';
    send.stdout!.on('data', (c: Buffer) => (sent += c.toString()));
    const code = await new Promise<number | null>((resolve) => send.on('close', resolve));
    expect(sent).toMatch(/transcription\s+200 .*"forwarded":true/);
    expect(sent).toMatch(/audio\s+200 .*"audioKey":"audio\/agent_sample\/conv_sample_\w+\.mp3"/);
    expect(sent).toMatch(/failure\s+200 .*"forwarded":true/);
    expect(code).toBe(0);

    await waitFor(() => (output.match(/\[crm sink\] received/g) ?? []).length === 2, 5_000, () => output);
    expect(output).toContain('"type": "conversationAICall"');
    const audioDir = join(dataDir, 's3', 'elevenlabs-audio-local', 'audio', 'agent_sample');
    expect(existsSync(audioDir) && readdirSync(audioDir).some((f) => f.endsWith('.mp3._S3rver_object'))).toBe(true);
  });
});

async function waitFor(condition: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out; output so far:\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
