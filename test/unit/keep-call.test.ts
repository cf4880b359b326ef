/**
 * contract §10, the receiver's part: the event archive and the audio check, over in-memory ports.
 * They run alongside the CRM forward and never change the answer.
 */
import { describe, expect, it } from 'vitest';
import { handleWebhook, type WebhookRequest } from '../../lambda/core/handle-webhook';
import { requestMetrics } from '../../lambda/core/metrics';
import type { ArchiveEntry, AudioCheckMessage, AudioCheckQueue, EventArchive } from '../../lambda/core/ports';
import { DEPENDENCY_LIMITS_MS, requestBudget } from '../../lambda/core/time-budget';
import { formatSignatureHeader } from '../../lambda/core/verify-signature';
import { sampleEvent } from '../../support/fixtures/samples';
import { memoryIdempotency, memoryWorld, NOW, TEST_SECRET } from '../helpers/memory-ports';

const T = Math.floor(NOW / 1000);
const signed = (body: string | Buffer): WebhookRequest => ({
  body,
  headers: { 'elevenlabs-signature': formatSignatureHeader(TEST_SECRET, T, body) },
  sourceIp: '34.67.146.145',
});

function keepingWorld(options: { archiveFails?: boolean; scheduleFails?: boolean; removeFails?: boolean } = {}) {
  const archived: { entry: ArchiveEntry; deadlineMs: number }[] = [];
  const removed: string[] = [];
  const scheduled: { message: AudioCheckMessage; delaySeconds: number; deadlineMs: number }[] = [];
  const archive: EventArchive = {
    async put(entry, deadlineMs) {
      if (options.archiveFails) throw new Error('AccessDenied');
      archived.push({ entry, deadlineMs });
    },
    async remove(key) {
      if (options.removeFails) throw new Error('AccessDenied');
      removed.push(key);
    },
  };
  const audioChecks: AudioCheckQueue = {
    async schedule(message, delaySeconds, deadlineMs) {
      if (options.scheduleFails) throw new Error('QueueDoesNotExist');
      scheduled.push({ message, delaySeconds, deadlineMs });
    },
  };
  const world = memoryWorld({ archive, audioChecks });
  world.deps.config = { ...world.deps.config, audioCheckDelaySeconds: 600 };
  return { world, archived, scheduled, removed };
}

const transcription = (data: Record<string, unknown> = {}, conversationId = 'conv_keep') => {
  const event = sampleEvent('transcription', { conversationId, agentId: 'agent_keep', nowMs: NOW });
  Object.assign(event.data, data);
  return JSON.stringify(event);
};
const failure = () => JSON.stringify(sampleEvent('failure', { conversationId: 'conv_fail', agentId: 'agent_keep', nowMs: NOW }));

