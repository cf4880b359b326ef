/**
 * contract §5 "Forwarding": forward a CRM payload; if the CRM keeps failing, queue the exact
 * payload for the retry worker; if the queue refuses too, the payload is not durable and the
 * caller must say so (the receiver answers 5xx, the replay tool exits non-zero). One function
 * for the receiver and `npm run replay`, so both follow the same rules.
 */
import type { CrmPayload } from './crm-payload';
import { describeError, ForwardNotDurableError } from './errors';
import type { CrmForwarder, RetryQueue } from './ports';
import { callDeadline, QUEUE_WRITE_RESERVE_MS, withReserve } from './time-budget';

export interface DeliveryDeps {
  crm: CrmForwarder;
  retryQueue?: RetryQueue;
  now: () => number;
}

export type Delivery = { kind: 'forwarded'; attempts: number } | { kind: 'queued'; attempts: number; lastError: string };

/** Throws `ForwardNotDurableError` when the payload is neither in the CRM nor in the queue. */
export async function deliverToCrm(
  payload: CrmPayload,
  about: { eventType: string; conversationId: string },
  deps: DeliveryDeps,
  deadlineMs: number,
): Promise<Delivery> {
  const firstAttemptMs = deps.now();
  const result = await deps.crm.forward(payload, withReserve(deadlineMs, QUEUE_WRITE_RESERVE_MS, firstAttemptMs));
  if (result.ok) return { kind: 'forwarded', attempts: result.attempts };
  if (!deps.retryQueue) {
    throw new ForwardNotDurableError(`CRM failed (${result.lastError}); no retry queue configured`, result.attempts);
  }
  try {
    await deps.retryQueue.enqueue(
      {
        crmPayload: payload,
        eventType: about.eventType,
        conversationId: about.conversationId,
        attempts: result.attempts,
        lastError: result.lastError,
        firstAttemptAt: new Date(firstAttemptMs).toISOString(),
      },
      callDeadline('queueSend', deps.now(), deadlineMs),
    );
  } catch (error) {
    throw new ForwardNotDurableError(`CRM failed (${result.lastError}); retry queue refused: ${describeError(error)}`, result.attempts);
  }
  return { kind: 'queued', attempts: result.attempts, lastError: result.lastError };
}
