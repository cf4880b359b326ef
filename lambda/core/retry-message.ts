/**
 * The retry queue message of contract §5, read back by the retry worker (and the re-drive tool).
 *
 * A message may have been queued by an EARLIER release, up to 14 days ago (the queue's
 * retention), under an earlier CRM schema: a longer summary, a fractional duration, a missing
 * envelope field. Refusing it would move a real call's record to the dead-letter queue, and a
 * re-drive would loop it straight back there. So the worker fits what it reads with today's rules
 * (crm-payload-schema.ts `fitCrmPayload`, the same bounds the receiver builds to) and defaults
 * missing envelope fields; only a message with no `crmPayload` object at all cannot be a CRM
 * record and goes to the dead-letter queue unread (contract §5).
 * support/fixtures/retry-messages/ keeps the message this release queues, so the next schema
 * change is tested against it.
 */
import * as z from 'zod/mini';
import './zod-messages';
import { type FittedField, fitCrmPayload } from './crm-payload-schema';
import type { RetryQueueMessage } from './ports';

/** What an envelope field reads as when an earlier release did not write it (or wrote nonsense). */
const ENVELOPE_DEFAULTS = { eventType: 'unknown', conversationId: 'unknown', attempts: 0, lastError: '', firstAttemptAt: '' } as const;
/** Envelope text is an id, an error line or a timestamp: a longer value is not ours to keep whole. */
const MAX_ENVELOPE_TEXT = 1_000;

const text = (fallback: string) =>
  z._default(
    z.catch(
      z.pipe(
        z.string(),
        z.transform((value: string) => value.slice(0, MAX_ENVELOPE_TEXT)),
      ),
      fallback,
    ),
    fallback,
  );

const RetryEnvelopeSchema = z.object({
  crmPayload: z.custom<Record<string, unknown>>((value) => typeof value === 'object' && value !== null && !Array.isArray(value)),
  eventType: text(ENVELOPE_DEFAULTS.eventType),
  conversationId: text(ENVELOPE_DEFAULTS.conversationId),
  attempts: z._default(z.catch(z.number().check(z.int(), z.gte(0)), ENVELOPE_DEFAULTS.attempts), ENVELOPE_DEFAULTS.attempts),
  lastError: text(ENVELOPE_DEFAULTS.lastError),
  firstAttemptAt: text(ENVELOPE_DEFAULTS.firstAttemptAt),
});

export interface ReadRetryMessage {
  message: RetryQueueMessage;
  /** The payload fields that had to be fitted (names only: the values are personal data). */
  fitted: FittedField[];
}

/** Parses a queue message body; undefined only when it holds no `crmPayload` object (it can never be a record). */
export function parseRetryMessage(body: string): ReadRetryMessage | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = RetryEnvelopeSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const { crmPayload, ...envelope } = parsed.data;
  const { payload, fitted } = fitCrmPayload(crmPayload);
  return { message: { crmPayload: payload, ...envelope }, fitted };
}
