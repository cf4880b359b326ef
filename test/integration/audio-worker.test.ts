/**
 * The audio worker (contract §10) with its real adapters: s3rver for S3 (multipart works there; a
 * proxy in front answers AbortMultipartUpload, which s3rver lacks, with S3's 204), the
 * ElevenLabs API stand-in on 127.0.0.1 streaming generated recordings, the SQS stand-in for the
 * backoff and the Secrets Manager stand-in for the API key.
 */
import { createHash } from 'node:crypto';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createS3AudioStore } from '../../lambda/adapters/audio-store';
import { prepareAudio } from '../../lambda/core/audio';
import { API_KEY_REJECTED, NO_API_KEY } from '../../lambda/core/audio-check';
import { retryDelaySeconds } from '../../lambda/core/retry-schedule';
import { createAudioWorker } from '../../lambda/create-audio-worker';
import { silentMp3, silentMp3Chunks } from '../../support/fixtures/silent-mp3';
import { type ElevenLabsApiStandIn, startElevenLabsApi } from '../../support/stand-ins/elevenlabs-api';
import { type FaultProxy, startFaultProxy } from '../../support/stand-ins/fault-proxy';
import { BUCKET, type LocalAws, startLocalAws } from '../helpers/local-aws';
import { sqsEventOf } from '../helpers/sqs-event';

const MiB = 1024 * 1024;
const API_KEY_ARN = 'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:elevenlabs-api-key';
let local: LocalAws;
let s3: FaultProxy;
let api: ElevenLabsApiStandIn;
let logs: Record<string, unknown>[] = [];
let queueUrl: string;
/** AbortMultipartUpload requests that reached S3. */
let aborts = 0;

beforeAll(async () => {
  local = await startLocalAws();
  s3 = await startFaultProxy(local.s3.endpoint);
  api = await startElevenLabsApi();
  // The worker's S3 client is built once per container: it always goes through the proxy.
  process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
  queueUrl = local.aws.queueUrl('audio-checks');
});
afterAll(async () => {
  sqs.destroy();
  await Promise.all([s3.close(), api.close()]);
  await local.close();
});
beforeEach(() => {
  logs = [];
  aborts = 0;
  s3.plan((_i, req) => {
    if (req.method === 'DELETE' && req.path.includes('uploadId=')) {
      aborts += 1;
      return { status: 204 };
    }
    return 'pass';
  });
  api.audio(() => ({ kind: 'status', status: 404 }));
});

const baseEnv = () => ({
  AWS_ENDPOINT_URL_S3: s3.endpoint,
  AUDIO_BUCKET: BUCKET,
  AUDIO_CHECK_QUEUE_URL: queueUrl,
  ELEVENLABS_API_KEY: api.apiKey,
  ELEVENLABS_API_BASE_URL: api.baseUrl,
});
const worker = (env: Record<string, string> = {}) =>
  createAudioWorker({ ...baseEnv(), ...env }, { write: (line) => logs.push(JSON.parse(line)) });

let sequence = 0;
function check(conversationId: string, agentId = 'agent_kept', receiveCount = 1, body?: string): SQSEvent {
  sequence += 1;
  const record = {
    messageId: `m${sequence}`,
    receiptHandle: `rh${sequence}`,
    body: body ?? JSON.stringify({ conversationId, agentId, eventTimestamp: 1_795_600_000 }),
    attributes: { ApproximateReceiveCount: String(receiveCount) },
  };
  return { Records: [record] } as unknown as SQSEvent;
}
const sqs = new SQSClient({ region: 'ap-southeast-2' });
/** Receives the next audio check from the SQS stand-in as Lambda's event source would hand it over. */
async function receiveFromQueue(): Promise<SQSEvent> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
  );
  expect(Messages).toHaveLength(1);
  const m = Messages[0]!;
  return sqsEventOf([m]);
}

const context = (ms = 60_000) => {
  const started = Date.now();
  return { getRemainingTimeInMillis: () => ms - (Date.now() - started) };
};

