/**
 * The contract §2 pipeline over in-memory ports: order of checks, status codes, response bodies,
 * and what reaches the CRM, the queue and the audio store.
 */
import { describe, expect, it, vi } from 'vitest';
import { handleWebhook, type WebhookRequest } from '../../lambda/core/handle-webhook';
import { requestMetrics } from '../../lambda/core/metrics';
import type { ClaimRequest } from '../../lambda/core/ports';
import { parseSourceAllowlist } from '../../lambda/core/source-ip';
import type { SmsQueueMessage } from '../../lambda/core/text-back/sms-message';
import { DEPENDENCY_LIMITS_MS, QUEUE_WRITE_RESERVE_MS, requestBudget } from '../../lambda/core/time-budget';
import { formatSignatureHeader } from '../../lambda/core/verify-signature';
import { type Json, realCall, realInitiationFailure } from '../../support/fixtures/real-calls';
import { sampleEvent } from '../../support/fixtures/samples';
import { memoryIdempotency, memoryWorld, NOW, TEST_SECRET } from '../helpers/memory-ports';

const T = Math.floor(NOW / 1000);

function signed(
  body: string,
  options: { secret?: string; t?: number; headers?: Record<string, string>; sourceIp?: string } = {},
): WebhookRequest {
  return {
    body,
    headers: { 'elevenlabs-signature': formatSignatureHeader(options.secret ?? TEST_SECRET, options.t ?? T, body), ...options.headers },
    sourceIp: options.sourceIp ?? '34.67.146.145',
  };
}

const transcription = () => JSON.stringify(sampleEvent('transcription', { conversationId: 'conv_1', agentId: 'agent_1', nowMs: NOW }));
const failure = () => JSON.stringify(sampleEvent('failure', { conversationId: 'conv_2', agentId: 'agent_1', nowMs: NOW }));
const audio = () => JSON.stringify(sampleEvent('audio', { conversationId: 'conv_3', agentId: 'agent_1', nowMs: NOW, audioSeconds: 0.3 }));

