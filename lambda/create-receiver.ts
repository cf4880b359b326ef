/**
 * Wires the receiver: configuration and adapters are built once per container (contract §8),
 * then each API Gateway event goes through the pure pipeline and comes back as a response
 * plus one log line that carries the metrics (contract §7). On Lambda (`initReceiver`) the
 * clients the first event needs are loaded during INIT and the secret fetch starts there
 * (SPEC §14); elsewhere (tests, `npm start`) each loads on first use.
 */
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { type ApiGatewayEvent, requestIdOf, toApiGatewayResult, toWebhookRequest } from './adapters/api-gateway';
import { createS3AudioStore } from './adapters/audio-store';
import { createCrmForwarder } from './adapters/crm-client';
import { createS3EventArchive } from './adapters/event-archive';
import { createDynamoIdempotencyStore } from './adapters/idempotency-store';
import type { Preloadable } from './adapters/lazy';
import { audioCheckQueueOver, createSqsSender, type QueueSenderFactory, retryQueueOver, smsQueueOver } from './adapters/queue';
import { createSecretSource, type SecretPrefetch } from './adapters/secrets';
import { createTelemetry, type LineWriter, type Telemetry } from './adapters/telemetry';
import type { Env } from './config/env-fields';
import { loadConfig, type ReceiverConfig } from './config/receiver-config';
import { ConfigurationError, describeError, toErrorResponse } from './core/errors';
import { handleWebhook, type WebhookDeps, type WebhookOutcome } from './core/handle-webhook';
import { requestMetrics } from './core/metrics';
import { levelOf } from './core/outcome';
import { eventTypeDimension } from './core/request-facts';
import { requestBudget } from './core/time-budget';

export type ReceiverHandler = (
  event: ApiGatewayEvent,
  context?: Partial<Pick<Context, 'awsRequestId' | 'getRemainingTimeInMillis'>>,
) => Promise<APIGatewayProxyResult>;

export interface ReceiverOverrides {
  /** Replace any adapter (tests, the local server). */
  deps?: Partial<Omit<WebhookDeps, 'config'>>;
  /** Where log lines go; stdout by default. */
  write?: LineWriter;
  /** Extra CRM client settings (shorter backoff in tests). */
  crm?: { backoffBaseMs?: number };
  /** How a queue URL is sent to: SQS by default; `npm start` adds its folder queues. */
  queueSender?: QueueSenderFactory;
}

export function createReceiver(env: Env, overrides: ReceiverOverrides = {}): ReceiverHandler {
  return buildReceiver(env, overrides).handler;
}

/**
 * The Lambda entry's receiver (SPEC §14). Lambda's INIT runs before the first event (with a full
 * CPU burst), so everything that event will need is loaded here. The secret fetch goes first:
 * the other clients start loading only once its request is under way, so their loading overlaps
 * its round trip instead of holding its request back (begun together, the loads took the CPU
 * and the request only left when the first event came, CPU profiles of bench figure 11's child;
 * on loopback the trip is ~1 ms and the gain within noise, on AWS it is the whole round trip).
 * Resolves once the clients are loaded; the secret's answer is not
 * awaited: a stalled Secrets Manager must not hold INIT, and the first request joins the fetch,
 * or retries a failed one within its own bound (contract §11, adapters/secrets.ts).
 */
export async function initReceiver(env: Env, overrides: InitOverrides = {}): Promise<ReceiverHandler> {
  const { handler, ahead } = buildReceiver(env, overrides);
  await ahead.secrets?.prefetch();
  if (env.NODE_COMPILE_CACHE && overrides.compileCacheDir === undefined) {
    // The stack's layer holds a cache made at deploy time for one runtime build and user (SPEC
    // §14, adapters/compile-cache.ts); after a runtime update it is not found, and Node, unable
    // to write under /opt, compiles as it would without one. Said once per container.
    createTelemetry(overrides.write).log('warn', 'compile cache not in use', {
      reason:
        'no cache for this runtime in NODE_COMPILE_CACHE (made for another Node build or user); a deploy that changes the receiver code or its runtime settings remakes it',
    });
  }
  await Promise.all(ahead.clients.map((client) => client.preload()));
  return handler;
}

export interface InitOverrides extends Pick<ReceiverOverrides, 'write'> {
  /** The folder Node reads its compile cache from, if it enabled one (`module.getCompileCacheDir()`). */
  compileCacheDir?: string;
}

/** What can be loaded before the first event: the secret source's first fetch and every configured client. */
interface Ahead {
  secrets?: SecretPrefetch;
  clients: Preloadable[];
}

