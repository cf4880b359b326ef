/**
 * Wires the audio worker (contract §10, §12): an SQS batch of call checks in, `batchItemFailures`
 * out naming only the checks that must come back. Each check is the call check of
 * core/call-check.ts: the CRM record (with ARCHIVE_EVENTS=true), then the recording. Records are
 * checked one after another (each may stream a recording of hundreds of MB; memory stays bounded
 * by one upload's parts). A check that must come back is first hidden for longer on each
 * receive (core/retry-schedule.ts), as in the retry worker. One log line with metrics per record.
 */
import type { SQSRecord } from 'aws-lambda';
import { createCrmForwarder } from './adapters/crm-client';
import { createElevenLabsApi } from './adapters/elevenlabs-api';
import { createS3CallLedger, createS3EventArchive } from './adapters/event-archive';
import { createDynamoIdempotencyStore } from './adapters/idempotency-store';
import { createSqsSender, type QueueSenderFactory, retryQueueOver, smsQueueOver, type VisibilityChanger } from './adapters/queue';
import { createS3RecordingStore } from './adapters/recording-store';
import { createApiKeySource } from './adapters/secrets';
import { createTelemetry, type LineWriter, type LogFields, type LogLevel, type Telemetry } from './adapters/telemetry';
import { type AudioWorkerConfig, loadAudioWorkerConfig } from './config/audio-worker-config';
import type { Env } from './config/env-fields';
import { parseAudioCheckMessage } from './core/audio-check';
import { type CallCheckDeps, type CallCheckOutcome, checkCall, isUnexpectedStatus, type RecordCheckDeps } from './core/call-check';
import { callCheckMetrics } from './core/metrics';
import { AUDIO_CHECK_MIN_TIME_MS, AUDIO_WORKER_TIMEOUT_MS, callDeadline, type RequestBudget } from './core/time-budget';
import { backOff, createSqsWorker, receiveCountOf, type SqsWorkerHandler, visibilityChangerFor } from './sqs-worker';

export type AudioWorkerHandler = SqsWorkerHandler;

export interface AudioWorkerDeps extends CallCheckDeps {
  delayRetry?: VisibilityChanger;
}

export interface AudioWorkerOverrides {
  deps?: Partial<AudioWorkerDeps>;
  write?: LineWriter;
  /** How a queue URL is sent to: SQS by default; `npm start` adds its folder queues. */
  queueSender?: QueueSenderFactory;
  crm?: { backoffBaseMs?: number };
}

export function createAudioWorker(env: Env, overrides: AudioWorkerOverrides = {}): AudioWorkerHandler {
  const telemetry = createTelemetry(overrides.write);
  return createSqsWorker<AudioWorkerDeps>({
    telemetry,
    timeoutMs: AUDIO_WORKER_TIMEOUT_MS,
    // One check at a time: each may stream a recording of hundreds of MB.
    order: { serial: true, minTimeMs: AUDIO_CHECK_MIN_TIME_MS },
    build: () => callCheckDeps(loadAudioWorkerConfig(env), overrides),
    handle: (record, deps, budget) => handleRecord(record, deps, budget, telemetry),
  });
}

/** The call check's parts, built as the worker builds them (also for `npm run backfill`). */
export function callCheckDeps(config: AudioWorkerConfig, overrides: AudioWorkerOverrides = {}): AudioWorkerDeps {
  const now = overrides.deps?.now ?? Date.now;
  const location = { bucket: config.audioBucket, ...config.s3 };
  return {
    recordings: createS3RecordingStore({ ...location, now }),
    apiKey: createApiKeySource({ ...config.apiKey, now }),
    elevenLabs: createElevenLabsApi({ baseUrl: config.elevenLabsApiBaseUrl, now }),
    delayRetry: visibilityChangerFor(config.audioCheckQueueUrl),
    now,
    allowedAgentIds: config.allowedAgentIds,
    record: config.record ? recordDeps(config.record, location, now, overrides) : undefined,
    ...overrides.deps,
  };
}

