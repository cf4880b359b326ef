/**
 * Wires the SMS worker (contract §13): an SQS batch of text-backs in, `batchItemFailures` out
 * naming only the texts that must come back. Texts are sent one after another (End User
 * Messaging limits each origination identity to a few messages a second). A text due in quiet
 * hours is hidden until they end; a text that failed for a while is hidden for longer on each
 * receive (core/retry-schedule.ts). One log line with metrics per record: the number masked,
 * never the name or the text.
 */
import type { SQSRecord } from 'aws-lambda';
import { createDynamoIdempotencyStore } from './adapters/idempotency-store';
import { createSqsSender, type VisibilityChanger } from './adapters/queue';
import { createSmsSender } from './adapters/sms';
import { createTelemetry, type LineWriter, type LogLevel, type Telemetry } from './adapters/telemetry';
import type { Env } from './config/env-fields';
import { loadSmsWorkerConfig } from './config/sms-worker-config';
import { describeError } from './core/errors';
import { smsMetrics } from './core/metrics';
import { comesBack, sendTextBack, type TextBackDeps, type TextBackOutcome } from './core/text-back/send-text-back';
import { callDeadline, type RequestBudget, SMS_RECORD_MIN_TIME_MS, SMS_WORKER_TIMEOUT_MS } from './core/time-budget';
import { type Backoff, backOff, createSqsWorker, receiveCountOf, type SqsWorkerHandler, visibilityChangerFor } from './sqs-worker';

/**
 * SQS takes a visibility timeout of at most 12 hours, counted from the receive
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html);
 * kept 15 minutes below it for the time between SQS's receive and this call. Longer quiet hours
 * take a second wait.
 */
export const MAX_QUIET_WAIT_SECONDS = 12 * 3600 - 15 * 60;

export interface SmsWorkerDeps extends TextBackDeps {
  delayRetry?: VisibilityChanger;
}

export interface SmsWorkerOverrides {
  deps?: Partial<SmsWorkerDeps>;
  write?: LineWriter;
}

export function createSmsWorker(env: Env, overrides: SmsWorkerOverrides = {}): SqsWorkerHandler {
  const telemetry = createTelemetry(overrides.write);
  return createSqsWorker<SmsWorkerDeps>({
    telemetry,
    timeoutMs: SMS_WORKER_TIMEOUT_MS,
    order: { serial: true, minTimeMs: SMS_RECORD_MIN_TIME_MS },
    build: () => buildDeps(env, overrides),
    handle: (record, deps, budget) => handleRecord(record, deps, budget, telemetry),
  });
}

function buildDeps(env: Env, overrides: SmsWorkerOverrides): SmsWorkerDeps {
  const config = loadSmsWorkerConfig(env);
  const now = overrides.deps?.now ?? Date.now;
  return {
    settings: config.settings,
    sms: createSmsSender({ originationIdentity: config.originationIdentity, configurationSet: config.configurationSet, now }),
    claims: createDynamoIdempotencyStore(config.idempotencyTable),
    deadLetter: config.deadLetterQueueUrl ? createSqsSender(config.deadLetterQueueUrl) : undefined,
    delayRetry: visibilityChangerFor(config.smsQueueUrl),
    now,
    ...overrides.deps,
  };
}

/** Sends (or skips, or defers) one record's text; true when it must come back. */
async function handleRecord(record: SQSRecord, deps: SmsWorkerDeps, budget: RequestBudget, telemetry: Telemetry): Promise<boolean> {
  const started = deps.now();
  let outcome: TextBackOutcome;
  try {
    outcome = await sendTextBack(String(record.body ?? ''), deps, budget);
  } catch (error) {
    outcome = { kind: 'retry', facts: { error: describeError(error) } };
  }
  const wait = await waitFor(outcome, record, deps, budget);
  telemetry.logWithMetrics(
    LEVELS[outcome.kind],
    'text back',
    {
      messageId: record.messageId,
      receiveCount: receiveCountOf(record),
      outcome: outcome.kind,
      ...outcome.facts,
      ...wait,
      latencyMs: deps.now() - started,
    },
    smsMetrics(outcome),
  );
  return comesBack(outcome);
}

/** How long a record that comes back stays hidden: until quiet hours end, or the backoff. */
async function waitFor(outcome: TextBackOutcome, record: SQSRecord, deps: SmsWorkerDeps, budget: RequestBudget): Promise<Backoff> {
  if (outcome.kind === 'retry' || (outcome.kind === 'failed' && !outcome.deadLettered)) {
    return backOff(record, deps.delayRetry, budget.deadlineMs, deps.now);
  }
  if (outcome.kind !== 'deferred' || !deps.delayRetry || !record.receiptHandle) return {};
  const retryInSeconds = Math.min(MAX_QUIET_WAIT_SECONDS, Math.max(1, Math.ceil((outcome.untilMs - deps.now()) / 1000)));
  try {
    await deps.delayRetry(record.receiptHandle, retryInSeconds, callDeadline('visibilityChange', deps.now(), budget.deadlineMs));
    return { retryInSeconds };
  } catch (error) {
    return { backoffError: describeError(error) };
  }
}

const LEVELS: Record<TextBackOutcome['kind'], LogLevel> = {
  sent: 'info',
  skipped: 'info',
  opted_out: 'info',
  deferred: 'info',
  retry: 'warn',
  failed: 'error',
};