/** An object put straight into the bucket, as another tool (or a crash) would leave it. */
async function putObject(key: string, body: Buffer, metadata: Record<string, string>): Promise<void> {
  const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({ endpoint: local.s3.endpoint, forcePathStyle: true });
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: 'audio/mpeg', Metadata: metadata }));
  client.destroy();
}

/** The SHA-256 of the recording the stand-in streams for `bytes`. */
function expectedSha256(bytes: number): string {
  const hash = createHash('sha256');
  for (const chunk of silentMp3Chunks(bytes)) hash.update(chunk);
  return hash.digest('hex');
}

describe('a recording that is already in the bucket', () => {
  it('is left alone: AudioAlreadyStored, no call to ElevenLabs', async () => {
    const audio = prepareAudio({ conversation_id: 'conv_webhook', agent_id: 'agent_kept', full_audio: silentMp3(1).toString('base64') });
    await createS3AudioStore({ bucket: BUCKET, forcePathStyle: true }).put(audio, Date.now() + 10_000);
    const before = api.requests.length;
    expect(await worker()(check('conv_webhook'), context())).toEqual({ batchItemFailures: [] });
    expect(api.requests.length).toBe(before);
    expect(logs.at(-1)).toMatchObject({ outcome: 'already_stored', AudioAlreadyStored: 1, key: 'audio/agent_kept/conv_webhook.mp3' });
  });
});

describe('an object already at the key is a recording, whoever wrote it (contract §10)', () => {
  it.each([
    ['written by another tool, no metadata at all', {}],
    ['written before this project, with other metadata', { 'uploaded-by': 'legacy-archiver' }],
    ['a finished recovery of ours', { source: 'elevenlabs-api', sha256: 'a'.repeat(64) }],
  ])('%s: AudioAlreadyStored, never fetched again, never overwritten', async (_name, metadata) => {
    const id = `conv_existing_${Object.keys(metadata).length}_${_name.length}`;
    const original = Buffer.from('ID3 the recording someone else kept');
    await putObject(`audio/agent_kept/${id}.mp3`, original, metadata);
    api.audio(() => ({ kind: 'recording', bytes: 50_000 }));
    const before = api.requests.length;
    expect(await worker()(check(id), context())).toEqual({ batchItemFailures: [] });
    expect(logs.at(-1)).toMatchObject({ outcome: 'already_stored', AudioAlreadyStored: 1 });
    expect(api.requests.length).toBe(before);
    expect((await local.getObject(`audio/agent_kept/${id}.mp3`))?.body).toEqual(original);
  });
});

describe('a 200 that is not a recording stores nothing and comes back (contract §10)', () => {
  const mp3 = silentMp3(1);
  it.each<[string, { contentType?: string; body: string | Buffer }, RegExp]>([
    ['an empty body', { contentType: 'audio/mpeg', body: '' }, /an empty body/],
    ['an HTML page', { contentType: 'text/html; charset=utf-8', body: '<!doctype html><h1>Sign in</h1>' }, /Content-Type "text\/html/],
    [
      'a JSON error',
      { contentType: 'application/json', body: '{"detail":{"status":"quota_exceeded"}}' },
      /Content-Type "application\/json"/,
    ],
    [
      'bytes that are not MP3, sent as audio/mpeg',
      { contentType: 'audio/mpeg', body: '{"detail":"x"}' },
      /neither an ID3 tag nor an MPEG frame/,
    ],
    ['one byte', { contentType: 'audio/mpeg', body: Buffer.from([0xff]) }, /neither an ID3 tag nor an MPEG frame/],
    ['no Content-Type and an HTML page', { body: '<html></html>' }, /neither an ID3 tag nor an MPEG frame/],
  ])('%s', async (_name, answer, reason) => {
    const id = `conv_not_audio_${_name.replace(/\W+/g, '_')}`;
    api.audio(() => ({ kind: 'raw', status: 200, ...answer }));
    const event = check(id);
    expect(await worker()(event, context())).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] });
    expect(logs.at(-1)).toMatchObject({ level: 'warn', outcome: 'retry', reason: expect.stringMatching(reason) });
    expect(logs.at(-1)!.AudioRecovered).toBeUndefined();
    expect(await local.getObject(`audio/agent_kept/${id}.mp3`)).toBeUndefined();
    // The next check asks again: nothing was taken for the recording.
    api.audio(() => ({ kind: 'recording', bytes: 20_000 }));
    await worker()(check(id), context());
    expect(logs.at(-1)).toMatchObject({ outcome: 'recovered', bytes: 20_000 });
  });

  it.each([
    ['an ID3 tag, as application/octet-stream', 'application/octet-stream', Buffer.concat([Buffer.from('ID3'), Buffer.alloc(100)])],
    ['an MPEG frame, as audio/mpeg', 'audio/mpeg', mp3],
    ['an MPEG frame, with no Content-Type', undefined, mp3],
  ])('accepts %s', async (_name, contentType, body) => {
    const id = `conv_is_audio_${_name.length}_${contentType ?? 'none'}`.replace(/[^\w.-]/g, '_');
    api.audio(() => ({ kind: 'raw', status: 200, ...(contentType ? { contentType } : {}), body }));
    expect(await worker()(check(id), context())).toEqual({ batchItemFailures: [] });
    expect((await local.getObject(`audio/agent_kept/${id}.mp3`))?.body).toEqual(body);
  });
});

