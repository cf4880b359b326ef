/**
 * The layer builder as deployed (SPEC §14): the bundle in dist/receiver/layer-builder, run on
 * Node.js 24 (Lambda's runtime; Node 20 has no compile cache) beside the receiver's real code,
 * against s3rver and a local server standing in for CloudFormation's answer URL. The archive it
 * writes is unpacked as Lambda unpacks a layer, and a fresh Node 24 reads the receiver's chunks
 * from it: the cache is real, and Node accepts it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runNodeJson } from '../../bench/lib/child';
import { node24 } from '../../bench/lib/node24';
import { createAnswerSender } from '../../lambda/adapters/custom-resource-answer';
import { COMPILE_CACHE_LAYER_FOLDER } from '../../lambda/core/compile-cache-layer';
import { startBlackHole } from '../../support/stand-ins/black-hole';
import { type EmbeddedS3, startEmbeddedS3 } from '../../support/stand-ins/s3';
import { readZip } from '../helpers/zip-reader';

const BUCKET = 'calls-layer-test';
const HASH = 'ab12'.repeat(16);
const CODE = join(ROOT, 'dist', 'receiver');
const BUILDER = pathToFileURL(join(CODE, 'layer-builder', 'index.mjs')).href;

let s3: EmbeddedS3;
let answers: { path: string; contentType?: string; body: Record<string, unknown> }[] = [];
let answerServer: Server;
let answerUrl: string;
let node: string;
let scratch: string;

const readBody = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

beforeAll(async () => {
  node = node24().binary;
  scratch = mkdtempSync(join(tmpdir(), 'layer-builder-'));
  s3 = await startEmbeddedS3(join(scratch, 's3'), [BUCKET]);
  answerServer = createServer(async (req, res) => {
    const body = await readBody(req);
    answers.push({ path: req.url ?? '', contentType: req.headers['content-type'], body: JSON.parse(body) });
    res.end();
  });
  await new Promise<void>((resolve) => answerServer.listen(0, '127.0.0.1', resolve));
  answerUrl = `http://127.0.0.1:${(answerServer.address() as AddressInfo).port}/cfn/answer?X-Amz-Signature=sig`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => answerServer.close(() => resolve()));
  await s3.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** One fresh Node 24 process: Lambda's INIT of the builder, then one invocation with `event`. */
async function invoke(event: object, env: Record<string, string> = {}) {
  answers = [];
  const taskRoot = env.LAMBDA_TASK_ROOT ?? CODE;
  const child = `
    const lines = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (chunk) => (lines.push(String(chunk).trim()), true);
    const { handler } = await import(process.argv[1]);
    let outcome;
    try { outcome = await handler(JSON.parse(process.env.EVENT), { getRemainingTimeInMillis: () => 120000 }); }
    catch (error) { outcome = 'threw ' + error.name; }
    write(JSON.stringify({ outcome, logs: lines.map((l) => JSON.parse(l)) }) + '\\n', () => process.exit(0));
  `;
  return runNodeJson<{ outcome: string; logs: Record<string, unknown>[] }>({
    node,
    args: ['--input-type=module', '-e', child, BUILDER],
    env: {
      PATH: process.env.PATH ?? '',
      ...s3.env,
      LAYER_BUCKET: BUCKET,
      LAMBDA_TASK_ROOT: taskRoot,
      TMPDIR: mkdtempSync(join(scratch, 'tmp-')),
      EVENT: JSON.stringify(event),
      ...env,
    },
  });
}

const create = (over: Record<string, unknown> = {}) => ({
  RequestType: 'Create',
  ResponseURL: answerUrl,
  StackId: 'arn:aws:cloudformation:ap-southeast-2:123456789012:stack/ElevenLabsWebhook/1',
  RequestId: 'req-1',
  LogicalResourceId: 'CompileCacheBuild',
  ResourceProperties: { CodeHash: HASH },
  ...over,
});

async function getArchive(key: string): Promise<Buffer> {
  const client = new S3Client({
    endpoint: s3.endpoint,
    forcePathStyle: true,
    region: 'ap-southeast-2',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  try {
    const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return Buffer.from(await object.Body!.transformToByteArray());
  } finally {
    client.destroy();
  }
}

/** Unpacks as Lambda unpacks a layer under /opt: folders and files with the archive's modes. */
function unpack(zip: Buffer, into: string): void {
  for (const entry of readZip(zip)) {
    const path = join(into, entry.name);
    if (entry.name.endsWith('/')) mkdirSync(path, { recursive: true });
    else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, entry.data);
    }
    chmodSync(path, entry.mode & 0o777);
  }
}

