/**
 * Fault injection ("never lose an event", contract §11). Each scenario breaks one dependency on
 * 127.0.0.1 — the CRM, S3 (through a fault proxy in front of s3rver), SQS, Secrets Manager —
 * and then checks the invariant: every 200 has its CRM payload in the CRM or in the retry
 * queue exactly as built, every audio 200 has its object in S3, and a 5xx appears only where
 * contract §2 allows one (the event could not be made durable).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CrmPayload, toCrmPayload } from '../../lambda/core/crm-payload';
import { type FailureEvent, parseEvent, type TranscriptionEvent } from '../../lambda/core/events';
import { formatSignatureHeader } from '../../lambda/core/verify-signature';
import { createReceiver, type ReceiverHandler } from '../../lambda/create-receiver';
import { createRetryWorker } from '../../lambda/create-retry-worker';
import { apiGatewayEvent } from '../../support/api-gateway-event';
import { type SampleKind, sampleEvent } from '../../support/fixtures/samples';
import { type DynamoStandIn, startDynamo } from '../../support/stand-ins/dynamo';
import { type FaultProxy, startFaultProxy } from '../../support/stand-ins/fault-proxy';
import { type LocalAws, SECRET_ARN, startLocalAws } from '../helpers/local-aws';

const SECRET = 'wsec_faults';
const MAPPING = { defaultSubject: 'Conversational AI call', subjectsByAgent: {} };
let local: LocalAws;
let s3Proxy: FaultProxy;
let dynamo: DynamoStandIn;
let logs: Record<string, unknown>[] = [];

beforeAll(async () => {
  local = await startLocalAws();
  s3Proxy = await startFaultProxy(local.s3.endpoint);
  dynamo = await startDynamo();
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  await dynamo.createTable('faults-idempotency');
});
afterAll(async () => {
  await s3Proxy.close();
  await dynamo.close();
  await local.close();
});
beforeEach(() => {
  local.crm.respond({ status: 200 });
  local.aws.failWith(undefined);
  local.aws.secrets.set(SECRET_ARN, SECRET);
  s3Proxy.plan(() => 'pass');
  process.env.AWS_ENDPOINT_URL_S3 = s3Proxy.endpoint;
  logs = [];
});

function receiver(env: Record<string, string> = {}): ReceiverHandler {
  return createReceiver(
    { ...local.env, AWS_ENDPOINT_URL_S3: s3Proxy.endpoint, CRM_TIMEOUT_MS: '400', CRM_MAX_ATTEMPTS: '3', ...env },
    { write: (line) => logs.push(JSON.parse(line)), crm: { backoffBaseMs: 5 } },
  );
}

interface Delivery {
  event: Record<string, any>;
  result: APIGatewayProxyResult;
  body: Record<string, any>;
}

async function deliver(
  handler: ReceiverHandler,
  kind: SampleKind,
  options: Parameters<typeof sampleEvent>[1] = {},
  remainingMs?: number,
): Promise<Delivery> {
  const event = sampleEvent(kind, { audioSeconds: 0.5, ...options });
  const raw = JSON.stringify(event);
  const started = Date.now();
  const context = remainingMs === undefined ? undefined : { getRemainingTimeInMillis: () => remainingMs - (Date.now() - started) };
  const result = await handler(
    apiGatewayEvent(raw, { 'elevenlabs-signature': formatSignatureHeader(SECRET, Math.floor(Date.now() / 1000), raw) }),
    context,
  );
  return { event, result, body: JSON.parse(result.body) };
}

const expectedPayload = (event: object): CrmPayload =>
  toCrmPayload(parseEvent(structuredClone(event)) as TranscriptionEvent | FailureEvent, MAPPING);
const queuedMessages = () => local.aws.messages('crm-retry').map((m) => JSON.parse(m));

/** The invariant, for every delivery of a scenario. `allowed5xx` lists the error bodies contract §2 permits here. */
async function assertNothingLost(deliveries: Delivery[], allowed5xx: string[] = []): Promise<void> {
  for (const { event, result, body } of deliveries) {
    if (result.statusCode >= 500) {
      expect(allowed5xx, `unexpected 5xx: ${result.body}`).toContain(body.error);
      continue;
    }
    expect(result.statusCode).toBe(200);
    if (event.type === 'post_call_audio') {
      const stored = await local.getObject(body.audioKey);
      expect(stored?.body.toString('base64')).toBe(event.data.full_audio);
      continue;
    }
    const payload = expectedPayload(event);
    if (body.forwarded) expect(local.crm.accepted).toContainEqual(payload);
    else {
      expect(body.queued).toBe(true);
      expect(queuedMessages()).toContainEqual(
        expect.objectContaining({ crmPayload: payload, conversationId: event.data.conversation_id, eventType: event.type }),
      );
    }
  }
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/crm`;
}

describe('CRM faults', () => {
  it('refuses connections → every event queued (200), nothing lost', async () => {
    const handler = receiver({ CRM_WEBHOOK_URL: await closedPortUrl() });
    const deliveries = [await deliver(handler, 'transcription'), await deliver(handler, 'failure')];
    expect(deliveries.map((d) => d.body.queued)).toEqual([true, true]);
    const message = queuedMessages().find((m) => m.conversationId === deliveries[0]!.event.data.conversation_id);
    expect(message).toMatchObject({ attempts: 3, lastError: expect.stringContaining('ECONNREFUSED') });
    await assertNothingLost(deliveries);
  });

  it('resets the connection before answering, then recovers → retried and forwarded', async () => {
    local.crm.respond((i) => (i % 2 === 0 ? { reset: true } : { status: 200 }));
    const handler = receiver();
    const delivery = await deliver(handler, 'transcription');
    expect(delivery.body).toMatchObject({ forwarded: true });
    expect(logs.at(-1)).toMatchObject({ crmAttempts: 2, CrmForwardRetried: 1 });
    await assertNothingLost([delivery]);
  });

  it('resets mid-response after a 503 status line → retried', async () => {
    local.crm.respond((i) => (i === 0 ? { resetAfterHeaders: 503 } : { status: 200 }));
    const delivery = await deliver(receiver(), 'failure');
    expect(delivery.body).toMatchObject({ forwarded: true });
    await assertNothingLost([delivery]);
  });

  it('resets every time → queued', async () => {
    local.crm.respond({ reset: true });
    const delivery = await deliver(receiver(), 'transcription');
    expect(delivery.body).toMatchObject({ queued: true });
    await assertNothingLost([delivery]);
  });

  it('hangs past the per-attempt timeout → queued with a timeout error', async () => {
    local.crm.respond({ hang: true });
    const delivery = await deliver(receiver({ CRM_TIMEOUT_MS: '150', CRM_MAX_ATTEMPTS: '2' }), 'transcription');
    expect(delivery.body).toMatchObject({ queued: true });
    expect(queuedMessages().at(-1)).toMatchObject({ attempts: 2, lastError: 'timeout after 150 ms' });
    await assertNothingLost([delivery]);
  });

  it('is slow but within the timeout → forwarded on the first attempt', async () => {
    local.crm.respond({ status: 200, delayMs: 150 });
    const delivery = await deliver(receiver({ CRM_TIMEOUT_MS: '2000' }), 'transcription');
    expect(delivery.body).toMatchObject({ forwarded: true });
    expect(logs.at(-1)).toMatchObject({ crmAttempts: 1 });
    await assertNothingLost([delivery]);
  });

  it('answers 429 with a short Retry-After → waits, retries, forwarded', async () => {
    local.crm.respond((i) => (i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
    const delivery = await deliver(receiver(), 'transcription');
    expect(delivery.body).toMatchObject({ forwarded: true });
    expect(logs.at(-1)).toMatchObject({ crmAttempts: 2 });
    await assertNothingLost([delivery]);
  });

  it('answers 429 with a Retry-After beyond the 12 s budget → queued at once, no pointless wait', async () => {
    local.crm.respond({ status: 429, headers: { 'retry-after': '120' } });
    const delivery = await deliver(receiver(), 'transcription');
    expect(delivery.body).toMatchObject({ queued: true });
    expect(logs.at(-1)).toMatchObject({ crmAttempts: 1 });
    await assertNothingLost([delivery]);
  });

  it('answers a storm of 5xx → each event retried CRM_MAX_ATTEMPTS times, then queued', async () => {
    local.crm.respond((i) => ({ status: [500, 502, 503, 504][i % 4]! }));
    const handler = receiver();
    const deliveries = await Promise.all(Array.from({ length: 10 }, (_, i) => deliver(handler, i % 2 ? 'failure' : 'transcription')));
    expect(deliveries.every((d) => d.body.queued === true)).toBe(true);
    expect(logs.every((l) => l.crmAttempts === 3)).toBe(true);
    await assertNothingLost(deliveries);
  });

  it('answers a permanent 4xx → one attempt, queued (the worker then dead-letters it)', async () => {
    local.crm.respond({ status: 403 });
    const delivery = await deliver(receiver(), 'failure');
    expect(delivery.body).toMatchObject({ queued: true });
    expect(queuedMessages().at(-1)).toMatchObject({ attempts: 1, lastError: 'HTTP 403' });
    await assertNothingLost([delivery]);
  });

  it('accepts the payload but answers after our timeout → queued as well: the one duplicate window (at-least-once)', async () => {
    local.crm.respond({ status: 200, delayMs: 400 });
    const before = local.crm.received.length;
    const acceptedBefore = local.crm.accepted.length;
    const delivery = await deliver(receiver({ CRM_TIMEOUT_MS: '100', CRM_MAX_ATTEMPTS: '1' }), 'transcription');
    expect(delivery.body).toMatchObject({ queued: true });
    // Once the late 200 has gone out, the CRM holds the call once and the queue holds it too.
    await local.crm.settled();
    expect(local.crm.received.length - before).toBe(1);
    expect(local.crm.accepted.length - acceptedBefore).toBe(1);
    await assertNothingLost([delivery]);
  });
});

describe('S3 faults', () => {
  it('answers 5xx, then recovers within the SDK retries → stored, 200', async () => {
    s3Proxy.plan((i) => (i < 2 ? { status: 503 } : 'pass'));
    const delivery = await deliver(receiver(), 'audio');
    expect(delivery.result.statusCode).toBe(200);
    expect(s3Proxy.count()).toBe(3);
    await assertNothingLost([delivery]);
  });

  it('drops connections, then recovers → stored, 200', async () => {
    s3Proxy.plan((i) => (i < 1 ? 'reset' : 'pass'));
    const delivery = await deliver(receiver(), 'audio');
    expect(delivery.result.statusCode).toBe(200);
    await assertNothingLost([delivery]);
  });

  it('stays down → 500 (so ElevenLabs would retry) and no object', async () => {
    s3Proxy.plan(() => ({ status: 500 }));
    const delivery = await deliver(receiver(), 'audio', { conversationId: 'conv_s3_down', agentId: 'agent_s3' });
    expect(delivery.result.statusCode).toBe(500);
    expect(logs.at(-1)).toMatchObject({ outcome: 'audio_store_failed', AudioStoreFailed: 1 });
    s3Proxy.plan(() => 'pass');
    expect(await local.getObject('audio/agent_s3/conv_s3_down.mp3')).toBeUndefined();
    await assertNothingLost([delivery], ['audio could not be stored']);
  });
});

describe('SQS and Secrets Manager faults', () => {
  it('SQS down while the CRM is down → 500, the only CRM case worth a retry', async () => {
    local.crm.respond({ status: 503 });
    local.aws.failWith(503, 'AmazonSQS.SendMessage');
    const deliveries = [await deliver(receiver(), 'transcription'), await deliver(receiver(), 'failure')];
    expect(deliveries.map((d) => d.result.statusCode)).toEqual([500, 500]);
    expect(logs.every((l) => l.CrmForwardNotDurable === 1)).toBe(true);
    await assertNothingLost(deliveries, ['event could not be forwarded or queued']);
  });

  it('SQS down while the CRM is down, with the archive on → 500 and the archive withdrawn, so the ledger does not call it delivered', async () => {
    local.crm.respond({ status: 503 });
    local.aws.failWith(503, 'AmazonSQS.SendMessage');
    const delivery = await deliver(receiver({ ARCHIVE_EVENTS: 'true' }), 'failure', {
      conversationId: 'conv_withdrawn',
      agentId: 'agent_w',
    });
    expect(delivery.result.statusCode).toBe(500);
    expect(logs.at(-1)).toMatchObject({ archive: 'withdrawn', CrmForwardNotDurable: 1 });
    expect(await local.getObject('calls/agent_w/conv_withdrawn/call_initiation_failure.json')).toBeUndefined();
    // With the CRM back, the same delivery is archived and stays.
    local.crm.respond({ status: 200 });
    local.aws.failWith(undefined);
    const again = await deliver(receiver({ ARCHIVE_EVENTS: 'true' }), 'failure', { conversationId: 'conv_withdrawn', agentId: 'agent_w' });
    expect(again.result.statusCode).toBe(200);
    expect(await local.getObject('calls/agent_w/conv_withdrawn/call_initiation_failure.json')).toBeDefined();
  });

  it('SQS down while the CRM is up → forwarded; the queue is not needed', async () => {
    local.aws.failWith(503, 'AmazonSQS.SendMessage');
    const delivery = await deliver(receiver(), 'transcription');
    expect(delivery.body).toMatchObject({ forwarded: true });
    await assertNothingLost([delivery]);
  });

  it('Secrets Manager down at cold start → 500 and nothing done; back up → the same container recovers', async () => {
    local.aws.failWith(500, 'secretsmanager.GetSecretValue');
    const handler = receiver();
    const before = local.crm.received.length;
    const down = await deliver(handler, 'transcription');
    expect(down.result.statusCode).toBe(500);
    expect(local.crm.received.length).toBe(before);
    local.aws.failWith(undefined);
    const up = await deliver(handler, 'transcription');
    expect(up.body).toMatchObject({ forwarded: true });
    await assertNothingLost([down, up], ['webhook secret unavailable']);
  });

  it('Secrets Manager down after the cache expired → the last verified secret keeps working', async () => {
    let clock = Date.now();
    const handler = createReceiver({ ...local.env, SECRET_CACHE_SECONDS: '1' }, { write: () => undefined, deps: { now: () => clock } });
    expect((await deliver(handler, 'transcription')).body).toMatchObject({ forwarded: true });
    local.aws.failWith(500, 'secretsmanager.GetSecretValue');
    clock += 5_000;
    const delivery = await deliver(handler, 'failure', { nowMs: clock });
    expect(delivery.body).toMatchObject({ forwarded: true });
  });
});

describe('Lambda deadlines: a slow dependency ends in a logged answer, not a timeout', () => {
  // Without the deadline each of these would wait on the hung dependency until the test
  // timed out; with it, the handler answers with a logged outcome. (No wall-clock assertion:
  // the outcome itself shows the deadline fired.)

  it('S3 hangs → 500 with AudioStoreFailed before the Lambda timeout', async () => {
    s3Proxy.plan(() => 'hang');
    const delivery = await deliver(receiver(), 'audio', {}, 3_000);
    expect(delivery.result.statusCode).toBe(500);
    expect(logs.at(-1)).toMatchObject({ outcome: 'audio_store_failed', AudioStoreFailed: 1 });
    await assertNothingLost([delivery], ['audio could not be stored']);
  });

  it('the CRM hangs → its retries stop early enough to queue the payload in time', async () => {
    local.crm.respond({ hang: true });
    const delivery = await deliver(receiver({ CRM_TIMEOUT_MS: '5000' }), 'transcription', {}, 8_000);
    expect(delivery.body).toMatchObject({ queued: true });
    await assertNothingLost([delivery]);
  });

  it('the retry worker answers its batch before its own timeout when the CRM hangs', async () => {
    local.crm.respond({ hang: true });
    const worker = createRetryWorker({ CRM_WEBHOOK_URL: local.crm.url, CRM_TIMEOUT_MS: '5000' }, { write: () => undefined });
    const body = JSON.stringify({
      crmPayload: expectedPayload(sampleEvent('transcription')),
      eventType: 'post_call_transcription',
      conversationId: 'c',
      attempts: 3,
      lastError: 'x',
      firstAttemptAt: new Date().toISOString(),
    });
    const started = Date.now();
    const result = await worker({ Records: [{ messageId: 'slow', body, attributes: { ApproximateReceiveCount: '1' } }] } as never, {
      getRemainingTimeInMillis: () => 6_000 - (Date.now() - started),
    });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'slow' }] });
  });
});

describe('concurrent duplicate deliveries', () => {
  it('forward once; every other copy is deduplicated (200) or told it is in flight (429, retried by ElevenLabs)', async () => {
    local.crm.respond({ status: 200, delayMs: 30 });
    const handler = receiver({ IDEMPOTENCY_TABLE: 'faults-idempotency' });
    const event = sampleEvent('transcription', { conversationId: 'conv_concurrent' });
    event.data.conversation_initiation_client_data.dynamic_variables.subject = 'Concurrent duplicate test';
    const raw = JSON.stringify(event);
    const signed = () =>
      apiGatewayEvent(raw, { 'elevenlabs-signature': formatSignatureHeader(SECRET, Math.floor(Date.now() / 1000), raw) });
    const before = local.crm.received.length;
    const results = await Promise.all(Array.from({ length: 10 }, () => handler(signed())));
    const late = await handler(signed());
    expect(local.crm.received.length - before).toBe(1);
    expect(results.every((r) => r.statusCode === 200 || r.statusCode === 429)).toBe(true);
    expect(JSON.parse(late.body)).toMatchObject({ deduplicated: true });
    expect(local.crm.accepted.filter((p) => JSON.stringify(p) === JSON.stringify(expectedPayload(event)))).toHaveLength(1);
  });

  it('audio re-delivered concurrently → one object, same key for every 200', async () => {
    const handler = receiver({ IDEMPOTENCY_TABLE: 'faults-idempotency' });
    const event = sampleEvent('audio', { conversationId: 'conv_concurrent_audio', agentId: 'agent_c', audioSeconds: 0.5 });
    const raw = JSON.stringify(event);
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        handler(apiGatewayEvent(raw, { 'elevenlabs-signature': formatSignatureHeader(SECRET, Math.floor(Date.now() / 1000), raw) })),
      ),
    );
    expect(results.every((r) => r.statusCode === 200 || r.statusCode === 429)).toBe(true);
    expect((await local.getObject('audio/agent_c/conv_concurrent_audio.mp3'))?.body.toString('base64')).toBe(event.data.full_audio);
  });
});