describe('a recording that is missing', () => {
  it.each([
    ['12 MiB, three multipart parts', 12 * MiB],
    ['1 MiB, one PutObject', 1 * MiB],
  ])('is streamed from the API into S3 (%s): same bytes, content type, metadata with its SHA-256', async (_name, bytes) => {
    const id = `conv_long_${bytes}`;
    api.audio((conversation) => (conversation === id ? { kind: 'recording', bytes } : { kind: 'status', status: 404 }));
    expect(await worker()(check(id), context())).toEqual({ batchItemFailures: [] });
    const sha256 = expectedSha256(bytes);
    const stored = await local.getObject(`audio/agent_kept/${id}.mp3`);
    expect(stored?.body.length).toBe(bytes);
    expect(createHash('sha256').update(stored!.body).digest('hex')).toBe(sha256);
    expect(stored?.contentType).toBe('audio/mpeg');
    expect(stored?.metadata).toEqual({ 'conversation-id': id, 'agent-id': 'agent_kept', sha256, source: 'elevenlabs-api' });
    expect(logs.at(-1)).toMatchObject({ outcome: 'recovered', bytes, AudioRecovered: 1, AudioRecoveredBytes: bytes });
    expect(api.requests.at(-1)).toMatchObject({ path: `/v1/convai/conversations/${id}/audio`, keyOk: true });
  });

  it('is fetched again when it is an unfinished recovery of our own (the upload completed, the metadata copy did not)', async () => {
    const id = 'conv_unfinished';
    api.audio(() => ({ kind: 'recording', bytes: 300_000 }));
    // What a crash between the multipart upload and the metadata copy leaves: our marker, no sha256.
    await putObject(`audio/agent_kept/${id}.mp3`, Buffer.alloc(10), {
      'conversation-id': id,
      'agent-id': 'agent_kept',
      source: 'elevenlabs-api',
      recovery: 'unfinished',
    });
    await worker()(check(id), context());
    expect(logs.at(-1)).toMatchObject({ outcome: 'recovered', bytes: 300_000 });
    const stored = await local.getObject(`audio/agent_kept/${id}.mp3`);
    expect(stored?.body.length).toBe(300_000);
    expect(stored?.metadata?.recovery).toBeUndefined();
  });

  it('404 from ElevenLabs: AudioUnavailable (recording off, deleted, zero retention), done', async () => {
    expect(await worker()(check('conv_404'), context())).toEqual({ batchItemFailures: [] });
    expect(logs.at(-1)).toMatchObject({ outcome: 'unavailable', AudioUnavailable: 1 });
    expect(await local.getObject('audio/agent_kept/conv_404.mp3')).toBeUndefined();
  });

  it.each([401, 403])('%i from ElevenLabs: AudioMissing "ElevenLabs API key rejected", done', async (status) => {
    api.audio(() => ({ kind: 'status', status }));
    expect(await worker()(check(`conv_${status}`), context())).toEqual({ batchItemFailures: [] });
    expect(logs.at(-1)).toMatchObject({
      level: 'warn',
      outcome: 'missing',
      reason: API_KEY_REJECTED,
      AudioMissing: 1,
      conversationId: `conv_${status}`,
    });
  });

  it('a wrong key is what the stand-in answers 401 to: the same outcome', async () => {
    api.audio(() => ({ kind: 'recording', bytes: 1000 }));
    await worker({ ELEVENLABS_API_KEY: 'sk_wrong' })(check('conv_wrong_key'), context());
    expect(logs.at(-1)).toMatchObject({ outcome: 'missing', reason: API_KEY_REJECTED });
  });

  it('no API key configured: a warn line naming the conversation, AudioMissing, never a call to ElevenLabs', async () => {
    const before = api.requests.length;
    expect(await worker({ ELEVENLABS_API_KEY: '' })(check('conv_no_key'), context())).toEqual({ batchItemFailures: [] });
    expect(api.requests.length).toBe(before);
    expect(logs.at(-1)).toMatchObject({
      level: 'warn',
      outcome: 'missing',
      reason: NO_API_KEY,
      conversationId: 'conv_no_key',
      AudioMissing: 1,
    });
  });

  it.each([408, 429, 500, 503])('%i from ElevenLabs: comes back through SQS, hidden for longer on each receive', async (status) => {
    api.audio(() => ({ kind: 'status', status }));
    const body = JSON.stringify({ conversationId: `conv_${status}_retry`, agentId: 'agent_kept', eventTimestamp: 1 });
    local.aws.put('audio-checks', body);
    for (const receiveCount of [1, 2]) {
      const event = await receiveFromQueue();
      expect(event.Records[0]!.attributes.ApproximateReceiveCount).toBe(String(receiveCount));
      expect(await worker()(event, context())).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] });
      expect(logs.at(-1)).toMatchObject({
        outcome: 'retry',
        reason: `ElevenLabs API answered HTTP ${status}`,
        retryInSeconds: retryDelaySeconds(receiveCount),
      });
      expect(logs.at(-1)!.AudioMissing).toBeUndefined();
      expect(local.aws.visibilityChanges.at(-1)).toMatchObject({ queue: 'audio-checks', seconds: retryDelaySeconds(receiveCount) });
      // Make it visible again at once, as if the backoff had passed.
      await sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: event.Records[0]!.receiptHandle, VisibilityTimeout: 0 }),
      );
    }
    const last = await receiveFromQueue();
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: last.Records[0]!.receiptHandle }));
  });

  it.each<[string, () => string, number]>([
    ['seconds', () => '3600', 3600],
    ['an HTTP date', () => new Date(Date.now() + 7200_000).toUTCString(), 7200],
    ['more than SQS allows: capped at 12 hours', () => '999999', 43_200],
    ['less than the backoff: the backoff wins', () => '5', retryDelaySeconds(1)],
  ])('429 with Retry-After (%s): hidden at least that long', async (_name, retryAfter, seconds) => {
    api.audio(() => ({ kind: 'status', status: 429, headers: { 'retry-after': retryAfter() } }));
    const body = JSON.stringify({ conversationId: `conv_429_${seconds}`, agentId: 'agent_kept', eventTimestamp: 1 });
    local.aws.put('audio-checks', body);
    const event = await receiveFromQueue();
    expect(await worker()(event, context())).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] });
    const hidden = local.aws.visibilityChanges.at(-1)!.seconds;
    // An HTTP date is a second or so away from now when read.
    expect(Math.abs(hidden - seconds)).toBeLessThanOrEqual(2);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: event.Records[0]!.receiptHandle }));
  });

  it('a connection dropped mid-recording: the multipart upload is aborted, no truncated object, the check comes back', async () => {
    api.audio(() => ({ kind: 'drop', afterBytes: 7 * MiB + 123, ofBytes: 12 * MiB }));
    const event = check('conv_dropped');
    expect(await worker()(event, context())).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] });
    expect(logs.at(-1)).toMatchObject({ outcome: 'retry', reason: expect.stringMatching(/^recording not stored/) });
    expect(aborts).toBe(1);
    expect(await local.getObject('audio/agent_kept/conv_dropped.mp3')).toBeUndefined();
  });

  it('S3 accepts the upload and never answers: given up at the deadline, comes back', async () => {
    api.audio(() => ({ kind: 'recording', bytes: MiB }));
    // HeadObject passes (the recording is not there); every upload request hangs.
    s3.plan((_i, req) => (req.method === 'PUT' || req.method === 'POST' ? 'hang' : 'pass'));
    const event = check('conv_s3_hang');
    expect(await worker()(event, context(8_000))).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] });
    expect(logs.at(-1)).toMatchObject({ outcome: 'retry', reason: expect.stringMatching(/^recording not stored/) });
    expect(await local.getObject('audio/agent_kept/conv_s3_hang.mp3')).toBeUndefined();
  });

  it('ElevenLabs accepts the connection and never answers: given up at the deadline, comes back', async () => {
    api.audio(() => ({ kind: 'hang' }));
    const event = check('conv_hang');
    expect(await worker()(event, context(8_000))).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] });
    expect(logs.at(-1)).toMatchObject({ outcome: 'retry', reason: expect.stringMatching(/Abort|Timeout/) });
  });
});

