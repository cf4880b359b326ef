/**
 * Deduplication (contract §2 step 6) with the real DynamoDB client against dynalite, whose
 * conditional writes behave like DynamoDB's.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoIdempotencyStore, DEDUP_TTL_SECONDS } from '../../lambda/adapters/idempotency-store';
import type { ClaimRequest } from '../../lambda/core/ports';
import { formatSignatureHeader } from '../../lambda/core/verify-signature';
import { createReceiver } from '../../lambda/create-receiver';
import { apiGatewayEvent } from '../../support/api-gateway-event';
import { sampleEvent } from '../../support/fixtures/samples';
import { type DynamoStandIn, startDynamo } from '../../support/stand-ins/dynamo';
import { type LocalAws, startLocalAws } from '../helpers/local-aws';

const TABLE = 'idempotency';
const SECRET = 'wsec_dedup';
let dynamo: DynamoStandIn;
let local: LocalAws;

beforeAll(async () => {
  local = await startLocalAws();
  dynamo = await startDynamo();
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  await dynamo.createTable(TABLE);
});
afterAll(async () => {
  await dynamo.close();
  await local.close();
});

const now = Date.parse('2026-11-22T10:00:00Z');
/** A claim made at `at` by a request whose Lambda stops 28 s later. */
const at = (at: number, holdMs = 28_000): ClaimRequest => ({ nowMs: at, holdUntilMs: at + holdMs, deadlineMs: Date.now() + 5_000 });
const later = () => Date.now() + 5_000;

