/**
 * Wires the retry worker: an SQS batch in, `{"batchItemFailures": [...]}` out naming only the
 * records that must come back (SPEC §5; Lambda "Reporting batch item failures"). The same CRM
 * client and rules as the receiver; one log line with metrics per record.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createCrmForwarder } from './adapters/crm-client';
import { createMessageSender } from './adapters/retry-queue';
import { createTelemetry, type LineWriter } from './adapters/telemetry';
import { type Env, loadWorkerConfig } from './config';
import { ConfigurationError, describeError } from './core/errors';
import { MetricName, type MetricValues } from './core/metrics';
import { processRetry, type RetryDeps, type RetryOutcome } from './core/process-retry';

export type RetryWorkerHandler = (event: SQSEvent, context?: Partial<Pick<Context, 'getRemainingTimeInMillis'>>) => Promise<SQSBatchResponse>;

/**
 * Kept back from Lambda's remaining time to answer the batch. A worker that times out reports
 * nothing, so SQS would redeliver the whole batch, delivered records included.
 */
export const BATCH_RESERVE_MS = 1_500;

export interface RetryWorkerOverrides {
  deps?: Partial<RetryDeps>;
  write?: LineWriter;
  crm?: { backoffBaseMs?: number };
}

export function createRetryWorker(env: Env, overrides: RetryWorkerOverrides = {}): RetryWorkerHandler {
  const telemetry = createTelemetry(overrides.write);
  let deps: RetryDeps;
  try {
    const config = loadWorkerConfig(env);
    deps = {
      crm: createCrmForwarder({
        url: config.crmWebhookUrl,
        timeoutMs: config.crmTimeoutMs,
        maxAttempts: config.crmMaxAttempts,
        ...overrides.crm,
      }),
      deadLetter: config.deadLetterQueueUrl ? createMessageSender(config.deadLetterQueueUrl) : undefined,
      ...overrides.deps,
    };
  } catch (error) {
    const detail = error instanceof ConfigurationError ? error.detail : describeError(error);
    telemetry.log('error', 'invalid configuration', { error: detail });
    // Nothing can be delivered: hand every record back; SQS moves them to the DLQ in time.
    return async (event) => ({ batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) });
  }

  return async (event, context) => {
    const remaining = context?.getRemainingTimeInMillis?.();
    const deadlineMs = remaining === undefined ? undefined : Date.now() + remaining - BATCH_RESERVE_MS;
    const outcomes = await Promise.all(
      event.Records.map(async (record) => {
        let outcome: RetryOutcome;
        try {
          outcome = await processRetry(record.body, deps, deadlineMs);
        } catch (error) {
          outcome = { verdict: 'retry', facts: { outcome: 'retry', error: describeError(error) } };
        }
        telemetry.logWithMetrics(
          outcome.verdict === 'delivered' ? 'info' : 'warn',
          'retry record',
          { messageId: record.messageId, receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 0), ...outcome.facts },
          metricsFor(outcome),
        );
        return { id: record.messageId, retry: outcome.verdict === 'retry' };
      }),
    );
    return { batchItemFailures: outcomes.filter((o) => o.retry).map((o) => ({ itemIdentifier: o.id })) };
  };
}

function metricsFor({ verdict, facts }: RetryOutcome): MetricValues {
  const values: MetricValues = {};
  if (facts.crmAttempts !== undefined && facts.crmAttempts > 1) values[MetricName.CrmForwardRetried] = facts.crmAttempts - 1;
  if (verdict === 'delivered') values[MetricName.CrmForwardSucceeded] = 1;
  else if (facts.crmAttempts !== undefined) values[MetricName.CrmForwardFailed] = 1;
  return values;
}
