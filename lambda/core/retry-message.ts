/**
 * The retry queue message of SPEC §5, read back by the retry worker. Anything that does not
 * match can never be delivered, so it goes to the dead-letter queue for a human to look at.
 */
import * as z from 'zod';
import { CRM_STATUSES, type CrmPayload } from './crm-payload';
import type { RetryQueueMessage } from './ports';

const CrmPayloadSchema = z.strictObject({
  type: z.literal('conversationAICall'),
  subject: z.string(),
  to: z.string(),
  name: z.string(),
  summary: z.string(),
  status: z.enum(CRM_STATUSES),
  duration: z.number().int().nonnegative(),
});

export const RetryQueueMessageSchema = z.object({
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
  return parsed.success ? { ...parsed.data, crmPayload: parsed.data.crmPayload as CrmPayload } : undefined;
}