describe('the DynamoDB idempotency store', () => {
  const store = () => createDynamoIdempotencyStore(TABLE);

  it('claims a new key once; a repeat sees it in progress, then completed', async () => {
    const s = store();
    expect(await s.claim('t#a', at(now))).toBe('claimed');
    expect(await s.claim('t#a', at(now))).toBe('in_progress');
    await s.complete('t#a', now, later());
    expect(await s.claim('t#a', at(now + 1000))).toBe('completed');
  });

  it('writes the TTL attribute `expiration` in epoch seconds, 7 days out', async () => {
    const s = store();
    await s.claim('t#ttl', at(now));
    await s.complete('t#ttl', now, later());
    const item = await dynamo.client.send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: 't#ttl' } } }));
    expect(item.Item?.expiration?.N).toBe(String(now / 1000 + DEDUP_TTL_SECONDS));
    expect(item.Item?.status?.S).toBe('COMPLETED');
  });

  it('lets exactly one of many concurrent claims win', async () => {
    const s = store();
    const results = await Promise.all(Array.from({ length: 12 }, () => s.claim('t#race', at(now))));
    expect(results.filter((r) => r === 'claimed')).toHaveLength(1);
    expect(results.filter((r) => r === 'in_progress')).toHaveLength(11);
  });

  it('releases an unfinished claim so a retry can take it', async () => {
    const s = store();
    await s.claim('t#released', at(now));
    await s.release('t#released', later());
    expect(await s.claim('t#released', at(now))).toBe('claimed');
  });

  it('never releases a completed record', async () => {
    const s = store();
    await s.claim('t#done', at(now));
    await s.complete('t#done', now, later());
    await s.release('t#done', later());
    expect(await s.claim('t#done', at(now))).toBe('completed');
  });

  it("holds a claim exactly until the claiming request's own hard end, then lets a retry take it over", async () => {
    const s = store();
    await s.claim('t#dead', at(now, 28_000));
    expect(await s.claim('t#dead', at(now + 27_999))).toBe('in_progress');
    expect(await s.claim('t#dead', at(now + 28_001))).toBe('claimed');
    // ElevenLabs' retry ~30 s after a crashed first delivery therefore always takes over.
    await s.claim('t#crash', at(now, 28_000));
    expect(await s.claim('t#crash', at(now + 30_000))).toBe('claimed');
  });

  it('treats an expired record as new even before TTL deletes it', async () => {
    const s = store();
    await s.claim('t#old', at(now));
    await s.complete('t#old', now, later());
    expect(await s.claim('t#old', at(now + (DEDUP_TTL_SECONDS + 1) * 1000))).toBe('claimed');
  });

  it('a claim may name its own TTL (sms#<number>: SMS_MIN_HOURS_BETWEEN), on the claim and on completion', async () => {
    const s = store();
    const ttlSeconds = 24 * 3600;
    await s.claim('sms#+61491570156', { ...at(now), ttlSeconds });
    const expiration = async () =>
      (await dynamo.client.send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: 'sms#+61491570156' } } }))).Item?.expiration?.N;
    expect(await expiration()).toBe(String(now / 1000 + ttlSeconds));
    await s.complete('sms#+61491570156', now + 5_000, later(), ttlSeconds);
    expect(await expiration()).toBe(String((now + 5_000) / 1000 + ttlSeconds));
    expect(await s.claim('sms#+61491570156', { ...at(now + (ttlSeconds - 1) * 1000), ttlSeconds })).toBe('completed');
    expect(await s.claim('sms#+61491570156', { ...at(now + (ttlSeconds + 6) * 1000), ttlSeconds })).toBe('claimed');
  });

  it('writes a prepared completion only on commit, and nothing when abandoned', async () => {
    const s = store();
    expect(await s.claim('t#prep', at(now))).toBe('claimed');
    const prepared = s.prepareCompletion!('t#prep', now);
    // Built and held: the record is still the claim.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await s.claim('t#prep', at(now))).toBe('in_progress');
    await prepared.commit(later());
    expect(await s.claim('t#prep', at(now + 1000))).toBe('completed');

    expect(await s.claim('t#dropped', at(now))).toBe('claimed');
    const dropped = s.prepareCompletion!('t#dropped', now);
    dropped.abandon();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await s.claim('t#dropped', at(now))).toBe('in_progress');
  });

  it('fails loudly (for the pipeline to log) when the table does not exist', async () => {
    await expect(createDynamoIdempotencyStore('missing-table').claim('t#x', at(now))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('gives up at the deadline it is given', async () => {
    const past: ClaimRequest = { nowMs: now, holdUntilMs: now + 28_000, deadlineMs: Date.now() - 1 };
    await expect(store().claim('t#late', past)).rejects.toMatchObject({ name: expect.stringMatching(/Abort|Timeout/) });
  });
});

describe('the receiver with IDEMPOTENCY_TABLE', () => {
  const receiver = (env: Record<string, string> = {}) =>
    createReceiver(
      { ...local.env, WEBHOOK_SECRET_ARN: '', ELEVENLABS_WEBHOOK_SECRET: SECRET, IDEMPOTENCY_TABLE: TABLE, ...env },
      { write: () => undefined, crm: { backoffBaseMs: 5 } },
    );
  const signed = (body: string) =>
    apiGatewayEvent(body, { 'elevenlabs-signature': formatSignatureHeader(SECRET, Math.floor(Date.now() / 1000), body) });

  it('forwards a re-delivered transcription once and answers the repeat deduplicated', async () => {
    const handler = receiver();
    const body = JSON.stringify(sampleEvent('transcription', { conversationId: 'conv_dedup_1' }));
    const before = local.crm.received.length;
    expect(JSON.parse((await handler(signed(body))).body)).toMatchObject({ forwarded: true });
    const repeat = JSON.parse((await handler(signed(body))).body);
    expect(repeat).toEqual({ received: true, type: 'post_call_transcription', conversationId: 'conv_dedup_1', deduplicated: true });
    expect(local.crm.received.length - before).toBe(1);
  });

  it('forwards concurrent duplicate deliveries once', async () => {
    const handler = receiver();
    local.crm.respond({ status: 200, delayMs: 50 });
    try {
      const body = JSON.stringify(sampleEvent('failure', { conversationId: 'conv_dedup_race' }));
      const before = local.crm.received.length;
      const results = await Promise.all(Array.from({ length: 8 }, () => handler(signed(body))));
      expect(local.crm.received.length - before).toBe(1);
      const statuses = results.map((r) => r.statusCode).sort();
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
      expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
      const bodies = results.map((r) => JSON.parse(r.body));
      expect(bodies.filter((b) => b.forwarded === true)).toHaveLength(1);
      // In flight: 429 (which ElevenLabs retries, unlike 409) with Retry-After (contract §2 step 6).
      for (const result of results.filter((r) => r.statusCode === 429)) {
        expect(JSON.parse(result.body)).toEqual({ error: 'duplicate delivery in progress' });
        expect(result.headers).toMatchObject({ 'retry-after': '30' });
      }
    } finally {
      local.crm.respond({ status: 200 });
    }
  });

  it("lets ElevenLabs' retry take over a first delivery that crashed after claiming (claim written, never completed)", async () => {
    const body = JSON.stringify(sampleEvent('transcription', { conversationId: 'conv_dedup_crash' }));
    const crashedAt = Date.now();
    // The first delivery's Lambda (28 s left) claimed the event, then died before forwarding.
    await createDynamoIdempotencyStore(TABLE).claim('post_call_transcription#conv_dedup_crash', at(crashedAt, 28_000));
    const before = local.crm.received.length;
    // An immediate retry finds the claim held: 429, nothing forwarded.
    const early = await receiver()(signed(body), { getRemainingTimeInMillis: () => 28_000 });
    expect(early.statusCode).toBe(429);
    expect(local.crm.received.length - before).toBe(0);
    // ElevenLabs' next retry, ~30 s later (the receiver's clock moved on): processed once.
    const retryClock = () => Date.now() + 30_000;
    const retried = createReceiver(
      { ...local.env, WEBHOOK_SECRET_ARN: '', ELEVENLABS_WEBHOOK_SECRET: SECRET, IDEMPOTENCY_TABLE: TABLE },
      { write: () => undefined, deps: { now: retryClock } },
    );
    const signedLater = apiGatewayEvent(body, {
      'elevenlabs-signature': formatSignatureHeader(SECRET, Math.floor(retryClock() / 1000), body),
    });
    expect(JSON.parse((await retried(signedLater)).body)).toMatchObject({ forwarded: true });
    expect(local.crm.received.length - before).toBe(1);
  });

  it('does not let a failed audio delivery block its retry', async () => {
    const body = JSON.stringify(sampleEvent('audio', { conversationId: 'conv_dedup_audio', agentId: 'agent_d', audioSeconds: 0.3 }));
    const failing = receiver({ AUDIO_BUCKET: 'no-such-bucket' });
    expect((await failing(signed(body))).statusCode).toBe(500);
    const healthy = receiver();
    expect(JSON.parse((await healthy(signed(body))).body)).toMatchObject({ audioKey: 'audio/agent_d/conv_dedup_audio.mp3' });
    expect(await local.getObject('audio/agent_d/conv_dedup_audio.mp3')).toBeDefined();
  });

  it('keeps processing when the table is unreachable, and says so in the log', async () => {
    const lines: string[] = [];
    const handler = createReceiver(
      { ...local.env, WEBHOOK_SECRET_ARN: '', ELEVENLABS_WEBHOOK_SECRET: SECRET, IDEMPOTENCY_TABLE: 'missing-table' },
      { write: (line) => lines.push(line) },
    );
    const result = await handler(signed(JSON.stringify(sampleEvent('transcription'))));
    expect(JSON.parse(result.body)).toMatchObject({ forwarded: true });
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({
      IdempotencyUnavailable: 1,
      idempotencyError: expect.stringMatching(/ResourceNotFound/),
    });
  });
});
