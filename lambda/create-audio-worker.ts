/**
 * Wires the audio worker (contract §10): an SQS batch of audio checks in, `batchItemFailures` out
 * naming only the checks that must come back. Records are checked one after another (each may
 * stream a recording of hundreds of MB; memory stays bounded by one upload's parts). A check
 * that must come back is first hidden for longer on each receive (core/retry-schedule.ts), as
 * in the retry worker. One log line with metrics per record.
 */
import type { SQSRecord } from 'aws-lambda';
import { createElevenLabsApi } from './adapters/elevenlabs-api';
import type { VisibilityChanger } from './adapters/queue';
import { createS3RecordingStore } from './adapters/recording-store';
import { createApiKeySource } from './adapters/secrets';
import { createTelemetry, type LineWriter, type LogLevel, type Telemetry } from './adapters/telemetry';
import { loadAudioWorkerConfig } from './config/audio-worker-config';
import type { Env } from './config/env-fields';
import { type AudioCheckDeps, type AudioCheckOutcome, checkRecording, parseAudioCheckMessage } from './core/audio-check';
import { ConfigurationError, describeError } from './core/errors';
import { audioCheckMetrics } from './core/metrics';
import { AUDIO_CHECK_MIN_TIME_MS, AUDIO_WORKER_TIMEOUT_MS, callDeadline, requestBudget } from './core/time-budget';
import { backOff, failEveryRecord, receiveCountOf, recordsOf, type SqsWorkerHandler, visibilityChangerFor } from './sqs-worker';

export type AudioWorkerHandler = SqsWorkerHandler;

export interface AudioWorkerDeps extends AudioCheckDeps {
  delayRetry?: VisibilityChanger;
}

export interface AudioWorkerOverrides {
  deps?: Partial<AudioWorkerDeps>;
  write?: LineWriter;
}

export function createAudioWorker(env: Env, overrides: AudioWorkerOverrides = {}): AudioWorkerHandler {
  const telemetry = createTelemetry(overrides.write);
  let deps: AudioWorkerDeps;
  try {
    deps = buildDeps(env, overrides);
  } catch (error) {
    const detail = error instanceof ConfigurationError ? error.detail : describeError(error);
    telemetry.log('error', 'invalid configuration', { error: detail });
    return async (event) => failEveryRecord(event);
  }

  return async (event, context) => {
    const now = deps.now ?? Date.now;
    const { deadlineMs } = requestBudget(now(), context?.getRemainingTimeInMillis?.(), AUDIO_WORKER_TIMEOUT_MS);
    const failures: { itemIdentifier: string }[] = [];
    for (const record of recordsOf(event)) {
      if (deadlineMs - now() < AUDIO_CHECK_MIN_TIME_MS) {
        failures.push({ itemIdentifier: record.messageId });
        continue;
      }
      if (await handleRecord(record, deps, deadlineMs, telemetry)) failures.push({ itemIdentifier: record.messageId });
    }
    return { batchItemFailures: failures };
  };
}

function buildDeps(env: Env, overrides: AudioWorkerOverrides): AudioWorkerDeps {
  const config = loadAudioWorkerConfig(env);
  const now = overrides.deps?.now ?? Date.now;
  return {
    recordings: createS3RecordingStore({ bucket: config.audioBucket, ...config.s3, now }),
    apiKey: createApiKeySource({ ...config.apiKey, now }),
    elevenLabs: createElevenLabsApi({ baseUrl: config.elevenLabsApiBaseUrl, now }),
    delayRetry: visibilityChangerFor(config.audioCheckQueueUrl),
    now,
    ...overrides.deps,
  };
}

/** Checks one record; true when it must come back. */
async function handleRecord(record: SQSRecord, deps: AudioWorkerDeps, deadlineMs: number, telemetry: Telemetry): Promise<boolean> {
  const now = deps.now ?? Date.now;
  const receiveCount = receiveCountOf(record);
  const message = parseAudioCheckMessage(String(record.body ?? ''));
  if (!message) {
    // Can never succeed: let it reach the dead-letter queue (alarmed) without waiting.
    if (deps.delayRetry && record.receiptHandle) {
      await deps.delayRetry(record.receiptHandle, 0, callDeadline('visibilityChange', now(), deadlineMs)).catch(() => undefined);
    }
    telemetry.log('error', 'audio check', {
      messageId: record.messageId,
      receiveCount,
      outcome: 'unreadable',
      error: 'message is not an audio check',
    });
    return true;
  }
  const started = now();
  const outcome = await checkRecording(message, deps, deadlineMs);
  const backoff = outcome.kind === 'retry' ? await backOff(record, deps.delayRetry, deadlineMs, now) : {};
  telemetry.logWithMetrics(
    LEVELS[outcome.kind],
    'audio check',
    {
      messageId: record.messageId,
      receiveCount,
      conversationId: message.conversationId,
      agentId: message.agentId,
      outcome: outcome.kind,
      key: outcome.key,
      bytes: outcome.kind === 'recovered' ? outcome.bytes : undefined,
      reason: outcome.kind === 'missing' || outcome.kind === 'retry' ? outcome.reason : undefined,
      ...backoff,
      latencyMs: now() - started,
    },
    audioCheckMetrics(outcome),
  );
  return outcome.kind === 'retry';
}

const LEVELS: Record<AudioCheckOutcome['kind'], LogLevel> = {
  already_stored: 'info',
  recovered: 'info',
  unavailable: 'info',
  missing: 'warn',
  retry: 'warn',
};
