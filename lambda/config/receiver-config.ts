/**
 * The receiver's configuration (contract §8), parsed once from an injected environment straight
 * into the shape its parts take: the pipeline's settings, the secret source's, the CRM
 * client's, where S3 and the queues are. Built on first use, so the workers' bundles, which
 * share lambda/config/, leave out what only the receiver parses (the phone-number library).
 */
import * as z from 'zod/mini';
import type { PipelineConfig } from '../core/handle-webhook';
import { DEFAULT_AUDIO_CHECK_DELAY_SECONDS, MAX_AUDIO_CHECK_DELAY_SECONDS } from '../core/keep-call';
import { parseSourceAllowlist } from '../core/source-ip';
import { CrmMappingEnvShape, crmMapping } from './crm-mapping-env';
import {
  AllowedAgentsEnvShape,
  booleanFlag,
  CrmEnvShape,
  type CrmSettings,
  crmSettings,
  type Env,
  integer,
  optionalParsed,
  optionalText,
  parseEnv,
  queueUrl,
  refuseFolderQueuesOnLambda,
  S3EnvShape,
  type S3Settings,
  s3Location,
} from './env-fields';
import {
  requireSmsQueueWhenTexting,
  TextBackTriggerEnvShape,
  type TextBackTriggerSettings,
  textBackTriggerSettings,
} from './text-back-fields';

export interface ReceiverConfig {
  pipeline: PipelineConfig;
  /** WEBHOOK_SECRET_ARN wins over ELEVENLABS_WEBHOOK_SECRET (contract §8). */
  secret: { secretArn?: string; plainSecret?: string; cacheSeconds: number };
  crm: CrmSettings;
  retryQueueUrl?: string;
  /** The calls bucket: recordings under audio/, the event archive under calls/. */
  audioBucket?: string;
  s3: S3Settings;
  idempotencyTable?: string;
  /** contract §10: keep every verified transcription and failure event in the calls bucket. */
  archiveEvents: boolean;
  audioCheckQueueUrl?: string;
  /** contract §13: where text-backs are queued, and for which statuses; undefined = texting off. */
  textBack?: TextBackTriggerSettings;
  onLambda: boolean;
}

const buildEnvSchema = () =>
  z.object({
    ...CrmEnvShape,
    ...CrmMappingEnvShape,
    ...TextBackTriggerEnvShape,
    ...S3EnvShape,
    WEBHOOK_SECRET_ARN: optionalText,
    ELEVENLABS_WEBHOOK_SECRET: optionalText,
    SECRET_CACHE_SECONDS: integer(300, 0, 86_400),
    CRM_RETRY_QUEUE_URL: queueUrl,
    AUDIO_BUCKET: optionalText,
    SIGNATURE_TOLERANCE_SECONDS: integer(1_800, 1, 86_400),
    ALLOWED_SOURCE_IPS: optionalParsed(parseSourceAllowlist),
    ...AllowedAgentsEnvShape,
    IDEMPOTENCY_TABLE: optionalText,
    ARCHIVE_EVENTS: booleanFlag,
    AUDIO_CHECK_QUEUE_URL: queueUrl,
    AUDIO_CHECK_DELAY_SECONDS: integer(DEFAULT_AUDIO_CHECK_DELAY_SECONDS, 0, MAX_AUDIO_CHECK_DELAY_SECONDS),
    AWS_LAMBDA_FUNCTION_NAME: optionalText,
  });

type ReceiverEnv = z.output<ReturnType<typeof buildEnvSchema>>;

/** What no one variable can say wrong on its own. */
function checkCombinations(env: ReceiverEnv, ctx: z.core.$RefinementCtx<ReceiverEnv>): void {
  // On Lambda a failed forward has nowhere to go without the queue (contract §8).
  if (env.AWS_LAMBDA_FUNCTION_NAME && !env.CRM_RETRY_QUEUE_URL) {
    ctx.addIssue({ code: 'custom', path: ['CRM_RETRY_QUEUE_URL'], message: 'is required on Lambda' });
  }
  // The archive lives in the calls bucket (contract §8 AUDIO_BUCKET).
  if (env.ARCHIVE_EVENTS && !env.AUDIO_BUCKET) {
    ctx.addIssue({
      code: 'custom',
      path: ['ARCHIVE_EVENTS'],
      message: 'needs AUDIO_BUCKET (the calls bucket the archive is written to)',
    });
  }
}

function toReceiverConfig(e: ReceiverEnv): ReceiverConfig {
  return {
    pipeline: {
      signatureToleranceSeconds: e.SIGNATURE_TOLERANCE_SECONDS,
      sourceAllowlist: e.ALLOWED_SOURCE_IPS,
      allowedAgentIds: e.ALLOWED_AGENT_IDS,
      crmMapping: crmMapping(e),
      audioCheckDelaySeconds: e.AUDIO_CHECK_DELAY_SECONDS,
    },
    secret: { secretArn: e.WEBHOOK_SECRET_ARN, plainSecret: e.ELEVENLABS_WEBHOOK_SECRET, cacheSeconds: e.SECRET_CACHE_SECONDS },
    crm: crmSettings(e),
    retryQueueUrl: e.CRM_RETRY_QUEUE_URL,
    audioBucket: e.AUDIO_BUCKET,
    s3: s3Location(e),
    idempotencyTable: e.IDEMPOTENCY_TABLE,
    archiveEvents: e.ARCHIVE_EVENTS,
    audioCheckQueueUrl: e.AUDIO_CHECK_QUEUE_URL,
    textBack: textBackTriggerSettings(e),
    onLambda: Boolean(e.AWS_LAMBDA_FUNCTION_NAME),
  };
}

const buildReceiverSchema = () =>
  z.pipe(
    buildEnvSchema().check(
      z.superRefine(checkCombinations),
      z.superRefine(requireSmsQueueWhenTexting),
      refuseFolderQueuesOnLambda(['CRM_RETRY_QUEUE_URL', 'AUDIO_CHECK_QUEUE_URL', 'SMS_QUEUE_URL']),
    ),
    z.transform(toReceiverConfig),
  );

let receiverSchema: ReturnType<typeof buildReceiverSchema> | undefined;

/** Parses the receiver's environment; throws one `ConfigurationError` naming every bad variable. */
export function loadConfig(env: Env): ReceiverConfig {
  receiverSchema ??= buildReceiverSchema();
  return parseEnv(receiverSchema, env);
}