describe('authentication (contract §3)', () => {
  it.each([
    ['no signature header', { body: '{}', headers: {} }, 'missing signature'],
    ['an empty signature header', { body: '{}', headers: { 'elevenlabs-signature': ' ' } }, 'missing signature'],
    ['a malformed header', { body: '{}', headers: { 'elevenlabs-signature': 'v0=abc' } }, 'malformed signature header'],
    ['a non-numeric t', { body: '{}', headers: { 'elevenlabs-signature': 't=now,v0=abc' } }, 'malformed signature header'],
    ['a stale timestamp', signed('{}', { t: T - 1801 }), 'timestamp outside tolerance'],
    ['a timestamp from the future', signed('{}', { t: T + 1801 }), 'timestamp outside tolerance'],
    ['the wrong secret', signed('{}', { secret: 'wrong' }), 'signature mismatch'],
    ['a body changed after signing', { ...signed('{"a":1}'), body: '{"a":2}' }, 'signature mismatch'],
    ['a bearer token when none is configured', { body: '{}', headers: { authorization: 'Bearer guess' } }, 'missing signature'],
  ] as [string, WebhookRequest, string][])('%s → 401 %s, and nothing else happens', async (_name, request, reason) => {
    const world = memoryWorld();
    const result = await handleWebhook(request, world.deps);
    expect(result.statusCode).toBe(401);
    expect(result.body).toEqual({ error: reason });
    expect(result.facts.outcome).toBe('signature_rejected');
    expect(world.crmCalls).toEqual([]);
    expect(world.queued).toEqual([]);
    expect(world.stored).toEqual([]);
  });

  it('checks header shape and timestamp before loading the secret', async () => {
    const world = memoryWorld();
    await handleWebhook({ body: '{}', headers: { 'elevenlabs-signature': 'garbage' } }, world.deps);
    await handleWebhook(signed('{}', { t: T - 5000 }), world.deps);
    expect(world.secretFetches.current).toBe(0);
  });

  it('accepts any matching v0 among several', async () => {
    const world = memoryWorld();
    const body = transcription();
    const good = formatSignatureHeader(TEST_SECRET, T, body).split('v0=')[1];
    const request = { body, headers: { 'elevenlabs-signature': `t=${T},v0=${'0'.repeat(64)},v0=${good}` } };
    expect((await handleWebhook(request, world.deps)).statusCode).toBe(200);
  });

  it('accepts the previous secret during a rotation', async () => {
    const world = memoryWorld();
    world.setSecrets({ hmacSecrets: ['new-secret', TEST_SECRET] });
    expect((await handleWebhook(signed(transcription()), world.deps)).statusCode).toBe(200);
  });

  it('refetches the secret once on a mismatch, so a rotation works without a redeploy', async () => {
    const world = memoryWorld();
    world.setSecrets({ hmacSecrets: ['old-secret'] });
    world.setRefreshedSecrets({ hmacSecrets: [TEST_SECRET] });
    const result = await handleWebhook(signed(transcription()), world.deps);
    expect(result.statusCode).toBe(200);
    expect(world.secretFetches.refreshed).toBe(1);
  });

  it('still refuses when the refetched secret does not match either', async () => {
    const world = memoryWorld();
    world.setRefreshedSecrets({ hmacSecrets: ['another'] });
    const result = await handleWebhook(signed(transcription(), { secret: 'forged' }), world.deps);
    expect(result.body).toEqual({ error: 'signature mismatch' });
    expect(world.secretFetches.refreshed).toBe(1);
  });

  it('accepts a configured bearer token instead of a signature', async () => {
    const world = memoryWorld();
    world.setSecrets({ hmacSecrets: [TEST_SECRET], bearerToken: 'tok_123' });
    const result = await handleWebhook({ body: transcription(), headers: { authorization: 'Bearer tok_123' } }, world.deps);
    expect(result.statusCode).toBe(200);
    expect(result.facts.authenticatedBy).toBe('bearer');
  });

  it('refuses a wrong bearer token', async () => {
    const world = memoryWorld();
    world.setSecrets({ hmacSecrets: [TEST_SECRET], bearerToken: 'tok_123' });
    const result = await handleWebhook({ body: transcription(), headers: { authorization: 'Bearer tok_124' } }, world.deps);
    expect(result).toMatchObject({ statusCode: 401, body: { error: 'missing signature' } });
    expect(world.crmCalls).toEqual([]);
  });

  it('fails closed with 500 when the secret is unavailable, and forwards nothing', async () => {
    const world = memoryWorld();
    world.setSecrets(new Error('AccessDeniedException'));
    const result = await handleWebhook(signed(transcription()), world.deps);
    expect(result).toMatchObject({ statusCode: 500, body: { error: 'webhook secret unavailable' } });
    expect(result.facts.outcome).toBe('secret_unavailable');
    expect(world.crmCalls).toEqual([]);
  });

  it('verifies a base64-decoded body (REST API binary) byte for byte', async () => {
    const world = memoryWorld();
    const body = Buffer.from(transcription(), 'utf8');
    const request = { body, headers: { 'elevenlabs-signature': formatSignatureHeader(TEST_SECRET, T, body) } };
    expect((await handleWebhook(request, world.deps)).statusCode).toBe(200);
  });
});

describe('source IP allowlist (contract §2 step 2)', () => {
  it.each([
    ['an ElevenLabs egress IP', '35.204.38.71', 200],
    ['any other IP', '198.51.100.1', 403],
    ['no IP at all', '', 403],
  ])('%s → %i', async (_name, sourceIp, status) => {
    const world = memoryWorld();
    world.deps.config.sourceAllowlist = parseSourceAllowlist('elevenlabs');
    const result = await handleWebhook(signed(transcription(), { sourceIp }), world.deps);
    expect(result.statusCode).toBe(status);
    if (status === 403) expect(result.body).toEqual({ error: 'source not allowed' });
  });

  it('runs before authentication: a blocked caller never costs a secret fetch', async () => {
    const world = memoryWorld();
    world.deps.config.sourceAllowlist = parseSourceAllowlist('10.0.0.0/8');
    await handleWebhook(signed(transcription(), { sourceIp: '1.2.3.4' }), world.deps);
    expect(world.secretFetches.current).toBe(0);
  });
});

