/**
 * Stalled dependencies (contract §11): a server that accepts the connection and never answers, in
 * front of each dependency in turn — Secrets Manager, DynamoDB (all of it, or only the
 * completion write, through a proxy in front of dynalite), S3, SQS — with the real SDK clients.
 * Every request must still be answered by the rules, with its log line and metric, and never
 * lose an event. These tests assert outcomes, not timings: a bound that broke would hold the
 * request until the test times out. The measured answer times are figure 7 of `npm run bench`.
 */
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatSignatureHeader } from '../../lambda/core/verify-signature';
import { createReceiver, initReceiver } from '../../lambda/create-receiver';
import { createRetryWorker } from '../../lambda/create-retry-worker';
import { apiGatewayEvent } from '../../support/api-gateway-event';
import { type SampleKind, sampleEvent } from '../../support/fixtures/samples';
import { type BlackHole, startBlackHole } from '../../support/stand-ins/black-hole';
import { type DynamoStandIn, startDynamo } from '../../support/stand-ins/dynamo';
import { type FaultProxy, startFaultProxy } from '../../support/stand-ins/fault-proxy';
import { type LocalAws, SECRET_ARN, startLocalAws } from '../helpers/local-aws';

const SECRET = 'wsec_stalls';
const TABLE = 'stalls-idempotency';
let local: LocalAws;
let hole: BlackHole;
let dynamo: DynamoStandIn;
let dynamoProxy: FaultProxy;
let secretsProxy: FaultProxy;
let logs: Record<string, unknown>[] = [];

beforeAll(async () => {
  local = await startLocalAws();
  hole = await startBlackHole();
  dynamo = await startDynamo();
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  await dynamo.createTable(TABLE);
  dynamoProxy = await startFaultProxy(dynamo.endpoint);
  secretsProxy = await startFaultProxy(local.aws.endpoint);
  // The DynamoDB client is built once per container (module scope), so it always goes
  // through the proxy; each test decides what the proxy does.
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamoProxy.endpoint;
});
afterAll(async () => {
  await Promise.all([hole.close(), dynamoProxy.close(), secretsProxy.close()]);
  await dynamo.close();
  await local.close();
});
beforeEach(() => {
  logs = [];
  local.crm.respond({ status: 200 });
  local.aws.secrets.set(SECRET_ARN, SECRET);
  dynamoProxy.plan(() => 'pass');
  secretsProxy.plan(() => 'pass');
  process.env.AWS_ENDPOINT_URL_S3 = local.s3.endpoint;
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = local.aws.endpoint;
});

const write = (line: string) => void logs.push(JSON.parse(line));
const receiver = (env: Record<string, string> = {}) => createReceiver({ ...local.env, ...env }, { write, crm: { backoffBaseMs: 5 } });

function signedEvent(kind: SampleKind) {
  const event = sampleEvent(kind, { audioSeconds: 0.3 });
  const body = JSON.stringify(event);
  return {
    event,
    request: apiGatewayEvent(body, { 'elevenlabs-signature': formatSignatureHeader(SECRET, Math.floor(Date.now() / 1000), body) }),
  };
}

/** A Lambda context with `ms` left, counting down in real time. */
function lambdaContext(ms: number) {
  const started = Date.now();
  return { getRemainingTimeInMillis: () => ms - (Date.now() - started) };
}

const TIMED_OUT = /Timeout|Abort/;

describe('Secrets Manager stalls', () => {
  it('at cold start: fails closed with 500 "webhook secret unavailable", its log line and metric', async () => {
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = hole.endpoint;
    const before = hole.connections();
    const { request } = signedEvent('transcription');
    const result = await receiver()(request, lambdaContext(28_000));
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body)).toEqual({ error: 'webhook secret unavailable' });
    expect(logs.at(-1)).toMatchObject({
      level: 'error',
      outcome: 'secret_unavailable',
      SecretUnavailable: 1,
      error: expect.stringMatching(TIMED_OUT),
    });
    // Each SDK attempt was cut by its own timeout and retried once (SDK_ATTEMPTS.secret).
    expect(hole.connections() - before).toBe(2);
    expect(local.crm.received).not.toContainEqual(expect.anything());
  });

  it('at cold start through the Lambda entry: INIT starts the fetch, the first request joins it and fails closed within its bound', async () => {
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = hole.endpoint;
    const before = hole.connections();
    const handler = await initReceiver(local.env, { write });
    const { request } = signedEvent('transcription');
    const result = await handler(request, lambdaContext(28_000));
    expect(result.statusCode).toBe(500);
    expect(logs.at(-1)).toMatchObject({ outcome: 'secret_unavailable', SecretUnavailable: 1, error: expect.stringMatching(TIMED_OUT) });
    // INIT's fetch made its two attempts; the request's retry got only what was left of its own
    // bound (at most one more attempt), not a fetch of its own (another two).
    expect(hole.connections() - before).toBeGreaterThanOrEqual(2);
    expect(hole.connections() - before).toBeLessThanOrEqual(3);
  });

  it('after the cache expired: the last verified secret keeps working while the refresh hangs, then says why', async () => {
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secretsProxy.endpoint;
    const handler = receiver({ SECRET_CACHE_SECONDS: '0' });
    expect((await handler(signedEvent('transcription').request)).statusCode).toBe(200);
    secretsProxy.plan(() => 'hang');
    const started = secretsProxy.count();
    // Cache expired (0 s): answered with the verified secret; the refresh runs in the background.
    expect((await handler(signedEvent('transcription').request)).statusCode).toBe(200);
    expect(secretsProxy.count()).toBeGreaterThan(started);
    await vi.waitFor(
      async () => {
        const result = await handler(signedEvent('failure').request);
        expect(result.statusCode).toBe(200);
        expect(logs.at(-1)).toMatchObject({ outcome: 'forwarded', secretStale: expect.stringMatching(TIMED_OUT) });
      },
      { timeout: 15_000, interval: 250 },
    );
    expect(logs.every((line) => line.SecretUnavailable === undefined)).toBe(true);
  });
});

