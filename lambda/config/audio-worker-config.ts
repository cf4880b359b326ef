/**
 * The audio worker's configuration (contract §8, §10, §12), also read by `npm run backfill`. The
 * worker runs the call check: the recording half always, the record half with
 * ARCHIVE_EVENTS=true (the stack's default), which then needs what the receiver needs to deliver
 * a record: the CRM, the retry queue on Lambda, the CRM mapping settings and, for deduplication
 * against webhooks, the idempotency table.
 */
import * as z from 'zod/mini';
import type { CrmMappingConfig } from '../core/crm-payload';
import { CrmMappingEnvShape, crmMapping } from './crm-mapping-env';
import {
  AllowedAgentsEnvShape,
  ApiKeyEnvShape,
  booleanFlag,
  CrmEnvShape,
  type CrmSettings,
  callCheckSettings,
  type Env,
  httpUrl,
  optionalText,
  parseEnv,
  queueUrl,
  refuseFolderQueuesOnLambda,
  S3EnvShape,
  type S3Settings,
} from './env-fields';
import {
  requireSmsQueueWhenTexting,
  TextBackTriggerEnvShape,
  type TextBackTriggerSettings,
  textBackTriggerSettings,
} from './text-back-fields';

export interface AudioWorkerConfig {
  audioBucket: string;
  s3: S3Settings;
  /** The queue the worker drains: failed checks get a longer visibility there (backoff). */
  audioCheckQueueUrl?: string;
  /** ELEVENLABS_API_KEY_SECRET_ARN wins over ELEVENLABS_API_KEY; neither = recovery off. */
  apiKey: { secretArn?: string; plainKey?: string; cacheSeconds: number };
  elevenLabsApiBaseUrl: string;
  /** ALLOWED_AGENT_IDS: the call check leaves other agents' calls alone (contract §2 step 5). */
  allowedAgentIds?: ReadonlySet<string>;
  /** contract §12: the record half, present with ARCHIVE_EVENTS=true. */
  record?: {
    crm: CrmSettings;
    retryQueueUrl?: string;
    crmMapping: CrmMappingConfig;
    idempotencyTable?: string;
    /** contract §13: a recovered record of a missed outbound call queues its text-back too. */
    textBack?: TextBackTriggerSettings;
  };
}

const buildEnvSchema = () =>
  z.object({
    ...S3EnvShape,
    ...ApiKeyEnvShape,
    ...CrmMappingEnvShape,
    ...TextBackTriggerEnvShape,
    ...AllowedAgentsEnvShape,
    AUDIO_BUCKET: z.pipe(optionalText, z.string({ error: 'is required (the calls bucket recordings are stored in)' })),
    AUDIO_CHECK_QUEUE_URL: queueUrl,
    ARCHIVE_EVENTS: booleanFlag,
    // Required only with the record half (below), so the CRM settings are optional here.
    CRM_WEBHOOK_URL: z.pipe(optionalText, z.optional(httpUrl)),
    CRM_TIMEOUT_MS: CrmEnvShape.CRM_TIMEOUT_MS,
    CRM_MAX_ATTEMPTS: CrmEnvShape.CRM_MAX_ATTEMPTS,
    CRM_RETRY_QUEUE_URL: queueUrl,
    IDEMPOTENCY_TABLE: optionalText,
    AWS_LAMBDA_FUNCTION_NAME: optionalText,
  });

type AudioWorkerEnv = z.output<ReturnType<typeof buildEnvSchema>>;

/** What the worker needs on Lambda, and what the record half needs. */
function checkCombinations(env: AudioWorkerEnv, ctx: z.core.$RefinementCtx<AudioWorkerEnv>): void {
  const onLambda = Boolean(env.AWS_LAMBDA_FUNCTION_NAME);
  const require = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (onLambda && !env.AUDIO_CHECK_QUEUE_URL) require('AUDIO_CHECK_QUEUE_URL', 'is required on Lambda (the queue this worker drains)');
  if (env.ARCHIVE_EVENTS && !env.CRM_WEBHOOK_URL) {
    require('CRM_WEBHOOK_URL', 'is required with ARCHIVE_EVENTS=true (the call check delivers missing records)');
  }
  if (env.ARCHIVE_EVENTS && onLambda && !env.CRM_RETRY_QUEUE_URL) {
    require('CRM_RETRY_QUEUE_URL', 'is required on Lambda with ARCHIVE_EVENTS=true (where a failed forward waits)');
  }
}

function toAudioWorkerConfig(e: AudioWorkerEnv): AudioWorkerConfig {
  return {
    ...callCheckSettings(e),
    ...(e.ARCHIVE_EVENTS && e.CRM_WEBHOOK_URL
      ? {
          record: {
            crm: { url: e.CRM_WEBHOOK_URL, timeoutMs: e.CRM_TIMEOUT_MS, maxAttempts: e.CRM_MAX_ATTEMPTS },
            retryQueueUrl: e.CRM_RETRY_QUEUE_URL,
            crmMapping: crmMapping(e),
            idempotencyTable: e.IDEMPOTENCY_TABLE,
            textBack: textBackTriggerSettings(e),
          },
        }
      : {}),
  };
}

const buildSchema = () =>
  z.pipe(
    buildEnvSchema().check(
      z.superRefine(checkCombinations),
      z.superRefine(requireSmsQueueWhenTexting),
      refuseFolderQueuesOnLambda(['AUDIO_CHECK_QUEUE_URL', 'CRM_RETRY_QUEUE_URL', 'SMS_QUEUE_URL']),
    ),
    z.transform(toAudioWorkerConfig),
  );

let schema: ReturnType<typeof buildSchema> | undefined;

/** Parses the audio worker's environment (contract §8, §10, §12). */
export function loadAudioWorkerConfig(env: Env): AudioWorkerConfig {
  schema ??= buildSchema();
  return parseEnv(schema, env);
}
