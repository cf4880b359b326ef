/**
 * What the retry worker does with one queued message (contract §5): forward the stored CRM
 * payload unchanged; on a permanent refusal (4xx other than 408/429) hand it straight to the
 * dead-letter queue instead of burning the remaining receives against the CRM.
 *
 * One record per delivery: SQS delivers a message at least once, so the same message (same
 * `messageId`) can arrive twice, in one batch or in two invocations. With the idempotency table
 * the worker claims `retry#<messageId>` before forwarding and marks it completed after: a
 * redelivery of a delivered message is acknowledged without a second CRM record
 * (`Deduplicated`), and one still being delivered elsewhere comes back later. As in the
 * receiver (deduplicate.ts), the table never costs a record: unreachable, the message is
 * forwarded anyway (`IdempotencyUnavailable`). What stays open is the CRM accepting a record
 * and answering after our timeout: the one documented at-least-once case.
 *
 * Used by the SQS worker and by `npm start`'s local folder queue alike.
 */
import { describeError } from './errors';
import { maskPhone } from './mask';
import type { CrmForwarder, IdempotencyStore } from './ports';
import { parseRetryMessage } from './retry-message';
import { callDeadline, type RequestBudget, WORKER_WRITE_RESERVE_MS, withReserve } from './time-budget';

export interface RetryDeps {
  crm: CrmForwarder;
  /** Sends a message body to the dead-letter queue; without it, permanent failures retry until SQS moves them. */
  deadLetter?: (body: string, deadlineMs: number) => Promise<void>;
  /** IDEMPOTENCY_TABLE: one CRM record per queued message, however often SQS delivers it. */
  idempotency?: IdempotencyStore;
  now: () => number;
}

/** What becomes of the message: gone (delivered, a redelivery of a delivered one, or dead-lettered), or back later. */
export type RetryVerdict = 'delivered' | 'deduplicated' | 'retry' | 'dead_letter';

export interface RetryOutcome {
  verdict: RetryVerdict;
  facts: {
    outcome: 'delivered' | 'deduplicated' | 'retry' | 'dead_lettered' | 'unreadable';
    eventType?: string;
    conversationId?: string;
    crmTo?: string;
    crmAttempts?: number;
    /** Payload fields an earlier release wrote outside today's schema, fitted before forwarding (names only). */
    fitted?: string;
    idempotencyError?: string;
    error?: string;
  };
}

/** One SQS record as the worker reads it. */
export interface QueuedMessage {
  body: string;
  /** SQS's id of the message: the same on every delivery of it. */
  messageId?: string;
}

/** `budget`: when the batch must be answered, so one slow CRM cannot time the whole batch out. */
export async function processRetry({ body, messageId }: QueuedMessage, deps: RetryDeps, budget: RequestBudget): Promise<RetryOutcome> {
  const { now } = deps;
  const read = parseRetryMessage(body);
  if (!read) {
    // Not a CRM record at all: it can never be delivered, so a human should see it.
    const sent = deps.deadLetter
      ? await deps.deadLetter(body, callDeadline('queueSend', now(), budget.deadlineMs)).then(
          () => true,
          () => false,
        )
      : false;
    return { verdict: sent ? 'dead_letter' : 'retry', facts: { outcome: 'unreadable', error: 'message holds no crmPayload object' } };
  }
  const { message, fitted } = read;
  const facts: RetryOutcome['facts'] = {
    outcome: 'retry',
    eventType: message.eventType,
    conversationId: message.conversationId,
    crmTo: maskPhone(message.crmPayload.to),
    ...(fitted.length > 0 ? { fitted: fitted.join(',') } : {}),
  };
  const claim = deps.idempotency && messageId ? await claimDelivery(deps.idempotency, `retry#${messageId}`, budget, now, facts) : undefined;
  if (claim === 'completed') return { verdict: 'deduplicated', facts: { ...facts, outcome: 'deduplicated' } };
  if (claim === 'in_progress') {
    return { verdict: 'retry', facts: { ...facts, error: 'another invocation is delivering this message now' } };
  }

  const result = await deps.crm.forward(message.crmPayload, withReserve(budget.deadlineMs, WORKER_WRITE_RESERVE_MS, now()));
  facts.crmAttempts = result.attempts;
  if (result.ok) {
    if (claim)
      await settle(() => claim.store.complete(claim.key, now(), callDeadline('idempotencyWrite', now(), budget.deadlineMs)), facts);
    return { verdict: 'delivered', facts: { ...facts, outcome: 'delivered' } };
  }
  // Not delivered: forget the claim so the next delivery of the message tries again.
  if (claim) await settle(() => claim.store.release(claim.key, callDeadline('idempotencyWrite', now(), budget.deadlineMs)), facts);

  facts.error = `CRM: ${result.lastError}`;
  if (result.permanent && deps.deadLetter) {
    const updated = { ...message, attempts: message.attempts + result.attempts, lastError: result.lastError };
    try {
      await deps.deadLetter(JSON.stringify(updated), callDeadline('queueSend', now(), budget.deadlineMs));
      return { verdict: 'dead_letter', facts: { ...facts, outcome: 'dead_lettered' } };
    } catch (error) {
      facts.error += `; dead-letter queue refused: ${describeError(error)}`;
    }
  }
  return { verdict: 'retry', facts };
}

type Claim = 'completed' | 'in_progress' | { store: IdempotencyStore; key: string };

/**
 * Claims `key` until the worker's hard end. A table that fails or stalls is noted and the
 * message delivered anyway: a rare duplicate record beats a record that waits on DynamoDB.
 */
async function claimDelivery(
  store: IdempotencyStore,
  key: string,
  budget: RequestBudget,
  now: () => number,
  facts: RetryOutcome['facts'],
): Promise<Claim | undefined> {
  try {
    const startedAt = now();
    const claimed = await store.claim(key, {
      nowMs: startedAt,
      holdUntilMs: budget.hardEndMs,
      deadlineMs: callDeadline('idempotencyClaim', startedAt, budget.deadlineMs),
    });
    return claimed === 'claimed' ? { store, key } : claimed;
  } catch (error) {
    facts.idempotencyError = describeError(error);
    return undefined;
  }
}

async function settle(write: () => Promise<void>, facts: RetryOutcome['facts']): Promise<void> {
  await write().catch((error: unknown) => {
    facts.idempotencyError = describeError(error);
  });
}
