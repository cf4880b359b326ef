/**
 * The one scaffold every SQS worker (the CRM retry worker, the audio worker's call check, the SMS
 * worker) is built on: its parts built once per container, a configuration error reported once
 * and answered by handing every record back, the batch loop with one deadline, and
 * `batchItemFailures` naming only the records that must come back (Lambda, "Reporting batch item
 * failures"). Also what their records share: the receive count and the backoff on failure
 * (contract §5, §10: a failed record is hidden for longer on every receive, so a day of failures
 * passes before the dead-letter queue).
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createVisibilityChanger, type VisibilityChanger } from './adapters/queue';
import type { Telemetry } from './adapters/telemetry';
import { ConfigurationError, describeError } from './core/errors';
import { retryDelaySeconds } from './core/retry-schedule';
import { callDeadline, type RequestBudget, requestBudget } from './core/time-budget';

export type SqsWorkerHandler = (event: SQSEvent, context?: Partial<Pick<Context, 'getRemainingTimeInMillis'>>) => Promise<SQSBatchResponse>;

export interface SqsWorkerSpec<D extends { now: () => number }> {
  telemetry: Telemetry;
  /** Builds the worker's parts from its configuration, once per container; throws `ConfigurationError`. */
  build: () => D;
  /** The worker's Lambda timeout: its budget when Lambda does not say (local runs, tests). */
  timeoutMs: number;
  /** Handles one record and logs it; true when it must come back. Never throws. */
  handle: (record: SQSRecord, deps: D, budget: RequestBudget) => Promise<boolean>;
  /**
   * `parallel`: every record at once (short I/O each: CRM forwards). `serial`: one after another,
   * each started only with at least `minTimeMs` left (long work each: a recording, a text);
   * a record not started comes back like any failure.
   */
  order: { parallel: true } | { serial: true; minTimeMs: number };
}

export function createSqsWorker<D extends { now: () => number }>(spec: SqsWorkerSpec<D>): SqsWorkerHandler {
  let deps: D;
  try {
    deps = spec.build();
  } catch (error) {
    // Reported once, at start, naming the variables (contract §8); SQS moves the records to the DLQ in time.
    const detail = error instanceof ConfigurationError ? error.detail : describeError(error);
    spec.telemetry.log('error', 'invalid configuration', { error: detail });
    return async (event) => failEveryRecord(event);
  }
  return async (event, context) => {
    const budget = requestBudget(deps.now(), context?.getRemainingTimeInMillis?.(), spec.timeoutMs);
    const records = recordsOf(event);
    const comesBack: boolean[] = [];
    if ('parallel' in spec.order) {
      comesBack.push(...(await Promise.all(records.map((record) => spec.handle(record, deps, budget)))));
    } else {
      for (const record of records) {
        const timeLeft = budget.deadlineMs - deps.now();
        comesBack.push(timeLeft < spec.order.minTimeMs ? true : await spec.handle(record, deps, budget));
      }
    }
    return { batchItemFailures: records.filter((_, i) => comesBack[i]).map((record) => ({ itemIdentifier: record.messageId })) };
  };
}

/** The records of an event, or none when the event is not an SQS event at all. */
function recordsOf(event: SQSEvent | undefined): SQSRecord[] {
  return Array.isArray(event?.Records) ? event.Records : [];
}

/** SQS's ApproximateReceiveCount: 1 on the first receive. */
export function receiveCountOf(record: SQSRecord): number {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isInteger(count) && count >= 1 ? count : 1;
}

/** With a configuration error nothing can be done: hand every record back; SQS moves them to the DLQ in time. */
function failEveryRecord(event: SQSEvent | undefined): SQSBatchResponse {
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