describe('DynamoDB stalls (idempotency table)', () => {
  it.each<SampleKind>(['transcription', 'failure', 'audio'])(
    'entirely: a %s is processed anyway and the table is reported unavailable',
    async (kind) => {
      dynamoProxy.plan(() => 'hang');
      const { event, request } = signedEvent(kind);
      const result = await receiver({ IDEMPOTENCY_TABLE: TABLE })(request, lambdaContext(28_000));
      expect(result.statusCode).toBe(200);
      const body = JSON.parse(result.body);
      if (kind === 'audio') expect(await local.getObject(body.audioKey)).toBeDefined();
      else expect(body).toMatchObject({ forwarded: true, conversationId: event.data.conversation_id });
      expect(logs.at(-1)).toMatchObject({ IdempotencyUnavailable: 1, idempotencyError: expect.stringMatching(TIMED_OUT) });
    },
  );

  it('only the completion write (the PutItems after the claim): still 200, delivered once, the stall logged', async () => {
    let puts = 0;
    // The claim is the request's first PutItem; every later one (the completion and its retry) hangs.
    dynamoProxy.plan((_i, req) => (String(req.headers['x-amz-target']).endsWith('.PutItem') && ++puts >= 2 ? 'hang' : 'pass'));
    const before = local.crm.accepted.length;
    const { request } = signedEvent('transcription');
    const result = await receiver({ IDEMPOTENCY_TABLE: TABLE })(request, lambdaContext(28_000));
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ forwarded: true });
    expect(local.crm.accepted.length - before).toBe(1);
    expect(logs.at(-1)).toMatchObject({
      outcome: 'forwarded',
      IdempotencyUnavailable: 1,
      idempotencyError: expect.stringMatching(TIMED_OUT),
    });
  });
});

describe('S3 stalls', () => {
  it('an audio put is abandoned at the request deadline: 500 with AudioStoreFailed, not a Lambda timeout', async () => {
    const { request } = signedEvent('audio');
    const result = await receiver({ AWS_ENDPOINT_URL_S3: hole.endpoint })(request, lambdaContext(4_000));
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body)).toEqual({ error: 'audio could not be stored' });
    expect(logs.at(-1)).toMatchObject({ outcome: 'audio_store_failed', AudioStoreFailed: 1, error: expect.stringMatching(TIMED_OUT) });
  });
});

describe('SQS stalls', () => {
  it('the CRM fails and the retry queue stalls: 500 forward_not_durable (ElevenLabs retries), with its metric', async () => {
    const crmDown = 'http://127.0.0.1:1/crm';
    const { request } = signedEvent('transcription');
    const result = await receiver({ CRM_WEBHOOK_URL: crmDown, CRM_RETRY_QUEUE_URL: `${hole.endpoint}/123456789012/crm-retry` })(
      request,
      lambdaContext(8_000),
    );
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body)).toEqual({ error: 'event could not be forwarded or queued' });
    expect(logs.at(-1)).toMatchObject({ outcome: 'forward_not_durable', CrmForwardNotDurable: 1, error: expect.stringMatching(TIMED_OUT) });
  });

  it('the retry worker: a stalled visibility change still reports the record as failed, within the deadline', async () => {
    local.crm.respond({ status: 503 });
    const message = {
      crmPayload: { type: 'conversationAICall', subject: 's', to: '+61413052898', name: 'n', summary: 'x', status: 'held', duration: 1 },
      eventType: 'post_call_transcription',
      conversationId: 'conv_stall_worker',
      attempts: 3,
      lastError: 'HTTP 503',
      firstAttemptAt: '2026-11-22T10:00:00.000Z',
    };
    const worker = createRetryWorker(
      { CRM_WEBHOOK_URL: local.crm.url, CRM_MAX_ATTEMPTS: '1', CRM_RETRY_QUEUE_URL: `${hole.endpoint}/123456789012/crm-retry` },
      { write },
    );
    const event = {
      Records: [{ messageId: 'm1', receiptHandle: 'rh-1', body: JSON.stringify(message), attributes: { ApproximateReceiveCount: '3' } }],
    };
    const result = await worker(event as unknown as SQSEvent, lambdaContext(30_000));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(logs.at(-1)).toMatchObject({ outcome: 'retry', receiveCount: 3, backoffError: expect.stringMatching(TIMED_OUT) });
  });
});