describe('the API key from Secrets Manager (ELEVENLABS_API_KEY_SECRET_ARN)', () => {
  it.each([
    ['JSON {"apiKey"}', () => JSON.stringify({ apiKey: api.apiKey }), 'recovered'],
    ['the key itself', () => api.apiKey, 'recovered'],
    ['the stack placeholder {"apiKey":""}: recovery off', () => '{"apiKey":""}', 'missing'],
  ])('%s', async (_name, value, outcome) => {
    local.aws.secrets.set(API_KEY_ARN, value());
    api.audio(() => ({ kind: 'recording', bytes: 2000 }));
    await worker({ ELEVENLABS_API_KEY: 'sk_ignored_when_the_arn_is_set', ELEVENLABS_API_KEY_SECRET_ARN: API_KEY_ARN })(
      check(`conv_secret_${outcome}_${value().length}`),
      context(),
    );
    expect(logs.at(-1)).toMatchObject({ outcome });
  });

  it('an unreadable secret makes the check come back, not report the recording missing', async () => {
    const event = check('conv_secret_down');
    expect(await worker({ ELEVENLABS_API_KEY_SECRET_ARN: `${API_KEY_ARN}-deleted` })(event, context())).toEqual({
      batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }],
    });
    expect(logs.at(-1)).toMatchObject({ outcome: 'retry', reason: expect.stringMatching(/^API key secret unavailable/) });
  });
});

