/**
 * Wires the reconciler (contract §12), run by an EventBridge Scheduler schedule: one run per
 * invocation, one log line with its metrics. A failed run (the listing could not be completed,
 * a conversation could not be checked, invalid configuration) emits `ReconcileFailed` and ends
 * the invocation with an error, so it shows in the function's own Errors metric too.
 */
import { createElevenLabsApi } from './adapters/elevenlabs-api';
import { createS3CallLedger } from './adapters/event-archive';
import { createS3FirstRunMarker } from './adapters/first-run-marker';
import { audioCheckQueueOver, createSqsSender, type QueueSenderFactory } from './adapters/queue';
import { createApiKeySource } from './adapters/secrets';
import { createTelemetry, type LineWriter } from './adapters/telemetry';
import type { Env } from './config/env-fields';
import { loadReconcilerConfig, type ReconcilerConfig } from './config/reconciler-config';
import { ConfigurationError, describeError } from './core/errors';
import { reconcileMetrics } from './core/metrics';
import { type ReconcileDeps, type ReconcileResult, reconcile } from './core/reconcile';
import { RECONCILER_TIMEOUT_MS, requestBudget } from './core/time-budget';

export type ReconcilerHandler = (event?: unknown, context?: { getRemainingTimeInMillis?: () => number }) => Promise<ReconcileResult>;

export interface ReconcilerOverrides {
  deps?: Partial<ReconcileDeps>;
  write?: LineWriter;
  /** How a queue URL is sent to: SQS by default; `npm start`'s folder queues locally. */
  queueSender?: QueueSenderFactory;
}

/** A failed run, thrown so the invocation fails (after its log line and metric). */
export class ReconcileFailedError extends Error {
  constructor(reason: string) {
    super(`reconcile failed: ${reason}`);
    this.name = 'ReconcileFailedError';
  }
}

export function createReconciler(env: Env, overrides: ReconcilerOverrides = {}): ReconcilerHandler {
  const telemetry = createTelemetry(overrides.write);
  let deps: ReconcileDeps;
  let config: ReconcilerConfig;
  try {
    config = loadReconcilerConfig(env);
    deps = buildDeps(config, overrides);
  } catch (error) {
    const detail = error instanceof ConfigurationError ? error.detail : describeError(error);
    telemetry.log('error', 'invalid configuration', { error: detail });
    return async () => {
      telemetry.logWithMetrics(
        'error',
        'reconcile run',
        { outcome: 'failed', reason: 'invalid configuration' },
        reconcileMetrics({ listed: 0, scheduled: 0, failed: true }),
      );
      throw new ReconcileFailedError(`invalid configuration: ${detail}`);
    };
  }

  return async (_event, context) => {
    const started = deps.now();
    const budget = requestBudget(started, context?.getRemainingTimeInMillis?.(), RECONCILER_TIMEOUT_MS);
    const result = await reconcile(deps, config.window, budget);
    const counts = 'counts' in result ? result.counts : undefined;
    const window = 'window' in result ? result.window : undefined;
    telemetry.logWithMetrics(
      result.kind === 'failed' ? 'error' : 'info',
      'reconcile run',
      {
        outcome: result.kind,
        reason: result.kind === 'failed' ? result.reason : result.kind === 'off' ? 'no ElevenLabs API key: reconciling is off' : undefined,
        windowStart: window ? iso(window.afterUnixSeconds) : undefined,
        windowEnd: window ? iso(window.beforeUnixSeconds) : undefined,
        firstRun: 'firstRunUnixSecs' in result ? iso(result.firstRunUnixSecs) : undefined,
        ...counts,
        latencyMs: deps.now() - started,
      },
      reconcileMetrics({ listed: counts?.listed ?? 0, scheduled: counts?.scheduled ?? 0, failed: result.kind === 'failed' }),
    );
    if (result.kind === 'failed') throw new ReconcileFailedError(result.reason);
    return result;
  };
}

function buildDeps(config: ReconcilerConfig, overrides: ReconcilerOverrides): ReconcileDeps {
  const now = overrides.deps?.now ?? Date.now;
  const location = { bucket: config.audioBucket, ...config.s3 };
  const sender = overrides.queueSender ?? createSqsSender;
  return {
    apiKey: createApiKeySource({ ...config.apiKey, now }),
    elevenLabs: createElevenLabsApi({ baseUrl: config.elevenLabsApiBaseUrl, now }),
    ledger: createS3CallLedger(location),
    checks: audioCheckQueueOver(sender(config.audioCheckQueueUrl)),
    marker: createS3FirstRunMarker(location),
    now,
    allowedAgentIds: config.allowedAgentIds,
    ...overrides.deps,
  };
}

function iso(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString();
}