function buildReceiver(env: Env, overrides: ReceiverOverrides): { handler: ReceiverHandler; ahead: Ahead } {
  const telemetry = createTelemetry(overrides.write);
  let deps: WebhookDeps;
  const ahead: Ahead = { clients: [] };
  try {
    deps = buildDeps(loadConfig(env), overrides, ahead);
  } catch (error) {
    // Reported once, at start, naming the variables (contract §8); every request then gets a 500.
    const detail = error instanceof ConfigurationError ? error.detail : describeError(error);
    telemetry.log('error', 'invalid configuration', { error: detail });
    const failure = error instanceof ConfigurationError ? error : new ConfigurationError(detail);
    const handler: ReceiverHandler = async (event, context) => {
      const { statusCode, body } = toErrorResponse(failure);
      report(telemetry, requestIdOf(event, context?.awsRequestId), 0, {
        statusCode,
        body,
        facts: { outcome: failure.kind, error: detail },
      });
      return toApiGatewayResult(statusCode, body);
    };
    return { handler, ahead: { clients: [] } };
  }

  const handler: ReceiverHandler = async (event, context) => {
    const started = performance.now();
    const requestId = requestIdOf(event, context?.awsRequestId);
    const budget = requestBudget(deps.now(), context?.getRemainingTimeInMillis?.());
    let outcome: WebhookOutcome;
    try {
      outcome = await handleWebhook({ ...toWebhookRequest(event), budget }, deps);
    } catch (error) {
      // handleWebhook maps its own errors; this only catches an event we could not even read.
      outcome = { ...toErrorResponse(error), facts: { outcome: 'internal_error', error: describeError(error) } };
    }
    report(telemetry, requestId, performance.now() - started, outcome);
    return toApiGatewayResult(outcome.statusCode, outcome.body, outcome.headers);
  };
  return { handler, ahead };
}

/** Builds the adapters and notes in `ahead` what `initReceiver` may load before the first event. */
function buildDeps(config: ReceiverConfig, overrides: ReceiverOverrides, ahead: Ahead): WebhookDeps {
  const now = overrides.deps?.now ?? Date.now;
  const { audioBucket, s3 } = config;
  const sender = overrides.queueSender ?? createSqsSender;
  const note = <T extends Partial<Preloadable>>(part: T): T => {
    if (part.preload) ahead.clients.push(part as T & Preloadable);
    return part;
  };
  const secrets = createSecretSource({ ...config.secret, now });
  ahead.secrets = secrets;
  return {
    config: config.pipeline,
    now,
    secrets,
    crm: note(createCrmForwarder({ ...config.crm, now, ...overrides.crm })),
    retryQueue: config.retryQueueUrl ? retryQueueOver(note(sender(config.retryQueueUrl))) : undefined,
    audioStore: audioBucket ? note(createS3AudioStore({ bucket: audioBucket, ...s3 })) : undefined,
    idempotency: config.idempotencyTable ? note(createDynamoIdempotencyStore(config.idempotencyTable)) : undefined,
    archive: config.archiveEvents && audioBucket ? note(createS3EventArchive({ bucket: audioBucket, ...s3 })) : undefined,
    audioChecks: config.audioCheckQueueUrl ? audioCheckQueueOver(note(sender(config.audioCheckQueueUrl))) : undefined,
    textBack: config.textBack && { queue: smsQueueOver(note(sender(config.textBack.queueUrl))), onStatuses: config.textBack.onStatuses },
    ...overrides.deps,
  };
}

function report(telemetry: Telemetry, requestId: string, latencyMs: number, outcome: WebhookOutcome): void {
  const { facts, statusCode } = outcome;
  telemetry.logWithMetrics(
    levelOf(facts.outcome),
    'webhook request',
    {
      requestId,
      type: facts.type,
      conversationId: facts.conversationId,
      agentId: facts.agentId,
      outcome: facts.outcome,
      statusCode,
      latencyMs: Math.round(latencyMs * 100) / 100,
      authenticatedBy: facts.authenticatedBy,
      crmStatus: facts.crmStatus,
      crmTo: facts.crmTo,
      crmAttempts: facts.crmAttempts,
      audioKey: facts.audioKey,
      audioBytes: facts.audioBytes,
      reason: facts.skipReason,
      idempotencyError: facts.idempotencyError,
      fromElevenLabs: facts.mismatchFromElevenLabs,
      secretStale: facts.secretStale,
      archive: facts.archive,
      archiveError: facts.archiveError,
      audioCheck: facts.audioCheck,
      audioCheckError: facts.audioCheckError,
      textBack: facts.textBack,
      textBackError: facts.textBackError,
      error: facts.error,
    },
    requestMetrics(facts),
    eventTypeDimension(facts.type),
  );
}
