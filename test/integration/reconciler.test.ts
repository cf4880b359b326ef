/**
 * The reconciler of contract §12, wired as on AWS, against the ElevenLabs API stand-in, s3rver
 * (the archive and its first-run marker) and the SQS stand-in (the audio-check queue); then the
 * audio worker draining what it sent, so a call whose webhook never arrived reaches the CRM.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAudioWorker } from '../../lambda/create-audio-worker';
import { createReconciler, ReconcileFailedError } from '../../lambda/create-reconciler';
import { realCall } from '../../support/fixtures/real-calls';
import { startBlackHole } from '../../support/stand-ins/black-hole';
import { type ElevenLabsApiStandIn, startElevenLabsApi } from '../../support/stand-ins/elevenlabs-api';
import { BUCKET, type LocalAws, startLocalAws } from '../helpers/local-aws';

const AGENT = 'agent_7f3c21d0e9b84a5c';
const HOUR = 3600;
let local: LocalAws;
let api: ElevenLabsApiStandIn;
let s3: S3Client;
let logs: Record<string, unknown>[] = [];
const nowSecs = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  [local, api] = await Promise.all([startLocalAws(), startElevenLabsApi()]);
  s3 = new S3Client({ endpoint: local.s3.endpoint, forcePathStyle: true });
});
afterAll(async () => {
  s3.destroy();
  await api.close();
  await local.close();
});
beforeEach(() => {
  logs = [];
  api.listPlan(undefined);
  api.failListWith(undefined);
  api.conversations.length = 0;
});

const env = (extra: Record<string, string> = {}) => ({
  AWS_ENDPOINT_URL_S3: local.s3.endpoint,
  AUDIO_BUCKET: BUCKET,
  ARCHIVE_EVENTS: 'true',
  AUDIO_CHECK_QUEUE_URL: local.aws.queueUrl('reconcile-checks'),
  ELEVENLABS_API_KEY: api.apiKey,
  ELEVENLABS_API_BASE_URL: api.baseUrl,
  ...extra,
});
const reconciler = (extra: Record<string, string> = {}) => createReconciler(env(extra), { write: (line) => logs.push(JSON.parse(line)) });
const context = (ms = 60_000) => {
  const started = Date.now();
  return { getRemainingTimeInMillis: () => ms - (Date.now() - started) };
};

async function put(key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: 'application/json' }));
}
const setFirstRun = (unixSecs: number) => put('reconciler/first-run.json', JSON.stringify({ firstRunUnixSecs: unixSecs }));
const listed = (id: string, startedAgo: number) => ({ conversation_id: id, agent_id: AGENT, start_time_unix_secs: nowSecs() - startedAgo });
const sentChecks = () => local.aws.messages('reconcile-checks').map((b) => JSON.parse(b) as { conversationId: string });

describe('the first run', () => {
  it('writes its marker and lists nothing: a new deployment does not resend the calls before it', async () => {
    api.conversations.push(listed('conv_before_deploy', 2 * HOUR));
    const requests = api.requests.length;
    expect(await reconciler()({}, context())).toMatchObject({ kind: 'nothing_to_list' });
    const marker = await local.getObject('reconciler/first-run.json');
    expect(Math.abs(JSON.parse(marker!.body.toString()).firstRunUnixSecs - nowSecs())).toBeLessThanOrEqual(2);
    expect(api.requests.length).toBe(requests);
    expect(logs.at(-1)).toMatchObject({
      message: 'reconcile run',
      outcome: 'nothing_to_list',
      ConversationsListed: 0,
      CallChecksScheduled: 0,
    });
    // The next run keeps the first run's time.
    await reconciler()({}, context());
    expect(JSON.parse((await local.getObject('reconciler/first-run.json'))!.body.toString())).toEqual(JSON.parse(marker!.body.toString()));
  });
});

describe('a run', () => {
  it('sends one call check per conversation of its window whose record is missing, and the worker then delivers it', async () => {
    await setFirstRun(nowSecs() - 30 * 24 * HOUR);
    await put(`calls/${AGENT}/conv_rc_kept/post_call_transcription.json`, '{}');
    api.conversations.push(
      listed('conv_rc_missed', 2 * HOUR),
      listed('conv_rc_kept', 3 * HOUR),
      listed('conv_rc_too_recent', 10 * 60),
      listed('conv_rc_too_old', 50 * HOUR),
    );
    for (let i = 0; i < 150; i++) api.conversations.push(listed(`conv_rc_bulk_${i}`, 4 * HOUR));
    for (let i = 0; i < 150; i++) await put(`calls/${AGENT}/conv_rc_bulk_${i}/call_initiation_failure.json`, '{}');
    api.capPageSize(40);
    try {
      const result = await reconciler()({}, context());
      expect(result).toMatchObject({ kind: 'done', counts: { listed: 152, scheduled: 1, present: 151, failed: 0 } });
    } finally {
      api.capPageSize(undefined);
    }
    expect(sentChecks()).toEqual([{ conversationId: 'conv_rc_missed', agentId: AGENT, eventTimestamp: expect.any(Number) }]);
    expect(local.aws.delays.filter((d) => d.queue === 'reconcile-checks')).toEqual([]);
    expect(logs.at(-1)).toMatchObject({ outcome: 'done', ConversationsListed: 152, CallChecksScheduled: 1 });
    // The window: 48 hours back to 30 minutes ago.
    const query = api.requests.filter((r) => r.path === '/v1/convai/conversations').at(-1)!.query;
    expect(nowSecs() - Number(query.call_start_after_unix)).toBeGreaterThanOrEqual(48 * HOUR - 5);
    expect(nowSecs() - Number(query.call_start_before_unix)).toBeGreaterThanOrEqual(30 * 60 - 5);

    // The audio worker takes the check and recovers the record.
    const model = realCall({ conversationId: 'conv_rc_missed' }).data;
    api.models.set('conv_rc_missed', model);
    const before = local.crm.accepted.length;
    const worker = createAudioWorker(
      { ...env(), CRM_WEBHOOK_URL: local.crm.url, CRM_RETRY_QUEUE_URL: local.retryQueueUrl },
      { write: () => undefined },
    );
    const body = local.aws.messages('reconcile-checks')[0]!;
    const event = {
      Records: [{ messageId: 'r1', receiptHandle: 'rh', body, attributes: { ApproximateReceiveCount: '1' } }],
    } as unknown as SQSEvent;
    expect(await worker(event, context())).toEqual({ batchItemFailures: [] });
    expect(local.crm.accepted.slice(before)).toHaveLength(1);
  });

  it('with no API key (the secret still holds the placeholder) it is off: success, nothing listed', async () => {
    const requests = api.requests.length;
    expect(await reconciler({ ELEVENLABS_API_KEY: '' })({}, context())).toEqual({ kind: 'off' });
    expect(api.requests.length).toBe(requests);
    expect(logs.at(-1)).toMatchObject({ outcome: 'off', reason: 'no ElevenLabs API key: reconciling is off' });
    expect(logs.at(-1)!.ReconcileFailed).toBeUndefined();
  });
});

describe('a run that cannot finish fails loudly: ReconcileFailed and a failed invocation', () => {
  beforeEach(() => setFirstRun(nowSecs() - 30 * 24 * HOUR));

  it.each<[string, Parameters<ElevenLabsApiStandIn['listPlan']>[0], RegExp]>([
    ['has_more without a next_cursor', () => ({ kind: 'json', body: { conversations: [], has_more: true } }), /gave no cursor/],
    [
      'the same cursor again',
      () => ({ kind: 'json', body: { conversations: [], has_more: true, next_cursor: 'again' } }),
      /cursor it gave before/,
    ],
    ['the API key rejected', () => ({ kind: 'raw', status: 401, body: '{"detail":"invalid_api_key"}' }), /HTTP 401/],
    ['the API down', () => ({ kind: 'raw', status: 503, body: '' }), /HTTP 503/],
    ['not JSON', () => ({ kind: 'raw', status: 200, body: '<html>' }), /not JSON/],
    ['wrong types', () => ({ kind: 'json', body: { conversations: [{ conversation_id: 1 }], has_more: false } }), /wrong shape/],
    ['a body that never ends', () => ({ kind: 'endless' }), /larger than/],
  ])('%s', async (_name, plan, reason) => {
    api.listPlan(plan);
    await expect(reconciler()({}, context())).rejects.toThrow(ReconcileFailedError);
    expect(logs.at(-1)).toMatchObject({ level: 'error', outcome: 'failed', reason: expect.stringMatching(reason), ReconcileFailed: 1 });
  });

  it('an id that cannot name an archive key: the rest is checked, the run fails', async () => {
    api.conversations.push(listed('conv_rc_fine', HOUR), { ...listed('x', HOUR), conversation_id: 'conv\u001b[2J/../evil' });
    await put(`calls/${AGENT}/conv_rc_fine/post_call_transcription.json`, '{}');
    await expect(reconciler()({}, context())).rejects.toThrow('1 conversation(s) could not be checked');
    expect(logs.at(-1)).toMatchObject({ listed: 2, present: 1, failed: 1, ReconcileFailed: 1 });
  });

  it('the API accepts the list request and never answers: fails before its deadline', async () => {
    api.listPlan(() => ({ kind: 'hang' }));
    await expect(reconciler()({}, context(4_000))).rejects.toThrow(/Abort|Timeout/);
  });

  it('SQS accepts the call check and never answers: that conversation fails, the run fails before its deadline', async () => {
    const hole = await startBlackHole();
    try {
      api.conversations.push(listed('conv_rc_sqs_hang', HOUR));
      const handler = reconciler({ AUDIO_CHECK_QUEUE_URL: `${hole.endpoint}/123456789012/reconcile-checks` });
      await expect(handler({}, context(30_000))).rejects.toThrow('1 conversation(s) could not be checked');
      expect(hole.connections()).toBeGreaterThanOrEqual(1);
      expect(logs.at(-1)).toMatchObject({ listed: 1, scheduled: 0, failed: 1, ReconcileFailed: 1 });
    } finally {
      await hole.close();
    }
  });

  it('a first-run marker that is not ours fails the run and says how to fix it', async () => {
    await put('reconciler/first-run.json', 'garbage');
    await expect(reconciler()({}, context())).rejects.toThrow(
      'reconciler/first-run.json is not {"firstRunUnixSecs": <unix seconds>}; fix or delete it',
    );
  });

  it.each([
    [
      'ARCHIVE_EVENTS off',
      { ARCHIVE_EVENTS: 'false' },
      /ARCHIVE_EVENTS must be true: the reconciler finds missing records in the event archive/,
    ],
    ['a lookback over 30 days', { RECONCILE_LOOKBACK_HOURS: '9000' }, /RECONCILE_LOOKBACK_HOURS must be at most 720/],
    ['a settle time under 5 minutes', { RECONCILE_SETTLE_MINUTES: '1' }, /RECONCILE_SETTLE_MINUTES must be at least 5/],
    [
      'a settle time as long as the lookback',
      { RECONCILE_LOOKBACK_HOURS: '1', RECONCILE_SETTLE_MINUTES: '60' },
      /RECONCILE_SETTLE_MINUTES must be less than RECONCILE_LOOKBACK_HOURS in minutes \(60\), or every window is empty/,
    ],
    ['no queue', { AUDIO_CHECK_QUEUE_URL: '' }, /AUDIO_CHECK_QUEUE_URL is required/],
  ])('invalid configuration (%s): every run fails, naming the variable', async (_name, extra, message) => {
    const handler = createReconciler({ ...env(), ...extra }, { write: (l) => logs.push(JSON.parse(l)) });
    await expect(handler({}, context())).rejects.toThrow(message);
    expect(logs[0]).toMatchObject({ level: 'error', message: 'invalid configuration' });
    expect(logs.at(-1)).toMatchObject({ ReconcileFailed: 1 });
  });
});