describe('parsing and dispatch (contract §2 steps 4-7)', () => {
  it.each([
    ['not JSON', 'hello', 400, { error: 'invalid JSON' }],
    ['truncated JSON', '{"type":', 400, { error: 'invalid JSON' }],
    ['a JSON array', '[]', 400, { error: 'invalid event: body must be a JSON object' }],
    ['no type', '{"data":{}}', 400, { error: 'invalid event: type: required' }],
  ])('%s → %i', async (_name, body, status, expected) => {
    const world = memoryWorld();
    const result = await handleWebhook(signed(body), world.deps);
    expect(result.statusCode).toBe(status);
    expect(result.body).toEqual(expected);
    expect(world.crmCalls).toEqual([]);
  });

  it('skips unknown event types with 200', async () => {
    const world = memoryWorld();
    const result = await handleWebhook(signed('{"type":"post_call_video","data":{"conversation_id":"c7"}}'), world.deps);
    expect(result).toMatchObject({
      statusCode: 200,
      body: {
        received: true,
        type: 'post_call_video',
        conversationId: 'c7',
        skipped: true,
        reason: 'unsupported event type: post_call_video',
      },
    });
    expect(world.crmCalls).toEqual([]);
  });

  it('skips agents outside ALLOWED_AGENT_IDS with 200', async () => {
    const world = memoryWorld();
    world.deps.config.allowedAgentIds = new Set(['agent_other']);
    const result = await handleWebhook(signed(transcription()), world.deps);
    expect(result).toMatchObject({ statusCode: 200, body: { skipped: true, reason: 'agent not allowed' } });
    expect(world.crmCalls).toEqual([]);
  });

  it('processes agents inside ALLOWED_AGENT_IDS', async () => {
    const world = memoryWorld();
    world.deps.config.allowedAgentIds = new Set(['agent_1']);
    expect((await handleWebhook(signed(transcription()), world.deps)).body).toMatchObject({ forwarded: true });
  });

  it('forwards a transcription to the CRM and answers forwarded', async () => {
    const world = memoryWorld();
    const result = await handleWebhook(signed(transcription()), world.deps);
    expect(result).toEqual({
      statusCode: 200,
      body: { received: true, type: 'post_call_transcription', conversationId: 'conv_1', forwarded: true, queued: false },
      facts: expect.objectContaining({ outcome: 'forwarded', crmTo: '+********898', crmStatus: 'held' }),
    });
    expect(world.crmCalls).toHaveLength(1);
    expect(world.crmCalls[0]).toMatchObject({ to: '+61413052898', name: 'angelo', subject: 'Invitation to re-trial', status: 'held' });
  });

  it('forwards an initiation failure to the CRM', async () => {
    const world = memoryWorld();
    const result = await handleWebhook(signed(failure()), world.deps);
    expect(result.body).toMatchObject({ type: 'call_initiation_failure', forwarded: true });
    expect(world.crmCalls[0]).toMatchObject({ status: 'no answer', duration: 0, summary: 'Call not connected: busy (SIP 487).' });
  });

  it('queues the exact contract §5 message when the CRM fails, and answers 200 queued', async () => {
    const world = memoryWorld();
    world.setCrmResult({ ok: false, attempts: 3, lastError: 'HTTP 503', permanent: false });
    const result = await handleWebhook(signed(transcription()), world.deps);
    expect(result).toMatchObject({ statusCode: 200, body: { forwarded: false, queued: true } });
    expect(world.queued).toEqual([
      {
        crmPayload: world.crmCalls[0],
        eventType: 'post_call_transcription',
        conversationId: 'conv_1',
        attempts: 3,
        lastError: 'HTTP 503',
        firstAttemptAt: new Date(NOW).toISOString(),
      },
    ]);
    expect(Object.keys(world.queued[0]!).sort()).toEqual([
      'attempts',
      'conversationId',
      'crmPayload',
      'eventType',
      'firstAttemptAt',
      'lastError',
    ]);
  });

  it('answers 500 only when the CRM failed and the queue refused too', async () => {
    const world = memoryWorld();
    world.setCrmResult({ ok: false, attempts: 3, lastError: 'timeout after 5000 ms', permanent: false });
    world.failQueue();
    const result = await handleWebhook(signed(transcription()), world.deps);
    expect(result).toMatchObject({ statusCode: 500, body: { error: 'event could not be forwarded or queued' } });
  });

  it('answers 500 when the CRM failed and no queue is configured', async () => {
    const world = memoryWorld({ retryQueue: undefined });
    world.setCrmResult({ ok: false, attempts: 1, lastError: 'HTTP 400', permanent: true });
    expect((await handleWebhook(signed(transcription()), world.deps)).statusCode).toBe(500);
  });

  it('stores audio and answers with its key, with no CRM payload', async () => {
    const world = memoryWorld();
    const result = await handleWebhook(signed(audio()), world.deps);
    expect(result).toMatchObject({
      statusCode: 200,
      body: { type: 'post_call_audio', conversationId: 'conv_3', audioKey: 'audio/agent_1/conv_3.mp3' },
    });
    expect(world.stored).toHaveLength(1);
    expect(world.stored[0]!.bytes.subarray(0, 3).toString()).toBe('ID3');
    expect(world.crmCalls).toEqual([]);
  });

  it.each([
    ['empty audio', ''],
    ['not base64', 'SUQzBAAAAAAA...base64_encoded_mp3_data...AAAAAAAAAA=='],
  ])('answers 400 invalid audio for %s and stores nothing', async (_name, fullAudio) => {
    const world = memoryWorld();
    const body = JSON.stringify({ type: 'post_call_audio', data: { agent_id: 'a', conversation_id: 'c', full_audio: fullAudio } });
    const result = await handleWebhook(signed(body), world.deps);
    expect(result).toMatchObject({ statusCode: 400, body: { error: 'invalid audio' } });
    expect(world.stored).toEqual([]);
  });

  it('answers 500 when S3 refuses the audio (ElevenLabs never re-sends it otherwise)', async () => {
    const world = memoryWorld();
    world.failAudio();
    const result = await handleWebhook(signed(audio()), world.deps);
    expect(result).toMatchObject({ statusCode: 500, body: { error: 'audio could not be stored' } });
  });

  it('answers 500 for audio when no bucket is configured', async () => {
    const world = memoryWorld({ audioStore: undefined });
    expect((await handleWebhook(signed(audio()), world.deps)).statusCode).toBe(500);
  });
});

