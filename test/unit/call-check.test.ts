/**
 * contract §12, the call check, over in-memory ports: the record half (ledger → API → claim →
 * deliver → archive), then the recording half. The wired worker against real stand-ins is in
 * test/integration/call-check.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { API_KEY_REJECTED } from '../../lambda/core/audio-check';
import { type CallCheckDeps, checkCall, NO_API_KEY_FOR_RECORD } from '../../lambda/core/call-check';
import { toCrmPayload } from '../../lambda/core/crm-payload';
import { parseEvent, type TranscriptionEvent } from '../../lambda/core/events';
import { callCheckMetrics } from '../../lambda/core/metrics';
import type { ArchiveEntry, ConversationAnswer, ForwardResult, IdempotencyStore, RetryQueueMessage } from '../../lambda/core/ports';
import { requestBudget } from '../../lambda/core/time-budget';
import { FICTIONAL_NUMBERS, type Json, realCall } from '../../support/fixtures/real-calls';
import { memoryIdempotency, NOW } from '../helpers/memory-ports';

const mapping = { defaultSubject: 'Conversational AI call', subjectsByAgent: {} };
const message = { conversationId: 'conv_missed', agentId: 'agent_7f3c21d0e9b84a5c', eventTimestamp: null };
const budget = requestBudget(NOW, undefined, 300_000);

/** The API's model of the call: the `data` a transcription webhook would have carried. */
function model(patch?: (data: Json) => void): Json {
  return realCall({ conversationId: message.conversationId }, patch).data;
}

interface World {
  deps: CallCheckDeps;
  crm: unknown[];
  queued: RetryQueueMessage[];
  archived: ArchiveEntry[];
  apiCalls: string[];
  store: ReturnType<typeof memoryIdempotency>;
}

function world(options: {
  recorded?: boolean;
  answer?: ConversationAnswer | Error;
  apiKey?: string;
  crm?: ForwardResult;
  queueFails?: boolean;
  archiveFails?: boolean;
  idempotency?: IdempotencyStore;
  recordingStored?: boolean;
}): World {
  const w: World = { deps: undefined as never, crm: [], queued: [], archived: [], apiCalls: [], store: memoryIdempotency() };
  const answer = options.answer ?? { status: 200, body: Buffer.from(JSON.stringify(model())) };
  w.deps = {
    now: () => NOW,
    apiKey: { current: async () => ('apiKey' in options ? options.apiKey : 'sk_test') },
    recordings: {
      isStored: async () => options.recordingStored ?? true,
      store: async () => ({ bytes: 1, sha256: '0'.repeat(64) }),
    },
    elevenLabs: {
      conversationAudio: async () => ({ status: 404 }),
      conversation: async (id) => {
        w.apiCalls.push(id);
        if (answer instanceof Error) throw answer;
        return answer;
      },
      listConversations: async () => ({ conversations: [], hasMore: false }),
    },
    record: {
      ledger: { hasRecord: async () => options.recorded ?? false },
      archive: {
        put: async (entry) => {
          if (options.archiveFails) throw new Error('S3 down');
          w.archived.push(entry);
        },
        remove: async () => undefined,
      },
      delivery: {
        now: () => NOW,
        crm: {
          forward: async (payload) => {
            w.crm.push(payload);
            return options.crm ?? { ok: true, attempts: 1 };
          },
        },
        retryQueue: {
          enqueue: async (queued) => {
            if (options.queueFails) throw new Error('SQS down');
            w.queued.push(queued);
          },
        },
      },
      idempotency: options.idempotency ?? w.store,
      crmMapping: mapping,
    },
  };
  return w;
}

const json = (body: unknown): ConversationAnswer => ({ status: 200, body: Buffer.from(JSON.stringify(body)) });

