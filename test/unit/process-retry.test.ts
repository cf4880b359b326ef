import { describe, expect, it } from 'vitest';
import type { ForwardResult, RetryQueueMessage } from '../../lambda/core/ports';
import { processRetry } from '../../lambda/core/process-retry';

const message: RetryQueueMessage = {
  crmPayload: { type: 'conversationAICall', subject: 's', to: '+61413052898', name: 'n', summary: 'x', status: 'held', duration: 5 },
  eventType: 'post_call_transcription',
  conversationId: 'c1',
  attempts: 3,
  lastError: 'HTTP 503',
  firstAttemptAt: '2026-11-22T10:00:00.000Z',
};

function deps(result: ForwardResult, deadLetter: 'ok' | 'fail' | 'none' = 'ok') {
  const forwarded: unknown[] = [];
  const dead: string[] = [];
  return {
    forwarded,
    dead,
    deps: {
      crm: {
        forward: async (p: unknown) => {
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
    },
  };
}

const FAR = Number.MAX_SAFE_INTEGER;

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
    const world = deps(result, dlq);
    const outcome = await processRetry(JSON.stringify(message), world.deps, FAR);
    expect(outcome.verdict).toBe(verdict);
    expect(world.forwarded).toEqual([message.crmPayload]);
    expect(world.dead).toHaveLength(deadCount);
    expect(outcome.facts.crmTo).toBe('+********898');
  });

  it('adds the new attempts to the dead-lettered message', async () => {
    const world = deps({ ok: false, attempts: 1, lastError: 'HTTP 422', permanent: true });
    await processRetry(JSON.stringify(message), world.deps, FAR);
    expect(JSON.parse(world.dead[0]!)).toEqual({ ...message, attempts: 4, lastError: 'HTTP 422' });
  });

  it.each([
    ['not JSON', 'nope'],
    ['JSON of another shape', '{"crmPayload":{}}'],
    ['a payload with an extra field', JSON.stringify({ ...message, crmPayload: { ...message.crmPayload, extra: 1 } })],
    ['a payload with an unknown status', JSON.stringify({ ...message, crmPayload: { ...message.crmPayload, status: 'maybe' } })],
  ])('dead-letters %s without calling the CRM', async (_name, body) => {
    const world = deps({ ok: true, attempts: 1 });
    const outcome = await processRetry(body, world.deps, FAR);
    expect(outcome).toMatchObject({ verdict: 'dead_letter', facts: { outcome: 'unreadable' } });
    expect(world.forwarded).toEqual([]);
    expect(world.dead).toEqual([body]);
  });
});