describe('deduplication (contract §2 step 6)', () => {
  it('answers a repeat with deduplicated and forwards once', async () => {
    const world = memoryWorld({ idempotency: memoryIdempotency() });
    const body = transcription();
    expect((await handleWebhook(signed(body), world.deps)).body).toMatchObject({ forwarded: true });
    const repeat = await handleWebhook(signed(body), world.deps);
    expect(repeat).toMatchObject({ statusCode: 200, body: { received: true, deduplicated: true, conversationId: 'conv_1' } });
    expect(world.crmCalls).toHaveLength(1);
  });

  it('stores audio once', async () => {
    const world = memoryWorld({ idempotency: memoryIdempotency() });
    const body = audio();
    await handleWebhook(signed(body), world.deps);
    await handleWebhook(signed(body), world.deps);
    expect(world.stored).toHaveLength(1);
  });

  it('keys on type and conversation id: another type with the same id is processed', async () => {
    const store = memoryIdempotency();
    const world = memoryWorld({ idempotency: store });
    await handleWebhook(signed(JSON.stringify(sampleEvent('transcription', { conversationId: 'same', nowMs: NOW }))), world.deps);
    await handleWebhook(signed(JSON.stringify(sampleEvent('failure', { conversationId: 'same', nowMs: NOW }))), world.deps);
    expect(world.crmCalls).toHaveLength(2);
    expect([...store.records.keys()].sort()).toEqual(['call_initiation_failure#same', 'post_call_transcription#same']);
  });

  it('releases the record after a 5xx so the retry is processed', async () => {
    const store = memoryIdempotency();
    const world = memoryWorld({ idempotency: store });
    world.failAudio();
    const body = audio();
    expect((await handleWebhook(signed(body), world.deps)).statusCode).toBe(500);
    expect(store.records.size).toBe(0);
    world.failAudio(null);
    expect((await handleWebhook(signed(body), world.deps)).body).toMatchObject({ audioKey: 'audio/agent_1/conv_3.mp3' });
    expect(world.stored).toHaveLength(1);
    expect(store.records.get('post_call_audio#conv_3')).toBe('completed');
  });

  it('answers 429 with Retry-After while another delivery of the same event is in flight', async () => {
    const store = memoryIdempotency();
    store.records.set('post_call_transcription#conv_1', 'in_progress');
    store.holds.set('post_call_transcription#conv_1', NOW + 20_000);
    const world = memoryWorld({ idempotency: store });
    const result = await handleWebhook(signed(transcription()), world.deps);
    // ElevenLabs retries 429 but ends its retries on 409 and every other 4xx (contract §1).
    expect(result).toMatchObject({ statusCode: 429, body: { error: 'duplicate delivery in progress' }, headers: { 'retry-after': '30' } });
    expect(world.crmCalls).toEqual([]);
  });

  it("holds its claim until the request's hard end, so a retry after a crash takes over", async () => {
    const claims: ClaimRequest[] = [];
    const store = memoryIdempotency();
    const world = memoryWorld({
      idempotency: {
        ...store,
        claim: (key, request) => {
          claims.push(request);
          return store.claim(key, request);
        },
      },
    });
    const budget = requestBudget(NOW, 28_000);
    await handleWebhook({ ...signed(transcription()), budget }, world.deps);
    expect(claims[0]).toEqual({ nowMs: NOW, holdUntilMs: NOW + 28_000, deadlineMs: NOW + DEPENDENCY_LIMITS_MS.idempotencyClaim });
  });

  it('answers 200 when the completion write fails or stalls (the event was delivered)', async () => {
    const store = memoryIdempotency();
    const world = memoryWorld({ idempotency: { ...store, complete: async () => Promise.reject(new Error('TimeoutError: stalled')) } });
    const result = await handleWebhook(signed(transcription()), world.deps);
    expect(result).toMatchObject({ statusCode: 200, body: { forwarded: true } });
    expect(result.facts.idempotencyError).toContain('stalled');
    expect(world.crmCalls).toHaveLength(1);
  });

  it("lets the CRM request go out before the archive's and the check's work starts", async () => {
    // undici writes a request on a reused connection from a setImmediate (core/dispatch-event.ts).
    const order: string[] = [];
    const world = memoryWorld({
      crm: {
        forward: async () => {
          await Promise.resolve();
          setImmediate(() => order.push('CRM request written'));
          await new Promise((resolve) => setTimeout(resolve, 5));
          return { ok: true, attempts: 1 };
        },
      },
      archive: {
        put: async () => {
          order.push('archive started');
        },
        remove: async () => undefined,
      },
    });
    expect((await handleWebhook(signed(transcription()), world.deps)).facts).toMatchObject({ outcome: 'forwarded', archive: 'archived' });
    expect(order).toEqual(['CRM request written', 'archive started']);
  });

  it('starts the completion write once the forward succeeded, without waiting for the archive', async () => {
    const store = memoryIdempotency();
    const order: string[] = [];
    let finishArchive!: () => void;
    const world = memoryWorld({
      idempotency: {
        ...store,
        complete: async (key, nowMs, deadlineMs) => {
          order.push('complete');
          await store.complete(key, nowMs, deadlineMs);
        },
      },
      archive: {
        put: () =>
          new Promise<void>((resolve) => {
            finishArchive = () => {
              order.push('archived');
              resolve();
            };
          }),
        remove: async () => undefined,
      },
    });
    const answer = handleWebhook(signed(transcription()), world.deps);
    await vi.waitFor(() => expect(finishArchive).toBeDefined());
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['complete']);
    finishArchive();
    // The answer still waits for the archive (contract §10: its outcome is in the log line).
    expect((await answer).facts).toMatchObject({ outcome: 'forwarded', archive: 'archived' });
    expect(order).toEqual(['complete', 'archived']);
  });

  it('builds the completion write while the forward waits and sends it only once the event is durable', async () => {
    const store = memoryIdempotency();
    const order: string[] = [];
    const world = memoryWorld({
      idempotency: {
        ...store,
        prepareCompletion: (key, nowMs) => {
          order.push('prepared');
          return {
            commit: async (deadlineMs) => {
              order.push('committed');
              await store.complete(key, nowMs, deadlineMs);
            },
            abandon: () => order.push('abandoned'),
          };
        },
      },
      crm: {
        forward: async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          order.push('forwarded');
          return { ok: true, attempts: 1 };
        },
      },
    });
    expect((await handleWebhook(signed(transcription()), world.deps)).statusCode).toBe(200);
    expect(order).toEqual(['prepared', 'forwarded', 'committed']);
    expect(store.records.get('post_call_transcription#conv_1')).toBe('completed');
  });

  it('drops the prepared completion unsent and releases the claim when the event could not be made durable', async () => {
    const store = memoryIdempotency();
    const order: string[] = [];
    const world = memoryWorld({
      idempotency: {
        ...store,
        prepareCompletion: () => {
          order.push('prepared');
          return { commit: async () => void order.push('committed'), abandon: () => order.push('abandoned') };
        },
      },
    });
    world.setCrmResult({ ok: false, attempts: 3, lastError: 'HTTP 503', permanent: false });
    world.failQueue();
    expect((await handleWebhook(signed(transcription()), world.deps)).statusCode).toBe(500);
    expect(order).toEqual(['prepared', 'abandoned']);
    expect(store.records.size).toBe(0);
  });

  it('processes anyway when the table is unreachable (never lose an event)', async () => {
    const world = memoryWorld({
      idempotency: {
        claim: async () => Promise.reject(new Error('ResourceNotFoundException')),
        complete: async () => undefined,
        release: async () => undefined,
      },
    });
    const result = await handleWebhook(signed(transcription()), world.deps);
    expect(result.body).toMatchObject({ forwarded: true });
    expect(result.facts.idempotencyError).toContain('ResourceNotFoundException');
  });
});

