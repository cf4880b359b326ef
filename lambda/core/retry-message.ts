/**
 * The retry queue message of contract §5, read back by the retry worker. Anything that does not
 * match can never be delivered, so it goes to the dead-letter queue for a human to look at.
 * The payload is checked by the very schema the receiver's payloads are built to fit
 * (crm-payload-schema.ts), so whatever the receiver queues is accepted here.
 */
import * as z from 'zod';
import { CrmPayloadSchema } from './crm-payload-schema';
import type { RetryQueueMessage } from './ports';

const RetryQueueMessageSchema = z.object({
  crmPayload: CrmPayloadSchema,
  eventType: z.string(),
  conversationId: z.string(),
  attempts: z.number().int().nonnegative(),
  lastError: z.string(),
  firstAttemptAt: z.string(),
});

export type RetryVerdict = 'delivered' | 'retry' | 'dead_letter';

/** Parses a queue message body; undefined when it is not one of ours. */
export function parseRetryMessage(body: string): RetryQueueMessage | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = RetryQueueMessageSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