describe('the record half', () => {
  it('a record in the ledger: nothing to do, no API call, then the recording half', async () => {
    const w = world({ recorded: true });
    expect(await checkCall(message, w.deps, budget)).toEqual({
      record: { kind: 'present' },
      recording: expect.objectContaining({ kind: 'already_stored' }),
    });
    expect(w.apiCalls).toEqual([]);
  });

  it('a missing record is rebuilt from the API model exactly as the receiver would, delivered, archived and claimed', async () => {
    const w = world({});
    const outcome = await checkCall(message, w.deps, budget);
    const expected = toCrmPayload(parseEvent({ type: 'post_call_transcription', data: model() }) as TranscriptionEvent, mapping);
    expect(w.crm).toEqual([expected]);
    expect(outcome.record).toEqual({
      kind: 'recovered',
      delivery: 'forwarded',
      attempts: 1,
      crmStatus: expected.status,
      crmTo: '+********156',
      archive: 'archived',
    });
    expect(w.archived).toEqual([
      {
        key: `calls/${message.agentId}/${message.conversationId}/post_call_transcription.json`,
        body: Buffer.from(JSON.stringify(model())),
        conversationId: message.conversationId,
        agentId: message.agentId,
        eventTimestamp: Math.floor(NOW / 1000),
        source: 'elevenlabs-api',
      },
    ]);
    // Both formats' keys are completed: a late webhook of either is deduplicated.
    expect(Object.fromEntries(w.store.records)).toEqual({
      'post_call_transcription#conv_missed': 'completed',
      'post_call_transcription_otel#conv_missed': 'completed',
    });
    expect(callCheckMetrics(outcome)).toMatchObject({ CallRecovered: 1, CrmForwardSucceeded: 1, EventArchived: 1 });
  });

  it.each([
    ['a transcription webhook completed it', 'post_call_transcription#conv_missed', 'completed'],
    ['a transcription webhook is delivering it', 'post_call_transcription#conv_missed', 'in_progress'],
    ['an OpenTelemetry webhook completed it', 'post_call_transcription_otel#conv_missed', 'completed'],
  ] as const)('%s: the webhook got there first, nothing is forwarded or left claimed', async (_name, key, state) => {
    const w = world({});
    w.store.records.set(key, state);
    w.store.holds.set(key, NOW + 60_000);
    const outcome = await checkCall(message, w.deps, budget);
    expect(outcome.record).toEqual({ kind: 'delivered_by_webhook' });
    expect(w.crm).toEqual([]);
    expect(w.archived).toEqual([]);
    expect([...w.store.records.keys()]).toEqual([key]);
    expect(outcome.recording?.kind).toBe('already_stored');
  });

  it.each(['initiated', 'in-progress', 'processing', undefined])(
    'status %s: not ended, left for the next run, recording half skipped',
    async (status) => {
      const w = world({ answer: json(model((d) => (d.status = status))) });
      const outcome = await checkCall(message, w.deps, budget);
      expect(outcome).toEqual({ record: { kind: 'not_ended', status: status ?? '(none)' } });
      expect(w.crm).toEqual([]);
      expect(w.store.records.size).toBe(0);
    },
  );

  it('a failed call (status failed) is ended: its record is recovered', async () => {
    const w = world({ answer: json(model((d) => (d.status = 'failed'))) });
    expect((await checkCall(message, w.deps, budget)).record).toMatchObject({ kind: 'recovered', crmStatus: 'failed' });
  });

  it.each<[string, Partial<Parameters<typeof world>[0]>, Record<string, unknown>, boolean]>([
    ['404: ElevenLabs kept no data', { answer: { status: 404 } }, { kind: 'unavailable' }, false],
    ['401: the key was rejected', { answer: { status: 401 } }, { kind: 'missing', reason: API_KEY_REJECTED }, true],
    ['403: the key was rejected', { answer: { status: 403 } }, { kind: 'missing', reason: API_KEY_REJECTED }, true],
    ['400: a refusal no retry helps', { answer: { status: 400 } }, { kind: 'missing', reason: 'ElevenLabs API answered HTTP 400' }, true],
    ['no API key', { apiKey: undefined }, { kind: 'missing', reason: NO_API_KEY_FOR_RECORD }, true],
    ['503', { answer: { status: 503 } }, { kind: 'retry', reason: 'ElevenLabs API answered HTTP 503' }, false],
    ['429 with Retry-After', { answer: { status: 429, retryAfter: '120' } }, { kind: 'retry', retryAfterSeconds: 120 }, false],
    ['a network error', { answer: new Error('socket hang up') }, { kind: 'retry', reason: 'ElevenLabs API: Error: socket hang up' }, false],
  ])('%s', async (_name, options, expected, recordingChecked) => {
    const w = world(options);
    const outcome = await checkCall(message, w.deps, budget);
    expect(outcome.record).toMatchObject(expected);
    expect(outcome.recording !== undefined).toBe(recordingChecked);
    expect(w.crm).toEqual([]);
    expect(w.archived).toEqual([]);
  });

  it.each<[string, unknown, RegExp]>([
    ['not JSON', '<html>maintenance</html>', /not JSON/],
    ['a JSON array', [1, 2], /JSON that is not a conversation/],
    ['JSON null', null, /JSON that is not a conversation/],
    ['no conversation_id', { agent_id: message.agentId }, /cannot read \(invalid event: data.conversation_id/],
    ['a numeric conversation_id', { conversation_id: 7 }, /cannot read/],
    ['another conversation', model((d) => (d.conversation_id = 'conv_other')), /another conversation/],
    ["another agent's conversation", model((d) => (d.agent_id = 'agent_other')), /another agent/],
  ])('an answer that is %s: nothing forwarded or stored, the check comes back', async (_name, body, reason) => {
    const w = world({ answer: { status: 200, body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)) } });
    const outcome = await checkCall(message, w.deps, budget);
    expect(outcome.record).toMatchObject({ kind: 'retry', reason: expect.stringMatching(reason) });
    expect([w.crm, w.archived, w.store.records.size]).toEqual([[], [], 0]);
  });

  it('the CRM fails: queued for the retry worker, archived, counted as recovered', async () => {
    const w = world({ crm: { ok: false, attempts: 3, lastError: 'HTTP 503', permanent: false } });
    const outcome = await checkCall(message, w.deps, budget);
    expect(outcome.record).toMatchObject({ kind: 'recovered', delivery: 'queued', lastError: 'HTTP 503' });
    expect(w.queued).toHaveLength(1);
    expect(w.queued[0]).toMatchObject({ eventType: 'post_call_transcription', conversationId: 'conv_missed' });
    expect(callCheckMetrics(outcome)).toMatchObject({ CallRecovered: 1, CrmForwardFailed: 1, CrmForwardQueued: 1, CrmForwardRetried: 2 });
  });

  it('the CRM and the retry queue fail: not durable, claims released, nothing archived, the check comes back', async () => {
    const w = world({ crm: { ok: false, attempts: 3, lastError: 'HTTP 503', permanent: false }, queueFails: true });
    const outcome = await checkCall(message, w.deps, budget);
    expect(outcome).toEqual({ record: expect.objectContaining({ kind: 'retry', notDurable: true, crmAttempts: 3 }) });
    expect(w.archived).toEqual([]);
    expect(w.store.records.size).toBe(0);
    expect(callCheckMetrics(outcome)).toMatchObject({ CrmForwardNotDurable: 1, CrmForwardFailed: 1 });
  });

  it('the archive write fails after delivery: still recovered (the CRM has it), ArchiveFailed', async () => {
    const w = world({ archiveFails: true });
    const outcome = await checkCall(message, w.deps, budget);
    expect(outcome.record).toMatchObject({ kind: 'recovered', archive: 'failed', archiveError: 'Error: S3 down' });
    expect(callCheckMetrics(outcome)).toMatchObject({ CallRecovered: 1, ArchiveFailed: 1 });
  });

  it('completes the claims alongside the archive write, not after it (a slow archive must not let them lapse)', async () => {
    const w = world({});
    let archiveDone = false;
    const completedWhileArchiving: boolean[] = [];
    w.deps.record!.archive.put = async () => {
      await new Promise((resolve) => setImmediate(resolve));
      archiveDone = true;
    };
    const store = w.store;
    const complete = store.complete.bind(store);
    store.complete = async (key, at, deadline) => {
      completedWhileArchiving.push(!archiveDone);
      return complete(key, at, deadline);
    };
    expect((await checkCall(message, { ...w.deps, record: { ...w.deps.record!, idempotency: store } }, budget)).record).toMatchObject({
      kind: 'recovered',
      archive: 'archived',
    });
    expect(completedWhileArchiving).toEqual([true, true]);
  });

  it('the idempotency table fails: delivered anyway, IdempotencyUnavailable', async () => {
    const failing: IdempotencyStore = {
      claim: async () => Promise.reject(new Error('DynamoDB down')),
      complete: async () => undefined,
      release: async () => undefined,
    };
    const w = world({ idempotency: failing });
    const outcome = await checkCall(message, w.deps, budget);
    expect(outcome).toMatchObject({ record: { kind: 'recovered' }, idempotencyError: 'Error: DynamoDB down' });
    expect(callCheckMetrics(outcome)).toMatchObject({ IdempotencyUnavailable: 1 });
  });

  it('the ledger cannot be read: the check comes back, the API is not asked', async () => {
    const w = world({});
    w.deps.record!.ledger.hasRecord = async () => Promise.reject(new Error('S3 503'));
    expect((await checkCall(message, w.deps, budget)).record).toEqual({ kind: 'retry', reason: 'S3: Error: S3 503' });
    expect(w.apiCalls).toEqual([]);
  });

  it('another agent than ALLOWED_AGENT_IDS names: nothing looked at, asked or done (the receiver skips its events too)', async () => {
    const w = world({ recorded: false, recordingStored: false });
    let ledgerReads = 0;
    w.deps.record!.ledger = { hasRecord: async () => ++ledgerReads > 0 && false };
    expect(await checkCall(message, { ...w.deps, allowedAgentIds: new Set(['agent_other']) }, budget)).toEqual({ otherAgent: true });
    expect([ledgerReads, w.apiCalls.length, w.crm.length, w.archived.length]).toEqual([0, 0, 0, 0]);
    // The same message for an allowed agent is checked as usual.
    const allowed = await checkCall(message, { ...w.deps, allowedAgentIds: new Set([message.agentId]) }, budget);
    expect(allowed.record?.kind).toBe('recovered');
    expect(ledgerReads).toBe(1);
  });

  it('without the record half (ARCHIVE_EVENTS off) the check is the audio check alone', async () => {
    const w = world({});
    w.deps.record = undefined;
    expect(await checkCall(message, w.deps, budget)).toEqual({ recording: expect.objectContaining({ kind: 'already_stored' }) });
    expect(w.apiCalls).toEqual([]);
  });

  it('the recovered record of an answered outbound call names the contact from the model', async () => {
    const w = world({});
    await checkCall(message, w.deps, budget);
    expect(w.crm[0]).toMatchObject({ to: FICTIONAL_NUMBERS.mobile });
  });
});