describe('deadlines (contract §11: every dependency call bounded)', () => {
  it.each([
    ['a full Lambda budget', 28_000],
    ['a nearly spent budget', 3_000],
  ])('with %s, each call gets the earlier of the request deadline and its own limit', async (_name, remainingMs) => {
    const seen: Record<string, number> = {};
    const world = memoryWorld();
    world.deps.secrets = {
      ...world.deps.secrets,
      current: async (deadline) => {
        seen.secret = deadline;
        return { hmacSecrets: [TEST_SECRET] };
      },
    };
    world.deps.crm = {
      forward: async (_p, deadline) => {
        seen.crm = deadline;
        return { ok: false, attempts: 1, lastError: 'HTTP 503', permanent: false };
      },
    };
    world.deps.retryQueue = {
      enqueue: async (_m, deadline) => {
        seen.queue = deadline;
      },
    };
    world.deps.audioStore = {
      put: async (_a, deadline) => {
        seen.audio = deadline;
      },
    };
    const budget = requestBudget(NOW, remainingMs);
    await handleWebhook({ ...signed(transcription()), budget }, world.deps);
    await handleWebhook({ ...signed(audio()), budget }, world.deps);
    const bound = (limit: number) => Math.min(budget.deadlineMs, NOW + limit);
    expect(seen).toEqual({
      secret: budget.deadlineMs,
      crm: Math.max(NOW, budget.deadlineMs - QUEUE_WRITE_RESERVE_MS),
      queue: bound(DEPENDENCY_LIMITS_MS.queueSend),
      audio: bound(DEPENDENCY_LIMITS_MS.audioPut),
    });
  });

  it("uses the receiver's Lambda timeout as the budget when none is given (local runs)", async () => {
    let seen = 0;
    const world = memoryWorld();
    world.deps.crm = {
      forward: async (_p, deadline) => {
        seen = deadline;
        return { ok: true, attempts: 1 };
      },
    };
    await handleWebhook(signed(transcription()), world.deps);
    expect(seen).toBe(requestBudget(NOW, undefined).deadlineMs - QUEUE_WRITE_RESERVE_MS);
  });
});