describe('the event archive (ARCHIVE_EVENTS=true)', () => {
  it.each([
    ['a transcription', transcription(), 'post_call_transcription', 'conv_keep'],
    ['an initiation failure', failure(), 'call_initiation_failure', 'conv_fail'],
  ])(
    'keeps %s as the exact bytes it verified, under calls/<agent>/<conversation>/<type>.json',
    async (_name, body, type, conversationId) => {
      const { world, archived } = keepingWorld();
      const result = await handleWebhook(signed(body), world.deps);
      expect(result.statusCode).toBe(200);
      expect(archived).toHaveLength(1);
      expect(archived[0]!.entry).toEqual({
        key: `calls/agent_keep/${conversationId}/${type}.json`,
        body,
        conversationId,
        agentId: 'agent_keep',
        eventTimestamp: T,
      });
      expect(result.facts.archive).toBe('archived');
      expect(requestMetrics(result.facts)).toMatchObject({ EventArchived: 1 });
    },
  );

  it('archives a base64-delivered body as the decoded bytes, not the base64 text', async () => {
    const { world, archived } = keepingWorld();
    const bytes = Buffer.from(transcription({ note: 'é ✓' }), 'utf8');
    await handleWebhook(signed(bytes), world.deps);
    expect(Buffer.compare(Buffer.from(archived[0]!.entry.body), bytes)).toBe(0);
  });

  it('does not archive audio events (the recording itself is what is kept)', async () => {
    const { world, archived } = keepingWorld();
    await handleWebhook(signed(JSON.stringify(sampleEvent('audio', { audioSeconds: 0.2, nowMs: NOW }))), world.deps);
    expect(archived).toEqual([]);
  });

  it('a failed archive write never changes the answer: 200 forwarded, ArchiveFailed', async () => {
    const { world } = keepingWorld({ archiveFails: true });
    const result = await handleWebhook(signed(transcription()), world.deps);
    expect(result).toMatchObject({ statusCode: 200, body: { forwarded: true } });
    expect(result.facts).toMatchObject({ archive: 'failed', archiveError: 'Error: AccessDenied' });
    expect(requestMetrics(result.facts)).toMatchObject({ ArchiveFailed: 1, CrmForwardSucceeded: 1 });
    expect(requestMetrics(result.facts).EventArchived).toBeUndefined();
  });

  it.each([
    ['a conversation id with a slash', 'conv/../x'],
    ['a 129-character conversation id', 'c'.repeat(129)],
    ['a conversation id of ".."', '..'],
  ])('skips the archive for %s (not a key-safe id), and still forwards', async (_name, conversationId) => {
    const { world, archived, scheduled } = keepingWorld();
    const result = await handleWebhook(signed(transcription({}, conversationId)), world.deps);
    expect(result.statusCode).toBe(200);
    expect(archived).toEqual([]);
    expect(scheduled).toEqual([]);
    expect(result.facts).toMatchObject({ archive: 'skipped', audioCheck: 'skipped' });
  });

  it('withdraws the archive when the CRM fails and the retry queue refuses (500): the ledger must not call it delivered', async () => {
    const { world, archived, removed, scheduled } = keepingWorld();
    world.setCrmResult({ ok: false, attempts: 3, lastError: 'HTTP 503', permanent: false });
    world.failQueue();
    const result = await handleWebhook(signed(transcription()), world.deps);
    expect(result.statusCode).toBe(500);
    expect(archived).toHaveLength(1);
    expect(removed).toEqual(['calls/agent_keep/conv_keep/post_call_transcription.json']);
    expect(result.facts.archive).toBe('withdrawn');
    // The call check stays scheduled: ten minutes on, it finds no record and recovers it from the API (contract §12).
    expect(scheduled).toHaveLength(1);
    expect(requestMetrics(result.facts)).not.toHaveProperty('EventArchived');
  });

  it('a withdrawal that fails is counted as ArchiveFailed (the ledger is wrong) and the answer stays 500', async () => {
    const { world, removed } = keepingWorld({ removeFails: true });
    world.setCrmResult({ ok: false, attempts: 3, lastError: 'HTTP 503', permanent: false });
    world.failQueue();
    const result = await handleWebhook(signed(failure()), world.deps);
    expect(result.statusCode).toBe(500);
    expect(removed).toEqual([]);
    expect(result.facts).toMatchObject({ archive: 'withdraw_failed', archiveError: expect.stringContaining('AccessDenied') });
    expect(requestMetrics(result.facts)).toMatchObject({ ArchiveFailed: 1 });
  });

  it('keeps the archive of an event queued for the retry worker (durable: 200 queued)', async () => {
    const { world, removed } = keepingWorld();
    world.setCrmResult({ ok: false, attempts: 3, lastError: 'HTTP 503', permanent: false });
    const result = await handleWebhook(signed(transcription()), world.deps);
    expect(result.statusCode).toBe(200);
    expect(removed).toEqual([]);
    expect(result.facts.archive).toBe('archived');
  });

  it('is not written again for a deduplicated repeat', async () => {
    const { world, archived } = keepingWorld();
    world.deps.idempotency = memoryIdempotency();
    await handleWebhook(signed(transcription()), world.deps);
    const repeat = await handleWebhook(signed(transcription()), world.deps);
    expect(repeat.body).toMatchObject({ deduplicated: true });
    expect(archived).toHaveLength(1);
  });
});