/** contract §12: what the record half needs to deliver a record as the receiver does. */
function recordDeps(
  record: NonNullable<AudioWorkerConfig['record']>,
  location: Parameters<typeof createS3EventArchive>[0],
  now: () => number,
  overrides: AudioWorkerOverrides,
): RecordCheckDeps {
  const sender = overrides.queueSender ?? createSqsSender;
  return {
    ledger: createS3CallLedger(location),
    archive: createS3EventArchive(location),
    delivery: {
      crm: createCrmForwarder({ ...record.crm, now, ...overrides.crm }),
      retryQueue: record.retryQueueUrl ? retryQueueOver(sender(record.retryQueueUrl)) : undefined,
      now,
    },
    idempotency: record.idempotencyTable ? createDynamoIdempotencyStore(record.idempotencyTable) : undefined,
    crmMapping: record.crmMapping,
    textBack: record.textBack && { queue: smsQueueOver(sender(record.textBack.queueUrl)), onStatuses: record.textBack.onStatuses },
  };
}

/** Checks one record; true when it must come back. */
async function handleRecord(record: SQSRecord, deps: AudioWorkerDeps, budget: RequestBudget, telemetry: Telemetry): Promise<boolean> {
  const { now } = deps;
  const receiveCount = receiveCountOf(record);
  const message = parseAudioCheckMessage(String(record.body ?? ''));
  if (!message) {
    // Can never succeed: let it reach the dead-letter queue (alarmed) without waiting.
    if (deps.delayRetry && record.receiptHandle) {
      await deps.delayRetry(record.receiptHandle, 0, callDeadline('visibilityChange', now(), budget.deadlineMs)).catch(() => undefined);
    }
    telemetry.log('error', 'call check', {
      messageId: record.messageId,
      receiveCount,
      outcome: 'unreadable',
      error: 'message is not a call check',
    });
    return true;
  }
  const started = now();
  const outcome = await checkCall(message, deps, budget);
  const { record: recordHalf, recording } = outcome;
  const comesBack = recordHalf?.kind === 'retry' || recording?.kind === 'retry';
  const atLeast = Math.max(retryAfterOf(recordHalf), retryAfterOf(recording));
  const backoff = comesBack ? await backOff(record, deps.delayRetry, budget.deadlineMs, now, atLeast) : {};
  telemetry.logWithMetrics(
    levelOf(outcome),
    'call check',
    {
      messageId: record.messageId,
      receiveCount,
      conversationId: message.conversationId,
      agentId: message.agentId,
      ...recordFields(outcome),
      outcome: outcome.otherAgent ? 'skipped' : recording?.kind,
      key: recording?.key,
      bytes: recording?.kind === 'recovered' ? recording.bytes : undefined,
      reason: outcome.otherAgent
        ? 'agent not in ALLOWED_AGENT_IDS'
        : recording?.kind === 'missing' || recording?.kind === 'retry'
          ? recording.reason
          : undefined,
      idempotencyError: outcome.idempotencyError,
      ...backoff,
      latencyMs: now() - started,
    },
    callCheckMetrics(outcome),
  );
  return comesBack;
}

function retryAfterOf(half: { kind: string; retryAfterSeconds?: number } | undefined): number {
  return half?.kind === 'retry' ? (half.retryAfterSeconds ?? 0) : 0;
}

/** The record half in the log line: ids, statuses and reasons only (contract §7: the number masked). */
function recordFields({ record }: CallCheckOutcome): LogFields {
  if (!record) return {};
  switch (record.kind) {
    case 'recovered':
      return {
        record: record.kind,
        crmStatus: record.crmStatus,
        crmTo: record.crmTo,
        crmAttempts: record.attempts,
        delivery: record.delivery,
        archive: record.archive,
        archiveError: record.archiveError,
        recordReason: record.lastError,
        textBack: record.textBack,
        textBackError: record.textBackError,
      };
    case 'missing':
    case 'retry':
      return { record: record.kind, recordReason: record.reason };
    case 'not_ended':
      return { record: record.kind, recordReason: `conversation status is ${record.status}` };
    default:
      return { record: record.kind };
  }
}

/** warn when something is missing or must come back; info otherwise. */
function levelOf({ record, recording }: CallCheckOutcome): LogLevel {
  const worrying = (kind: string | undefined) => kind === 'missing' || kind === 'retry';
  const strangeStatus = record?.kind === 'not_ended' && isUnexpectedStatus(record.status);
  return worrying(record?.kind) || worrying(recording?.kind) || strangeStatus ? 'warn' : 'info';
}