describe('missed-call text-back (contract §13): the receiver only queues, alongside the forward', () => {
  const outbound = (patch: (data: Json) => void) =>
    JSON.stringify({
      ...realCall({ nowMs: NOW }, (d) => {
        d.metadata.phone_call.direction = 'outbound';
        patch(d);
      }),
      event_timestamp: T,
    });

  function withTextBack(fail = false) {
    const texts: SmsQueueMessage[] = [];
    const world = memoryWorld({
      textBack: {
        onStatuses: ['no answer', 'voicemail'],
        queue: {
          enqueue: async (message) => {
            if (fail) throw new Error('SQS refused');
            texts.push(message);
          },
        },
      },
    });
    return { world, texts };
  }

  it.each<[string, (d: Json) => void, string]>([
    [
      'an outbound call nobody answered',
      (d) => {
        d.transcript = [{ role: 'agent', message: 'Hello?' }];
      },
      'queued',
    ],
    [
      'an outbound call that reached voicemail',
      (d) => {
        d.metadata.termination_reason = 'voicemail_detection tool was called.';
      },
      'queued',
    ],
    ['an outbound call someone answered', () => undefined, 'status'],
    [
      'an inbound call nobody answered',
      (d) => {
        d.metadata.phone_call.direction = 'inbound';
        d.transcript = [];
      },
      'inbound',
    ],
    [
      'a missed call to a number that is not one',
      (d) => {
        d.metadata.phone_call.external_number = 'alice';
        d.transcript = [];
      },
      'no_number',
    ],
  ])('%s: %s', async (_name, patch, textBack) => {
    const { world, texts } = withTextBack();
    const result = await handleWebhook(signed(outbound(patch)), world.deps);
    expect(result.statusCode).toBe(200);
    expect(result.facts.textBack).toBe(textBack);
    expect(texts).toHaveLength(textBack === 'queued' ? 1 : 0);
    if (textBack === 'queued') {
      const payload = world.crmCalls[0]!;
      expect(texts[0]).toEqual({
        to: payload.to,
        name: payload.name,
        subject: payload.subject,
        conversationId: 'conv_01jz8k2m4n6p8q0r2s4t6v8w0y',
        status: payload.status,
      });
    }
  });

  it('a refused SMS queue never changes the answer: forwarded, SmsFailed counted', async () => {
    const { world } = withTextBack(true);
    const result = await handleWebhook(signed(outbound((d) => (d.transcript = []))), world.deps);
    expect(result).toMatchObject({ statusCode: 200, body: { forwarded: true } });
    expect(result.facts).toMatchObject({ textBack: 'not_queued', textBackError: 'Error: SQS refused' });
    expect(requestMetrics(result.facts)).toMatchObject({ SmsFailed: 1, CrmForwardSucceeded: 1 });
  });

  it.each([
    ['busy', 'queued', 1],
    ['unknown', 'status', 0],
  ])('an initiation failure is outbound: failure_reason %s → %s', async (reason, textBack, count) => {
    const { world, texts } = withTextBack();
    const body = JSON.stringify({ ...realInitiationFailure(reason, { to: '+61491570156' }), event_timestamp: T });
    expect((await handleWebhook(signed(body), world.deps)).facts.textBack).toBe(textBack);
    expect(texts).toHaveLength(count);
  });
});
