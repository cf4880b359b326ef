/**
 * What the SMS worker does with one queued message (contract §13), in this order:
 * 1. read it (not a text-back message → the dead-letter queue, `SmsFailed`);
 * 2. the trigger's rules again (a status outside SMS_ON_STATUSES, a number that is not E.164 →
 *    skipped: a message queued by an earlier release, or re-driven by hand);
 * 3. quiet hours → the message waits on the queue until they end (no claim is taken);
 * 4. once per number per window: claim `sms#<number>` in the idempotency table with the
 *    window as its TTL; a number already texted (or being texted right now) → skipped. Without a
 *    working table nothing is sent: the message comes back (a second text is worse than a late one);
 * 5. send. Sent or opted out → the claim is completed (the number is done for the window);
 *    throttled, 5xx, timed out → the claim is released and the message comes back with backoff;
 *    refused → the claim is released and the message goes to the dead-letter queue, `SmsFailed`.
 *
 * The one case that cannot be closed: SendTextMessage has no idempotency token, so a send that
 * timed out after AWS accepted it is retried and the contact may get the text twice.
 */
import { describeError } from '../errors';
import { maskPhone } from '../mask';
import { unreachable } from '../outcome';
import type { IdempotencyStore, SmsSender } from '../ports';
import { callDeadline, type RequestBudget, WORKER_WRITE_RESERVE_MS, withReserve } from '../time-budget';
import { type QuietHours, quietHoursEnd } from './quiet-hours';
import { parseSmsQueueMessage, type SmsStatus } from './sms-message';
import { fillTemplate, type SmsTemplate } from './template';
import { isTextable, type TextBackSkipReason } from './trigger';

export interface TextBackSettings {
  template: SmsTemplate;
  onStatuses: readonly SmsStatus[];
  /** SMS_MIN_HOURS_BETWEEN: the window of the once-per-number rule. */
  minHoursBetween: number;
  quietHours: QuietHours;
}

export interface TextBackDeps {
  settings: TextBackSettings;
  sms: SmsSender;
  claims: IdempotencyStore;
  /** Sends a body to the dead-letter queue; without it a refused text comes back until SQS moves it there. */
  deadLetter?: (body: string, deadlineMs: number) => Promise<void>;
  now: () => number;
}

/** What the log line says (never the number, the name or the text). */
export interface TextBackFacts {
  conversationId?: string;
  /** Masked: all but the last three digits hidden (contract §7). */
  to?: string;
  status?: string;
  reason?: string;
  error?: string;
  smsMessageId?: string;
  /** Characters in the text sent (its length, not its content). */
  textLength?: number;
  quietUntil?: string;
  claimError?: string;
}

export type TextBackOutcome =
  | { kind: 'sent'; facts: TextBackFacts }
  | { kind: 'skipped'; reason: TextBackSkipReason; facts: TextBackFacts }
  | { kind: 'opted_out'; facts: TextBackFacts }
  /** Quiet hours: hide the message until they end (epoch ms). */
  | { kind: 'deferred'; untilMs: number; facts: TextBackFacts }
  /** Refused for good (or unreadable); `deadLettered` false when the DLQ refused it too, so it comes back. */
  | { kind: 'failed'; deadLettered: boolean; facts: TextBackFacts }
  | { kind: 'retry'; facts: TextBackFacts };

/** True when SQS must deliver the message again (a batch item failure). */
export function comesBack(outcome: TextBackOutcome): boolean {
  return outcome.kind === 'deferred' || outcome.kind === 'retry' || (outcome.kind === 'failed' && !outcome.deadLettered);
}

/** `budget`: the invocation's; a claim holds until its hard end, so a crashed send never blocks a retry. */
export async function sendTextBack(body: string, deps: TextBackDeps, budget: RequestBudget): Promise<TextBackOutcome> {
  const { settings, now } = deps;
  const message = parseSmsQueueMessage(body);
  if (!message) return deadLetter(body, deps, budget, { reason: 'unreadable', error: 'message is not a text-back message' });
  const facts: TextBackFacts = { conversationId: message.conversationId, to: maskPhone(message.to), status: message.status };
  const textable = isTextable(message, settings.onStatuses);
  if (!textable.ok) return { kind: 'skipped', reason: textable.reason, facts: { ...facts, reason: textable.reason } };

  const quietUntil = quietHoursEnd(now(), settings.quietHours);
  if (quietUntil !== undefined) {
    return {
      kind: 'deferred',
      untilMs: quietUntil,
      facts: { ...facts, reason: 'quiet_hours', quietUntil: new Date(quietUntil).toISOString() },
    };
  }

  const key = `sms#${message.to}`;
  const ttlSeconds = settings.minHoursBetween * 3600;
  try {
    const claim = await deps.claims.claim(key, {
      nowMs: now(),
      holdUntilMs: budget.hardEndMs,
      deadlineMs: callDeadline('idempotencyClaim', now(), budget.deadlineMs),
      ttlSeconds,
    });
    if (claim !== 'claimed') return { kind: 'skipped', reason: 'recently_texted', facts: { ...facts, reason: 'recently_texted' } };
  } catch (error) {
    return { kind: 'retry', facts: { ...facts, reason: 'idempotency_unavailable', error: `idempotency table: ${describeError(error)}` } };
  }

  const text = fillTemplate(settings.template, message);
  facts.textLength = text.length;
  const sendBy = withReserve(budget.deadlineMs, WORKER_WRITE_RESERVE_MS, now());
  const result = await deps.sms
    .send({ to: message.to, body: text }, sendBy)
    .catch((error: unknown) => ({ kind: 'unavailable', error: describeError(error) }) as const);
  switch (result.kind) {
    case 'sent':
    case 'opted_out': {
      const claimError = await settle(() =>
        deps.claims.complete(key, now(), callDeadline('idempotencyWrite', now(), budget.deadlineMs), ttlSeconds),
      );
      const done = { ...facts, ...(claimError ? { claimError } : {}) };
      return result.kind === 'sent'
        ? { kind: 'sent', facts: { ...done, ...(result.messageId ? { smsMessageId: result.messageId } : {}) } }
        : { kind: 'opted_out', facts: { ...done, reason: 'opted_out' } };
    }
    case 'unavailable':
      await settle(() => deps.claims.release(key, callDeadline('idempotencyWrite', now(), budget.deadlineMs)));
      return { kind: 'retry', facts: { ...facts, reason: 'sms_unavailable', error: `SMS: ${result.error}` } };
    case 'refused':
      await settle(() => deps.claims.release(key, callDeadline('idempotencyWrite', now(), budget.deadlineMs)));
      return deadLetter(body, deps, budget, { ...facts, reason: 'sms_refused', error: `SMS: ${result.error}` });
    default:
      return unreachable(result);
  }
}

async function deadLetter(body: string, deps: TextBackDeps, budget: RequestBudget, facts: TextBackFacts): Promise<TextBackOutcome> {
  const send = deps.deadLetter;
  if (!send) return { kind: 'failed', deadLettered: false, facts };
  const error = await settle(() => send(body, callDeadline('queueSend', deps.now(), budget.deadlineMs)));
  return error
    ? { kind: 'failed', deadLettered: false, facts: { ...facts, error: `${facts.error}; dead-letter queue refused: ${error}` } }
    : { kind: 'failed', deadLettered: true, facts };
}

/** Runs a write whose failure must not change the outcome; returns why it failed, if it did. */
async function settle(write: () => Promise<void>): Promise<string | undefined> {
  try {
    await write();
    return undefined;
  } catch (error) {
    return describeError(error);
  }
}
