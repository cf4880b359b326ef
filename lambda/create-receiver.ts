/**
 * Wires the receiver: configuration and adapters are built once per container (contract §8),
 * then each API Gateway event goes through the pure pipeline and comes back as a response
 * plus one log line that carries the metrics (contract §7).
 */
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { type ApiGatewayEvent, requestIdOf, toApiGatewayResult, toWebhookRequest } from './adapters/api-gateway';
import { createS3AudioStore } from './adapters/audio-store';
import { createCrmForwarder } from './adapters/crm-client';
import { createS3EventArchive } from './adapters/event-archive';
import { createDynamoIdempotencyStore } from './adapters/idempotency-store';
import { audioCheckQueueOver, createSqsSender, type QueueSenderFactory, retryQueueOver, smsQueueOver } from './adapters/queue';
import { createSecretSource } from './adapters/secrets';
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
  const telemetry = createTelemetry(overrides.write);
  let deps: WebhookDeps;
  try {
    deps = buildDeps(loadConfig(env), overrides);
  } catch (error) {
    // Reported once, at start, naming the variables (contract §8); every request then gets a 500.
    const detail = error instanceof ConfigurationError ? error.detail : describeError(error);
    telemetry.log('error', 'invalid configuration', { error: detail });
    const failure = error instanceof ConfigurationError ? error : new ConfigurationError(detail);
    return async (event, context) => {
      const { statusCode, body } = toErrorResponse(failure);
      report(telemetry, requestIdOf(event, context?.awsRequestId), 0, {
        statusCode,
        body,
        facts: { outcome: failure.kind, error: detail },
      });
      return toApiGatewayResult(statusCode, body);
    };
  }

  return async (event, context) => {
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
}

function buildDeps(config: ReceiverConfig, overrides: ReceiverOverrides): WebhookDeps {
  const now = overrides.deps?.now ?? Date.now;
  const { audioBucket, s3 } = config;
  const sender = overrides.queueSender ?? createSqsSender;
  return {
    config: config.pipeline,
    now,
    secrets: createSecretSource({ ...config.secret, now }),
    crm: createCrmForwarder({ ...config.crm, now, ...overrides.crm }),
    retryQueue: config.retryQueueUrl ? retryQueueOver(sender(config.retryQueueUrl)) : undefined,
    audioStore: audioBucket ? createS3AudioStore({ bucket: audioBucket, ...s3 }) : undefined,
    idempotency: config.idempotencyTable ? createDynamoIdempotencyStore(config.idempotencyTable) : undefined,
    archive: config.archiveEvents && audioBucket ? createS3EventArchive({ bucket: audioBucket, ...s3 }) : undefined,
    audioChecks: config.audioCheckQueueUrl ? audioCheckQueueOver(sender(config.audioCheckQueueUrl)) : undefined,
    textBack: config.textBack && { queue: smsQueueOver(sender(config.textBack.queueUrl)), onStatuses: config.textBack.onStatuses },
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