describe('messages that are not audio checks', () => {
  it.each([
    ['not JSON', 'nope'],
    ['an id with a slash', JSON.stringify({ conversationId: '../x', agentId: 'a', eventTimestamp: 1 })],
    ['no agent id', JSON.stringify({ conversationId: 'c', eventTimestamp: 1 })],
    ['a 200-character id', JSON.stringify({ conversationId: 'c'.repeat(200), agentId: 'a', eventTimestamp: 1 })],
  ])('%s: an error line, and it goes on towards the DLQ at once (visibility 0)', async (_name, body) => {
    const event = check('x', 'a', 1, body);
    const changesBefore = local.aws.calls.filter((c) => c.target === 'AmazonSQS.ChangeMessageVisibility').length;
    expect(await worker()(event, context())).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] });
    expect(logs.at(-1)).toMatchObject({ level: 'error', outcome: 'unreadable' });
    const changes = local.aws.calls.filter((c) => c.target === 'AmazonSQS.ChangeMessageVisibility');
    expect(changes.length - changesBefore).toBe(1);
    expect(changes.at(-1)!.body).toMatchObject({ VisibilityTimeout: 0 });
  });

  it('hands every record back when its configuration is invalid', async () => {
    const handler = createAudioWorker({ AUDIO_BUCKET: '' }, { write: (line) => logs.push(JSON.parse(line)) });
    const event = check('conv_config');
    expect(await handler(event)).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] });
    expect(logs[0]).toMatchObject({ level: 'error', message: 'invalid configuration', error: expect.stringContaining('AUDIO_BUCKET') });
  });
});
