/**
 * Wires the retry worker: an SQS batch in, `{"batchItemFailures": [...]}` out naming only the
 * records that must come back (contract §5; Lambda "Reporting batch item failures"). The same CRM
 * client and rules as the receiver; one log line with metrics per record. A record that must
 * come back is first hidden for longer on each receive (core/retry-schedule.ts), so the queue
 * keeps trying through a day of CRM outage before SQS moves it to the dead-letter queue.
 */
import type { SQSRecord } from 'aws-lambda';
import { createCrmForwarder } from './adapters/crm-client';
import { createDynamoIdempotencyStore } from './adapters/idempotency-store';
import { createSqsSender, type VisibilityChanger } from './adapters/queue';
import { createTelemetry, type LineWriter, type Telemetry } from './adapters/telemetry';
import type { Env } from './config/env-fields';
import { loadWorkerConfig } from './config/retry-worker-config';
import { ConfigurationError, describeError } from './core/errors';
import { retryMetrics } from './core/metrics';
import { processRetry, type RetryDeps, type RetryOutcome } from './core/process-retry';
import { RETRY_WORKER_TIMEOUT_MS, type RequestBudget, requestBudget } from './core/time-budget';
import { backOff, failEveryRecord, receiveCountOf, recordsOf, type SqsWorkerHandler, visibilityChangerFor } from './sqs-worker';

export type RetryWorkerHandler = SqsWorkerHandler;

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
      idempotency: config.idempotencyTable ? createDynamoIdempotencyStore(config.idempotencyTable) : undefined,
      delayRetry: visibilityChangerFor(config.retryQueueUrl),
      now: Date.now,
      ...overrides.deps,
    };
  } catch (error) {
    const detail = error instanceof ConfigurationError ? error.detail : describeError(error);
    telemetry.log('error', 'invalid configuration', { error: detail });
    return async (event) => failEveryRecord(event);
  }

  return async (event, context) => {
    const budget = requestBudget(deps.now(), context?.getRemainingTimeInMillis?.(), RETRY_WORKER_TIMEOUT_MS);
    const outcomes = await Promise.all(recordsOf(event).map((record) => handleRecord(record, deps, budget, telemetry)));
    return { batchItemFailures: outcomes.filter((o) => o.retry).map((o) => ({ itemIdentifier: o.id })) };
  };
}

async function handleRecord(record: SQSRecord, deps: RetryWorkerDeps, budget: RequestBudget, telemetry: Telemetry) {
  const receiveCount = receiveCountOf(record);
  let outcome: RetryOutcome;
  try {
    outcome = await processRetry({ body: String(record.body ?? ''), messageId: record.messageId }, deps, budget);
  } catch (error) {
    outcome = { verdict: 'retry', facts: { outcome: 'retry', error: describeError(error) } };
  }
  const backoff = outcome.verdict === 'retry' ? await backOff(record, deps.delayRetry, budget.deadlineMs, deps.now) : {};
  telemetry.logWithMetrics(
    outcome.verdict === 'delivered' || outcome.verdict === 'deduplicated' ? 'info' : 'warn',
    'retry record',
    { messageId: record.messageId, receiveCount, ...backoff, ...outcome.facts },
    retryMetrics(outcome),
  );
  return { id: record.messageId, retry: outcome.verdict === 'retry' };
}
