/**
 * What the two SQS workers (the CRM retry worker and the audio worker) share: the handler's
 * shape, the records of an event, the receive count, the backoff on failure (contract §5, §10:
 * a failed record is hidden for longer on every receive, so a day of failures passes before the
 * dead-letter queue), and the answer when the worker cannot even start.
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createVisibilityChanger, type VisibilityChanger } from './adapters/queue';
import { describeError } from './core/errors';
import { retryDelaySeconds } from './core/retry-schedule';
import { callDeadline } from './core/time-budget';

export type SqsWorkerHandler = (event: SQSEvent, context?: Partial<Pick<Context, 'getRemainingTimeInMillis'>>) => Promise<SQSBatchResponse>;

/** The records of an event, or none when the event is not an SQS event at all. */
export function recordsOf(event: SQSEvent | undefined): SQSRecord[] {
  return Array.isArray(event?.Records) ? event.Records : [];
}

/** SQS's ApproximateReceiveCount: 1 on the first receive. */
export function receiveCountOf(record: SQSRecord): number {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isInteger(count) && count >= 1 ? count : 1;
}

/** With a configuration error nothing can be done: hand every record back; SQS moves them to the DLQ in time. */
export function failEveryRecord(event: SQSEvent | undefined): SQSBatchResponse {
  return { batchItemFailures: recordsOf(event).map((record) => ({ itemIdentifier: record.messageId })) };
}

/** The backoff's visibility changer for the queue a worker drains; none for `npm start`'s folder queues. */
export function visibilityChangerFor(queueUrl: string | undefined): VisibilityChanger | undefined {
  return queueUrl && !queueUrl.startsWith('file:') ? createVisibilityChanger(queueUrl) : undefined;
}

export interface Backoff {
  /** How long the record is hidden; undefined when the queue's own visibility timeout applies. */
  retryInSeconds?: number;
  /** Why the visibility could not be changed (the record still comes back, sooner). */
  backoffError?: string;
}

/** SQS's longest visibility timeout: 12 hours (SQS Developer Guide, "Visibility timeout"). */
const MAX_VISIBILITY_SECONDS = 43_200;

/**
 * Hides a failed record for `retryDelaySeconds(receive count)`, or at least `atLeastSeconds`
 * (a dependency's own Retry-After, contract §10), never more than 12 hours; bounded by the deadline.
 */
export async function backOff(
  record: SQSRecord,
  delayRetry: VisibilityChanger | undefined,
  deadlineMs: number,
  now: () => number,
  atLeastSeconds = 0,
): Promise<Backoff> {
  if (!delayRetry || !record.receiptHandle) return {};
  const retryInSeconds = Math.min(MAX_VISIBILITY_SECONDS, Math.max(retryDelaySeconds(receiveCountOf(record)), atLeastSeconds));
  try {
    await delayRetry(record.receiptHandle, retryInSeconds, callDeadline('visibilityChange', now(), deadlineMs));
    return { retryInSeconds };
  } catch (error) {
    return { backoffError: describeError(error) };
  }
}