describe('the audio check (AUDIO_CHECK_QUEUE_URL)', () => {
  it.each([
    ['has_audio: true', { has_audio: true }, true],
    ['has_audio absent (older payloads)', {}, true],
    ['has_audio: null', { has_audio: null }, true],
    ['has_audio: false (no recording kept)', { has_audio: false }, false],
  ])('%s → scheduled: %s', async (_name, data, expected) => {
    const { world, scheduled } = keepingWorld();
    const result = await handleWebhook(signed(transcription(data)), world.deps);
    expect(result.statusCode).toBe(200);
    if (!expected) {
      expect(scheduled).toEqual([]);
      expect(result.facts.audioCheck).toBeUndefined();
      return;
    }
    expect(scheduled).toEqual([
      {
        message: { conversationId: 'conv_keep', agentId: 'agent_keep', eventTimestamp: T },
        delaySeconds: 600,
        deadlineMs: expect.any(Number),
      },
    ]);
    expect(requestMetrics(result.facts)).toMatchObject({ AudioCheckScheduled: 1 });
  });

  it('is never scheduled for an initiation failure (no call, no recording)', async () => {
    const { world, scheduled } = keepingWorld();
    await handleWebhook(signed(failure()), world.deps);
    expect(scheduled).toEqual([]);
  });

  it('a refused send never changes the answer: 200, AudioCheckNotScheduled', async () => {
    const { world } = keepingWorld({ scheduleFails: true });
    const result = await handleWebhook(signed(transcription()), world.deps);
    expect(result).toMatchObject({ statusCode: 200, body: { forwarded: true } });
    expect(result.facts).toMatchObject({ audioCheck: 'not_scheduled', audioCheckError: 'Error: QueueDoesNotExist' });
    expect(requestMetrics(result.facts)).toMatchObject({ AudioCheckNotScheduled: 1 });
  });

  it('sends eventTimestamp null when the event has none', async () => {
    const { world, scheduled } = keepingWorld();
    const event = JSON.parse(transcription());
    delete event.event_timestamp;
    await handleWebhook(signed(JSON.stringify(event)), world.deps);
    expect(scheduled[0]!.message.eventTimestamp).toBeNull();
  });
});

describe('alongside the CRM forward', () => {
  it('runs concurrently: the archive, the audio check and the forward are all in flight at once', async () => {
    const started: string[] = [];
    let release!: () => void;
    const allStarted = new Promise<void>((resolve) => (release = resolve));
    const mark = async (name: string) => {
      started.push(name);
      if (started.length === 3) release();
      // Each waits until all three have started: run one after another, this never resolves.
      await allStarted;
    };
    const world = memoryWorld({
      archive: { put: () => mark('archive'), remove: async () => undefined },
      audioChecks: { schedule: () => mark('audioCheck') },
    });
    world.deps.crm = {
      forward: async () => {
        await mark('crm');
        return { ok: true, attempts: 1 };
      },
    };
    const result = await handleWebhook(signed(transcription()), world.deps);
    expect(result.statusCode).toBe(200);
    // The forward starts first: on a cold container its request is out while the archive's and
    // the check's SDK clients load (bench figure 2e).
    expect(started).toEqual(['crm', 'archive', 'audioCheck']);
  });

  it('bounds each by its own limit within the request deadline', async () => {
    const { world, archived, scheduled } = keepingWorld();
    const budget = requestBudget(NOW, 28_000);
    await handleWebhook({ ...signed(transcription()), budget }, world.deps);
    expect(archived[0]!.deadlineMs).toBe(NOW + DEPENDENCY_LIMITS_MS.archivePut);
    expect(scheduled[0]!.deadlineMs).toBe(NOW + DEPENDENCY_LIMITS_MS.queueSend);
  });
});