describe('the text-back of a recovered call (contract §13)', () => {
  it.each<[string, (d: Json) => void, string, number]>([
    ['an outbound call nobody answered gets its text queued', (d) => (d.transcript = []), 'queued', 1],
    ['an answered call gets none', () => undefined, 'status', 0],
  ])('%s', async (_name, patch, textBack, count) => {
    const w = world({ answer: json(model(patch)) });
    const texts: unknown[] = [];
    w.deps.record!.textBack = { onStatuses: ['no answer', 'voicemail'], queue: { enqueue: async (m) => void texts.push(m) } };
    const outcome = await checkCall(message, w.deps, budget);
    expect(outcome.record).toMatchObject({ kind: 'recovered', textBack });
    expect(texts).toHaveLength(count);
  });

  it('a refused SMS queue leaves the record recovered, counted as SmsFailed', async () => {
    const w = world({ answer: json(model((d) => (d.transcript = []))) });
    w.deps.record!.textBack = { onStatuses: ['no answer'], queue: { enqueue: async () => Promise.reject(new Error('SQS down')) } };
    const outcome = await checkCall(message, w.deps, budget);
    expect(outcome.record).toMatchObject({ kind: 'recovered', textBack: 'not_queued', textBackError: 'Error: SQS down' });
    expect(callCheckMetrics(outcome)).toMatchObject({ CallRecovered: 1, SmsFailed: 1 });
  });
});
