/**
 * Wires the retry worker: an SQS batch in, `{"batchItemFailures": [...]}` out naming only the
 * records that must come back (contract §5; Lambda "Reporting batch item failures"). The same CRM
 * client and rules as the receiver; one log line with metrics per record. A record that must
 * come back is first hidden for longer on each receive (core/retry-schedule.ts), so the queue
 * keeps trying through a day of CRM outage before SQS moves it to the dead-letter queue.
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createCrmForwarder } from './adapters/crm-client';
import { createSqsSender, createVisibilityChanger, type VisibilityChanger } from './adapters/queue';
import { createTelemetry, type LineWriter, type Telemetry } from './adapters/telemetry';
import type { Env } from './config/env-fields';
import { loadWorkerConfig } from './config/retry-worker-config';
import { ConfigurationError, describeError } from './core/errors';
import { retryMetrics } from './core/metrics';
import { processRetry, type RetryDeps, type RetryOutcome } from './core/process-retry';
import { retryDelaySeconds } from './core/retry-schedule';
import { callDeadline, RETRY_WORKER_TIMEOUT_MS, requestBudget } from './core/time-budget';

export type RetryWorkerHandler = (
  event: SQSEvent,
  context?: Partial<Pick<Context, 'getRemainingTimeInMillis'>>,
) => Promise<SQSBatchResponse>;

export interface RetryWorkerDeps extends RetryDeps {
  /** Lengthens a failed record's visibility; without it SQS's own visibility timeout applies. */
  delayRetry?: VisibilityChanger;
}

export interface RetryWorkerOverrides {
  deps?: Partial<RetryWorkerDeps>;
  write?: LineWriter;
  crm?: { backoffBaseMs?: number };
}

export function createRetryWorker(env: Env, overrides: RetryWorkerOverrides = {}): RetryWorkerHandler {
  const telemetry = createTelemetry(overrides.write);
  let deps: RetryWorkerDeps;
  try {
    const config = loadWorkerConfig(env);
    deps = {
      crm: createCrmForwarder({ ...config.crm, ...overrides.crm }),
      deadLetter: config.deadLetterQueueUrl ? createSqsSender(config.deadLetterQueueUrl) : undefined,
      delayRetry:
        config.retryQueueUrl && !config.retryQueueUrl.startsWith('file:') ? createVisibilityChanger(config.retryQueueUrl) : undefined,
      ...overrides.deps,
    };
  } catch (error) {
    const detail = error instanceof ConfigurationError ? error.detail : describeError(error);
    telemetry.log('error', 'invalid configuration', { error: detail });
    // Nothing can be delivered: hand every record back; SQS moves them to the DLQ in time.
    return async (event) => ({ batchItemFailures: (event?.Records ?? []).map((r) => ({ itemIdentifier: r.messageId })) });
  }

  return async (event, context) => {
    const now = deps.now ?? Date.now;
    const { deadlineMs } = requestBudget(now(), context?.getRemainingTimeInMillis?.(), RETRY_WORKER_TIMEOUT_MS);
    const records = Array.isArray(event?.Records) ? event.Records : [];
    const outcomes = await Promise.all(records.map((record) => handleRecord(record, deps, deadlineMs, telemetry)));
    return { batchItemFailures: outcomes.filter((o) => o.retry).map((o) => ({ itemIdentifier: o.id })) };
  };
}

async function handleRecord(record: SQSRecord, deps: RetryWorkerDeps, deadlineMs: number, telemetry: Telemetry) {
  const now = deps.now ?? Date.now;
  const receiveCount = receiveCountOf(record);
  let outcome: RetryOutcome;
  try {
    outcome = await processRetry(String(record.body ?? ''), deps, deadlineMs);
  } catch (error) {
    outcome = { verdict: 'retry', facts: { outcome: 'retry', error: describeError(error) } };
  }
  let retryInSeconds: number | undefined;
  let backoffError: string | undefined;
  if (outcome.verdict === 'retry' && deps.delayRetry && record.receiptHandle) {
    retryInSeconds = retryDelaySeconds(receiveCount);
    try {
      await deps.delayRetry(record.receiptHandle, retryInSeconds, callDeadline('visibilityChange', now(), deadlineMs));
    } catch (error) {
      // The record still comes back, after the queue's own visibility timeout.
      backoffError = describeError(error);
      retryInSeconds = undefined;
    }
  }
  telemetry.logWithMetrics(
    outcome.verdict === 'delivered' ? 'info' : 'warn',
    'retry record',
    { messageId: record.messageId, receiveCount, retryInSeconds, backoffError, ...outcome.facts },
    retryMetrics(outcome),
  );
  return { id: record.messageId, retry: outcome.verdict === 'retry' };
}

/** SQS's ApproximateReceiveCount: 1 on the first receive. */
function receiveCountOf(record: SQSRecord): number {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isInteger(count) && count >= 1 ? count : 1;
}