describe('the layer builder on Node 24 (SPEC §14)', () => {
  it("fills the receiver's compile cache, writes it as a layer archive and answers SUCCESS; Node accepts the unpacked cache", async () => {
    const { outcome, logs } = await invoke(create());
    expect(outcome).toBe('built');
    expect(answers).toHaveLength(1);
    const [answer] = answers;
    // S3 signs no Content-Type into a pre-signed PUT: none may be sent.
    expect(answer!.contentType).toBeUndefined();
    expect(answer!.path).toBe('/cfn/answer?X-Amz-Signature=sig');
    const key = `deploy/compile-cache/${HASH}.zip`;
    expect(answer!.body).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: key,
      RequestId: 'req-1',
      Data: { Bucket: BUCKET, Key: key },
    });
    const folder = (answer!.body.Data as { Folder: string }).Folder;
    expect(folder).toMatch(/^v24\.\d+\.\d+-x64-[0-9a-f]+-\d+$/);
    const chunks = readdirSync(join(CODE, 'chunks')).filter((f) => f.endsWith('.mjs'));
    expect(logs).toEqual([expect.objectContaining({ level: 'info', outcome: 'built', folder, modules: chunks.length, failedModules: 0 })]);

    const entries = readZip(await getArchive(key));
    const files = entries.filter((e) => !e.name.endsWith('/'));
    expect(files.length).toBeGreaterThanOrEqual(chunks.length);
    for (const file of files) {
      expect(file.name.startsWith(`${COMPILE_CACHE_LAYER_FOLDER}/${folder}/`)).toBe(true);
      expect(file.mode).toBe(0o100644);
    }

    // A fresh Node 24 with NODE_COMPILE_CACHE at the unpacked layer, as the receiver runs.
    const opt = mkdtempSync(join(scratch, 'opt-'));
    unpack(await getArchive(key), opt);
    const importAll = `for (const f of ${JSON.stringify(chunks)}) await import(${JSON.stringify(pathToFileURL(join(CODE, 'chunks')).href)} + '/' + f);`;
    const run = spawnSync(node, ['--input-type=module', '-e', importAll], {
      env: { PATH: process.env.PATH ?? '', NODE_COMPILE_CACHE: join(opt, COMPILE_CACHE_LAYER_FOLDER), NODE_DEBUG_NATIVE: 'COMPILE_CACHE' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(0);
    const accepted = run.stderr.split('\n').filter((line) => /V8 code cache for ESM .*chunks\/.* was accepted/.test(line));
    expect(accepted).toHaveLength(chunks.length);
  });

  it('makes an empty layer, and still answers SUCCESS, when there is no code to fill the cache from', async () => {
    const empty = mkdtempSync(join(scratch, 'task-'));
    const { outcome, logs } = await invoke(create({ ResourceProperties: { CodeHash: HASH.replace('ab', 'cd') } }), {
      LAMBDA_TASK_ROOT: empty,
    });
    expect(outcome).toBe('empty');
    expect(answers[0]!.body).toMatchObject({ Status: 'SUCCESS', Data: { Folder: '' } });
    expect(logs[0]).toMatchObject({ level: 'warn', reason: expect.stringContaining('no compile cache') });
    const entries = readZip(await getArchive(`deploy/compile-cache/${HASH.replace('ab', 'cd')}.zip`));
    expect(entries.map((e) => e.name)).toEqual(['compile-cache/']);
  });

  it('answers FAILED when the archive cannot be written (S3 down), so the deploy stops rather than making a layer from nothing', async () => {
    const { outcome } = await invoke(create(), { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1' });
    expect(outcome).toBe('failed');
    expect(answers[0]!.body).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('could not be written') });
  });
});

describe("the answer to CloudFormation's URL", () => {
  it('is bounded: an answer URL that accepts and never answers fails within the timeout', async () => {
    const hole = await startBlackHole();
    try {
      const send = createAnswerSender(300);
      const request = { StackId: 's', RequestId: 'r', LogicalResourceId: 'l' };
      await expect(send(`${hole.endpoint}/answer`, { Status: 'SUCCESS', PhysicalResourceId: 'p', ...request })).rejects.toThrow();
      expect(hole.connections()).toBe(1);
    } finally {
      await hole.close();
    }
  });

  it('treats a refusal (S3 answers 403 to an expired URL) as not delivered', async () => {
    const server = createServer((_req, res) => {
      res.statusCode = 403;
      res.end('<Error><Code>AccessDenied</Code></Error>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const send = createAnswerSender(2_000);
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/answer`;
      await expect(
        send(url, { Status: 'SUCCESS', PhysicalResourceId: 'p', StackId: 's', RequestId: 'r', LogicalResourceId: 'l' }),
      ).rejects.toThrow(/HTTP 403/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
