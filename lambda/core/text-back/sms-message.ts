/**
 * The SMS queue's message (contract §13): exactly `{"to","name","subject","conversationId","status"}`,
 * sent by the receiver (or the call check) and read back by the SMS worker. One schema for both
 * sides, bounded like the CRM record it is cut from, so whatever the receiver queues the worker
 * reads. Read tolerantly: a field added by a later release is ignored, a status outside
 * `SMS_ON_STATUSES` is read (and skipped by the worker with a reason) rather than refused.
 */
import * as z from 'zod/mini';
import '../zod-messages';
import { CRM_TEXT_LIMITS, type CrmStatus } from '../crm-payload-schema';

/** The CRM statuses a text may follow (contract §13): never "held" or "failed". */
export const SMS_STATUSES = ['no answer', 'voicemail'] as const satisfies readonly CrmStatus[];
export type SmsStatus = (typeof SMS_STATUSES)[number];

/** The largest message body the worker reads: the bounds below, JSON-escaped, with room to spare. */
const MAX_MESSAGE_CHARS = 8_192;

const SmsQueueMessageSchema = z.object({
  to: z.string().check(z.maxLength(CRM_TEXT_LIMITS.to)),
  name: z.string().check(z.maxLength(CRM_TEXT_LIMITS.name)),
  subject: z.string().check(z.maxLength(CRM_TEXT_LIMITS.subject)),
  conversationId: z.string().check(z.minLength(1), z.maxLength(256)),
  status: z.enum(['held', 'no answer', 'voicemail', 'failed'] as const satisfies readonly CrmStatus[]),
});

export type SmsQueueMessage = z.output<typeof SmsQueueMessageSchema>;

/** The message in `body`, or undefined when it is not one (not JSON, a field missing or out of bounds). */
export function parseSmsQueueMessage(body: string): SmsQueueMessage | undefined {
  if (body.length > MAX_MESSAGE_CHARS) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = SmsQueueMessageSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/** The queue body: these five fields, in this order, nothing else. */
export function smsQueueBody(message: SmsQueueMessage): string {
  const { to, name, subject, conversationId, status } = message;
  return JSON.stringify({ to, name, subject, conversationId, status });
}
