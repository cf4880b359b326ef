/**
 * The trigger's side of the missed-call text-back (contract §13), shared by the receiver and the
 * call check: decide with `textBackFor` and, for a call that earns a text, only queue
 * `{"to","name","subject","conversationId","status"}` on the SMS queue. The SMS worker sends it.
 * Never throws and never changes the webhook's answer: a text is a courtesy, the CRM record is
 * the call's record. The receiver runs this alongside the CRM forward, so its answer does not
 * wait on it (an SQS send is a few ms against the CRM's tens), and bounds it by its own deadline.
 */
import type { CrmPayload } from '../crm-payload-schema';
import { describeError } from '../errors';
import type { RecordEvent } from '../events';
import type { SmsQueue } from '../ports';
import { callDeadline } from '../time-budget';
import type { SmsStatus } from './sms-message';
import { type TextBackSkipReason, textBackFor } from './trigger';

export interface TextBackQueue {
  queue: SmsQueue;
  onStatuses: readonly SmsStatus[];
}

/** What became of a call's text-back: queued, not queued (the SQS send failed: counted as SmsFailed), or skipped by the rules. */
export interface TextBackQueued {
  textBack: 'queued' | 'not_queued' | TextBackSkipReason;
  /** Why the SQS send failed (`not_queued`), log-safe. */
  textBackError?: string;
}

export async function queueTextBack(
  event: RecordEvent,
  payload: CrmPayload,
  textBack: TextBackQueue,
  now: () => number,
  deadlineMs: number,
): Promise<TextBackQueued> {
  const trigger = textBackFor(event, payload, textBack.onStatuses);
  if (!trigger.send) return { textBack: trigger.reason };
  try {
    await textBack.queue.enqueue(trigger.message, callDeadline('queueSend', now(), deadlineMs));
    return { textBack: 'queued' };
  } catch (error) {
    return { textBack: 'not_queued', textBackError: describeError(error) };
  }
}
