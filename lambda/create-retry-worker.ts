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
import { describeError } from './core/errors';
import { retryMetrics } from './core/metrics';
import { processRetry, type RetryDeps, type RetryOutcome } from './core/process-retry';
import { RETRY_WORKER_TIMEOUT_MS, type RequestBudget } from './core/time-budget';
import { backOff, createSqsWorker, receiveCountOf, type SqsWorkerHandler, visibilityChangerFor } from './sqs-worker';

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
  return createSqsWorker<RetryWorkerDeps>({
    telemetry,
    timeoutMs: RETRY_WORKER_TIMEOUT_MS,
    order: { parallel: true },
    build: () => {
      const config = loadWorkerConfig(env);
      return {
        crm: createCrmForwarder({ ...config.crm, ...overrides.crm }),
        deadLetter: config.deadLetterQueueUrl ? createSqsSender(config.deadLetterQueueUrl) : undefined,
        idempotency: config.idempotencyTable ? createDynamoIdempotencyStore(config.idempotencyTable) : undefined,
        delayRetry: visibilityChangerFor(config.retryQueueUrl),
        now: Date.now,
        ...overrides.deps,
      };
    },
    handle: (record, deps, budget) => handleRecord(record, deps, budget, telemetry),
  });
}

/** Forwards one record and logs it; true when it must come back. */
async function handleRecord(record: SQSRecord, deps: RetryWorkerDeps, budget: RequestBudget, telemetry: Telemetry): Promise<boolean> {
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
  return outcome.verdict === 'retry';
}
