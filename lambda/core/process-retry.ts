/**
 * What the retry worker does with one queued message (contract §5): forward the stored CRM
 * payload unchanged; on a permanent refusal (4xx other than 408/429) hand it straight to the
 * dead-letter queue instead of burning the remaining receives against the CRM.
 * Used by the SQS worker and by `npm start`'s local folder queue alike.
 */
import { describeError } from './errors';
import { maskPhone } from './mask';
import type { CrmForwarder } from './ports';
import { parseRetryMessage, type RetryVerdict } from './retry-message';
import { callDeadline, WORKER_WRITE_RESERVE_MS, withReserve } from './time-budget';

export interface RetryDeps {
  crm: CrmForwarder;
  /** Sends a message body to the dead-letter queue; without it, permanent failures retry until SQS moves them. */
  deadLetter?: (body: string, deadlineMs: number) => Promise<void>;
  now?: () => number;
}

export interface RetryOutcome {
  verdict: RetryVerdict;
  facts: {
    outcome: 'delivered' | 'retry' | 'dead_lettered' | 'unreadable';
    eventType?: string;
    conversationId?: string;
    crmTo?: string;
    crmAttempts?: number;
    error?: string;
  };
}

/** `deadlineMs` (epoch ms): when the batch must be answered, so one slow CRM cannot time the whole batch out. */
export async function processRetry(body: string, deps: RetryDeps, deadlineMs: number): Promise<RetryOutcome> {
  const now = deps.now ?? Date.now;
  const message = parseRetryMessage(body);
  if (!message) {
    // Not ours, or damaged: it can never be delivered, so a human should see it.
    const sent = deps.deadLetter
      ? await deps.deadLetter(body, callDeadline('queueSend', now(), deadlineMs)).then(
          () => true,
          () => false,
        )
      : false;
    return { verdict: sent ? 'dead_letter' : 'retry', facts: { outcome: 'unreadable', error: 'message is not a retry queue message' } };
  }
  const facts: RetryOutcome['facts'] = {
    outcome: 'retry',
    eventType: message.eventType,
    conversationId: message.conversationId,
    crmTo: maskPhone(message.crmPayload.to),
  };
  const result = await deps.crm.forward(message.crmPayload, withReserve(deadlineMs, WORKER_WRITE_RESERVE_MS, now()));
  facts.crmAttempts = result.attempts;
  if (result.ok) return { verdict: 'delivered', facts: { ...facts, outcome: 'delivered' } };

  facts.error = `CRM: ${result.lastError}`;
  if (result.permanent && deps.deadLetter) {
    const updated = { ...message, attempts: message.attempts + result.attempts, lastError: result.lastError };
    try {
      await deps.deadLetter(JSON.stringify(updated), callDeadline('queueSend', now(), deadlineMs));
      return { verdict: 'dead_letter', facts: { ...facts, outcome: 'dead_lettered' } };
    } catch (error) {
      facts.error += `; dead-letter queue refused: ${describeError(error)}`;
    }
  }
  return { verdict: 'retry', facts };
}
