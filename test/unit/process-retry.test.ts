/**
 * contract §5 "retry worker": one queued message, forwarded unchanged; permanent refusals to the
 * dead-letter queue; earlier releases' messages fitted, not refused; one record per message
 * however often SQS delivers it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CRM_TEXT_LIMITS, CrmPayloadSchema, ELLIPSIS } from '../../lambda/core/crm-payload-schema';
import type { ForwardResult, IdempotencyStore, RetryQueueMessage } from '../../lambda/core/ports';
import { processRetry, type RetryDeps } from '../../lambda/core/process-retry';
import { requestBudget } from '../../lambda/core/time-budget';
import { ROOT } from '../helpers/local-cli';
import { memoryIdempotency, NOW } from '../helpers/memory-ports';

const FIXTURES = join(ROOT, 'support/fixtures/retry-messages');
const previousRelease = (): RetryQueueMessage => JSON.parse(readFileSync(join(FIXTURES, 'previous-release.json'), 'utf8'));
const message = previousRelease();
const budget = requestBudget(NOW, undefined, 30_000);

function world(
  result: ForwardResult = { ok: true, attempts: 1 },
  deadLetter: 'ok' | 'fail' | 'none' = 'ok',
  idempotency?: IdempotencyStore,
) {
  const forwarded: unknown[] = [];
  const dead: string[] = [];
  const deps: RetryDeps = {
    crm: {
      forward: async (p) => {
        forwarded.push(p);
        return result;
      },
    },
    deadLetter:
      deadLetter === 'none'
        ? undefined
        : async (body: string) => {
            if (deadLetter === 'fail') throw new Error('DLQ down');
            dead.push(body);
          },
    idempotency,
    now: () => NOW,
  };
  return { forwarded, dead, deps };
}

describe('processRetry', () => {
  it.each<[string, ForwardResult, 'ok' | 'fail' | 'none', string, number]>([
    ['delivered', { ok: true, attempts: 1 }, 'ok', 'delivered', 0],
    ['transient failure → retry', { ok: false, attempts: 3, lastError: 'HTTP 503', permanent: false }, 'ok', 'retry', 0],
    ['permanent failure → dead letter', { ok: false, attempts: 1, lastError: 'HTTP 400', permanent: true }, 'ok', 'dead_letter', 1],
    ['permanent failure, DLQ down → retry', { ok: false, attempts: 1, lastError: 'HTTP 400', permanent: true }, 'fail', 'retry', 0],
    [
      'permanent failure, no DLQ configured → retry',
      { ok: false, attempts: 1, lastError: 'HTTP 400', permanent: true },
      'none',
      'retry',
      0,
    ],
  ])('%s', async (_name, result, dlq, verdict, deadCount) => {
    const w = world(result, dlq);
    const outcome = await processRetry({ body: JSON.stringify(message), messageId: 'm1' }, w.deps, budget);
    expect(outcome.verdict).toBe(verdict);
    expect(w.forwarded).toEqual([message.crmPayload]);
    expect(w.dead).toHaveLength(deadCount);
    expect(outcome.facts.crmTo).toBe('+********156');
  });

  it('adds the new attempts to the dead-lettered message', async () => {
    const w = world({ ok: false, attempts: 1, lastError: 'HTTP 422', permanent: true });
    await processRetry({ body: JSON.stringify(message) }, w.deps, budget);
    expect(JSON.parse(w.dead[0]!)).toEqual({ ...message, attempts: 4, lastError: 'HTTP 422' });
  });

  it.each([
    ['not JSON', 'nope'],
    ['a JSON array', '[]'],
    ['JSON without crmPayload', '{"eventType":"post_call_transcription"}'],
    ['a crmPayload that is not an object', '{"crmPayload":"held"}'],
    ['a crmPayload that is a list', '{"crmPayload":[1,2]}'],
  ])('dead-letters %s unread, without calling the CRM', async (_name, body) => {
    const w = world();
    const outcome = await processRetry({ body, messageId: 'm1' }, w.deps, budget);
    expect(outcome).toMatchObject({ verdict: 'dead_letter', facts: { outcome: 'unreadable' } });
    expect(w.forwarded).toEqual([]);
    expect(w.dead).toEqual([body]);
  });
});

describe('processRetry: messages an earlier release queued are fitted and delivered (contract §5)', () => {
  it.each(readdirSync(FIXTURES).filter((f) => f.endsWith('.json')))('%s is delivered unchanged', async (file) => {
    const kept = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as RetryQueueMessage;
    const w = world();
    const outcome = await processRetry({ body: JSON.stringify(kept) }, w.deps, budget);
    expect(outcome.verdict).toBe('delivered');
    expect(outcome.facts.fitted).toBeUndefined();
    expect(w.forwarded).toEqual([kept.crmPayload]);
  });

  const payload = message.crmPayload;
  it.each<[string, Record<string, unknown>, Record<string, unknown>, string]>([
    [
      'a 25,000-character summary is cut to the bound',
      { summary: 's'.repeat(25_000) },
      { summary: `${'s'.repeat(CRM_TEXT_LIMITS.summary - 1)}${ELLIPSIS}` },
      'summary',
    ],
    ['a fractional duration is rounded down', { duration: 84.9 }, { duration: 84 }, 'duration'],
    ['a negative duration is 0', { duration: -3 }, { duration: 0 }, 'duration'],
    ['a duration as a numeric string', { duration: '61' }, { duration: 61 }, 'duration'],
    ['a day and more is capped', { duration: 100_000 }, { duration: 86_400 }, 'duration'],
    ['an unreadable duration is 0', { duration: 'long' }, { duration: 0 }, 'duration'],
    ['a long subject is cut', { subject: 'x'.repeat(300) }, { subject: `${'x'.repeat(199)}${ELLIPSIS}` }, 'subject'],
    ['a missing name is Unknown', { name: undefined }, { name: 'Unknown' }, 'name'],
    ['a numeric to is Unknown', { to: 61491570156 }, { to: 'Unknown' }, 'to'],
    ['a missing summary gets the default', { summary: null }, { summary: 'No summary available.' }, 'summary'],
    ['a missing subject gets the default', { subject: undefined }, { subject: 'Conversational AI call' }, 'subject'],
    ['status spelled no-answer', { status: 'no-answer' }, { status: 'no answer' }, 'status'],
    ['status spelled NO_ANSWER', { status: 'NO_ANSWER' }, { status: 'no answer' }, 'status'],
    ['an unknown status makes a human look: failed', { status: 'maybe' }, { status: 'failed' }, 'status'],
    ['an extra field is dropped', { extra: 'x' }, {}, ''],
    ['a wrong type is replaced', { type: 'somethingElse' }, { type: 'conversationAICall' }, ''],
  ])('%s', async (_name, change, expected, fittedField) => {
    const raw = { ...payload, ...change };
    const w = world();
    const outcome = await processRetry({ body: JSON.stringify({ ...message, crmPayload: raw }) }, w.deps, budget);
    expect(outcome.verdict).toBe('delivered');
    const sent = w.forwarded[0] as Record<string, unknown>;
    expect(CrmPayloadSchema.parse(sent)).toEqual(sent);
    expect(sent).toEqual({ ...payload, ...expected });
    if (fittedField) expect(outcome.facts.fitted?.split(',')).toContain(fittedField);
  });

  it.each(['attempts', 'lastError', 'firstAttemptAt', 'eventType', 'conversationId'])(
    'defaults a missing envelope field (%s) and delivers',
    async (field) => {
      const partial: Record<string, unknown> = { ...message };
      delete partial[field];
      const w = world({ ok: false, attempts: 1, lastError: 'HTTP 400', permanent: true });
      const outcome = await processRetry({ body: JSON.stringify(partial) }, w.deps, budget);
      expect(w.forwarded).toEqual([payload]);
      expect(outcome.verdict).toBe('dead_letter');
      // The dead-lettered copy is a whole message again, readable by the next release.
      expect(Object.keys(JSON.parse(w.dead[0]!)).sort()).toEqual(Object.keys(message).sort());
    },
  );

  it('never logs a value it fitted, only the field name', async () => {
    const w = world();
    const outcome = await processRetry(
      { body: JSON.stringify({ ...message, crmPayload: { ...payload, name: 'N'.repeat(400), summary: 'secret summary '.repeat(2_000) } }) },
      w.deps,
      budget,
    );
    expect(outcome.facts.fitted).toBe('name,summary');
    expect(JSON.stringify(outcome.facts)).not.toMatch(/NNN|secret summary/);
  });
});

describe('processRetry: one CRM record per queued message (contract §5, SQS is at-least-once)', () => {
  const body = JSON.stringify(message);

  it('delivers once and acknowledges a redelivery of the same message without forwarding', async () => {
    const store = memoryIdempotency();
    const w = world({ ok: true, attempts: 1 }, 'ok', store);
    const first = await processRetry({ body, messageId: 'msg-1' }, w.deps, budget);
    const again = await processRetry({ body, messageId: 'msg-1' }, w.deps, budget);
    expect([first.verdict, again.verdict]).toEqual(['delivered', 'deduplicated']);
    expect(w.forwarded).toHaveLength(1);
    expect(store.records.get('retry#msg-1')).toBe('completed');
  });

  it('delivers two messages with the same payload but different ids (two queued failures are two records)', async () => {
    const w = world({ ok: true, attempts: 1 }, 'ok', memoryIdempotency());
    await processRetry({ body, messageId: 'msg-1' }, w.deps, budget);
    await processRetry({ body, messageId: 'msg-2' }, w.deps, budget);
    expect(w.forwarded).toHaveLength(2);
  });

  it('hands back a redelivery while the first delivery is still in flight', async () => {
    const store = memoryIdempotency();
    let release!: () => void;
    const slow: RetryDeps = {
      ...world(undefined, 'ok', store).deps,
      crm: { forward: () => new Promise<ForwardResult>((resolve) => (release = () => resolve({ ok: true, attempts: 1 }))) },
    };
    const first = processRetry({ body, messageId: 'msg-1' }, slow, budget);
    await new Promise((resolve) => setImmediate(resolve));
    const concurrent = await processRetry({ body, messageId: 'msg-1' }, slow, budget);
    expect(concurrent.verdict).toBe('retry');
    expect(concurrent.facts.error).toMatch(/another invocation/);
    release();
    expect((await first).verdict).toBe('delivered');
  });

  it('releases the claim when the CRM fails, so the next delivery tries again', async () => {
    const store = memoryIdempotency();
    const w = world({ ok: false, attempts: 3, lastError: 'HTTP 503', permanent: false }, 'ok', store);
    expect((await processRetry({ body, messageId: 'msg-1' }, w.deps, budget)).verdict).toBe('retry');
    expect(store.records.has('retry#msg-1')).toBe(false);
    expect((await processRetry({ body, messageId: 'msg-1' }, w.deps, budget)).verdict).toBe('retry');
    expect(w.forwarded).toHaveLength(2);
  });

  it('forwards anyway when the table fails, and says so', async () => {
    const failing: IdempotencyStore = {
      claim: async () => {
        throw new Error('DynamoDB down');
      },
      complete: async () => undefined,
      release: async () => undefined,
    };
    const w = world({ ok: true, attempts: 1 }, 'ok', failing);
    const outcome = await processRetry({ body, messageId: 'msg-1' }, w.deps, budget);
    expect(outcome.verdict).toBe('delivered');
    expect(outcome.facts.idempotencyError).toContain('DynamoDB down');
    expect(w.forwarded).toHaveLength(1);
  });

  it('still answers delivered when only the completion write fails', async () => {
    const store = { ...memoryIdempotency(), complete: async () => Promise.reject(new Error('UpdateItem timed out')) };
    const w = world({ ok: true, attempts: 1 }, 'ok', store);
    const outcome = await processRetry({ body, messageId: 'msg-1' }, w.deps, budget);
    expect(outcome).toMatchObject({ verdict: 'delivered', facts: { idempotencyError: 'Error: UpdateItem timed out' } });
  });
});
