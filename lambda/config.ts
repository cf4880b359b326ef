/**
 * Configuration (SPEC §8), parsed once from an injected environment. Errors name the
 * variable and never echo its value (a secret may sit in the environment).
 */
import type { BlockList } from 'node:net';
import * as z from 'zod';
import { parseNameFields } from './core/contact-name';
import { ConfigurationError } from './core/errors';
import { type CountryCode, DEFAULT_COUNTRY, parseDefaultCountry } from './core/phone-number';
import { parseSourceAllowlist } from './core/source-ip';

export const DEFAULT_CRM_SUBJECT = 'Conversational AI call';

export interface ReceiverConfig {
  webhookSecretArn?: string;
  webhookSecret?: string;
  secretCacheSeconds: number;
  crmWebhookUrl: string;
  crmTimeoutMs: number;
  crmMaxAttempts: number;
  crmRetryQueueUrl?: string;
  audioBucket?: string;
  signatureToleranceSeconds: number;
  sourceAllowlist?: BlockList;
  allowedAgentIds?: ReadonlySet<string>;
  crmDefaultSubject: string;
  crmSubjectsByAgent: Readonly<Record<string, string>>;
  /** CRM_NAME_FIELDS; undefined = the SPEC §5 list. */
  crmNameFields?: readonly string[];
  crmDefaultCountry: CountryCode;
  idempotencyTable?: string;
  /** SPEC §10: keep every verified transcription and failure event in the calls bucket. */
  archiveEvents: boolean;
  /** SPEC §10: where audio checks are scheduled (off when undefined), and after how long. */
  audioCheckQueueUrl?: string;
  audioCheckDelaySeconds: number;
  /** Path-style S3 addressing, for local S3 servers (SPEC §8). */
  s3ForcePathStyle: boolean;
  /** AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL): a local S3 server instead of AWS's. */
  s3Endpoint?: string;
  onLambda: boolean;
}


const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

function integer(defaultValue: number, min: number, max: number) {
  return optionalText.pipe(
    z
      .string()
      .regex(/^\d+$/, `must be a whole number between ${min} and ${max}`)
      .transform(Number)
      .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
      .optional()
      .transform((v) => v ?? defaultValue),
  );
}

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** SPEC §8: `true` or `false` (any case); anything else names the variable. */
const booleanFlag = optionalText.pipe(
  z
    .string()
    .transform((v) => v.toLowerCase())
    .pipe(z.enum(['true', 'false'], { error: 'must be true or false' }))
    .optional()
    .transform((v) => v === 'true'),
);

/** A comma list, or undefined when unset/empty. */
const commaList = optionalText.transform((v) =>
  v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter((s) => s !== ''),
);

/**
 * An SQS queue URL, or on a developer machine a `file:` folder queue. On Lambda nothing reads
 * a folder, so a `file:` URL there would quietly lose every queued payload: refused.
 */
const queueUrl = optionalText.pipe(z.url({ protocol: /^(https?|file)$/, error: 'must be an SQS queue URL or a file: URL' }).optional());

/** Adds an issue for every `file:` queue URL when running on Lambda (SPEC §8). */
function refuseFolderQueuesOnLambda(names: readonly string[]) {
  return (env: Record<string, unknown>, ctx: z.RefinementCtx) => {
    if (!env.AWS_LAMBDA_FUNCTION_NAME) return;
    for (const name of names) {
      const value = env[name];
      if (typeof value === 'string' && value.startsWith('file:')) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'is a file: folder queue, which nothing reads on Lambda; use the SQS queue URL' });
      }
    }
  };
}

/** Runs one of the core's own parsers (shared with the CDK stack) and reports its message. */
function parsedWith<T>(parse: (value: string) => T) {
  return (value: string, ctx: z.RefinementCtx<string>): T => {
    try {
      return parse(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  };
}

/** The CRM client's settings, shared by the receiver and the retry worker. */
const CrmEnvShape = {
  CRM_WEBHOOK_URL: optionalText.pipe(z.string({ error: 'is required' }).pipe(httpUrl)),
  CRM_TIMEOUT_MS: integer(5_000, 100, 12_000),
  CRM_MAX_ATTEMPTS: integer(3, 1, 10),
};

/**
 * The receiver's variables. Built on first use, so the retry worker's bundle, which shares this
 * file, leaves out what only the receiver parses (the phone-number library and its metadata).
 */
const buildEnvSchema = () => z
  .object({
    ...CrmEnvShape,
    WEBHOOK_SECRET_ARN: optionalText,
    ELEVENLABS_WEBHOOK_SECRET: optionalText,
    SECRET_CACHE_SECONDS: integer(300, 0, 86_400),
    CRM_RETRY_QUEUE_URL: queueUrl,
    AUDIO_BUCKET: optionalText,
    SIGNATURE_TOLERANCE_SECONDS: integer(1_800, 1, 86_400),
    ALLOWED_SOURCE_IPS: optionalText.transform((v, ctx) => {
      if (v === undefined) return undefined;
      try {
        return parseSourceAllowlist(v);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
    ALLOWED_AGENT_IDS: commaList.transform((ids) => (ids && ids.length > 0 ? new Set(ids) : undefined)),
    CRM_DEFAULT_SUBJECT: optionalText.transform((v) => v ?? DEFAULT_CRM_SUBJECT),
    CRM_SUBJECTS_BY_AGENT: optionalText.transform((v, ctx) => {
      if (v === undefined) return {};
      let json: unknown;
      try {
        json = JSON.parse(v);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object of agent id → subject' });
        return z.NEVER;
      }
      const parsed = z.record(z.string(), z.string()).safeParse(json);
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object whose values are strings' });
        return z.NEVER;
      }
      return parsed.data;
    }),
    // SPEC §5 name rule and number rule; the parsers name no value in their errors.
    CRM_NAME_FIELDS: optionalText.pipe(z.string().transform(parsedWith(parseNameFields)).optional()),
    CRM_DEFAULT_COUNTRY: optionalText.pipe(z.string().transform(parsedWith(parseDefaultCountry)).optional()),
    IDEMPOTENCY_TABLE: optionalText,
    ARCHIVE_EVENTS: booleanFlag,
    AUDIO_CHECK_QUEUE_URL: queueUrl,
    // SQS DelaySeconds is at most 900 (15 minutes).
    AUDIO_CHECK_DELAY_SECONDS: integer(600, 0, 900),
    AWS_LAMBDA_FUNCTION_NAME: optionalText,
    AWS_ENDPOINT_URL_S3: optionalText,
    AWS_ENDPOINT_URL: optionalText,
  })
  .superRefine((env, ctx) => {
    // On Lambda a failed forward has nowhere to go without the queue (SPEC §8).
    if (env.AWS_LAMBDA_FUNCTION_NAME && !env.CRM_RETRY_QUEUE_URL) {
      ctx.addIssue({ code: 'custom', path: ['CRM_RETRY_QUEUE_URL'], message: 'is required on Lambda' });
    }
    // The archive lives in the calls bucket (SPEC §8 AUDIO_BUCKET).
    if (env.ARCHIVE_EVENTS && !env.AUDIO_BUCKET) {
      ctx.addIssue({ code: 'custom', path: ['ARCHIVE_EVENTS'], message: 'needs AUDIO_BUCKET (the calls bucket the archive is written to)' });
    }
  })
  .superRefine(refuseFolderQueuesOnLambda(['CRM_RETRY_QUEUE_URL', 'AUDIO_CHECK_QUEUE_URL']));

let envSchema: ReturnType<typeof buildEnvSchema> | undefined;

export type Env = Readonly<Record<string, string | undefined>>;

function parseEnv<T extends z.ZodType>(schema: T, env: Env): z.output<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'} ${issue.message}`);
    throw new ConfigurationError([...new Set(problems)].join('; '));
  }
  return parsed.data;
}

/** Parses the receiver's environment; throws one `ConfigurationError` naming every bad variable. */
export function loadConfig(env: Env): ReceiverConfig {
  const e = parseEnv((envSchema ??= buildEnvSchema()), env);
  return {
    webhookSecretArn: e.WEBHOOK_SECRET_ARN,
    webhookSecret: e.ELEVENLABS_WEBHOOK_SECRET,
    secretCacheSeconds: e.SECRET_CACHE_SECONDS,
    crmWebhookUrl: e.CRM_WEBHOOK_URL,
    crmTimeoutMs: e.CRM_TIMEOUT_MS,
    crmMaxAttempts: e.CRM_MAX_ATTEMPTS,
    crmRetryQueueUrl: e.CRM_RETRY_QUEUE_URL,
    audioBucket: e.AUDIO_BUCKET,
    signatureToleranceSeconds: e.SIGNATURE_TOLERANCE_SECONDS,
    sourceAllowlist: e.ALLOWED_SOURCE_IPS,
    allowedAgentIds: e.ALLOWED_AGENT_IDS,
    crmDefaultSubject: e.CRM_DEFAULT_SUBJECT,
    crmSubjectsByAgent: e.CRM_SUBJECTS_BY_AGENT,
    crmNameFields: e.CRM_NAME_FIELDS,
    crmDefaultCountry: e.CRM_DEFAULT_COUNTRY ?? DEFAULT_COUNTRY,
    idempotencyTable: e.IDEMPOTENCY_TABLE,
    archiveEvents: e.ARCHIVE_EVENTS,
    audioCheckQueueUrl: e.AUDIO_CHECK_QUEUE_URL,
    audioCheckDelaySeconds: e.AUDIO_CHECK_DELAY_SECONDS,
    s3ForcePathStyle: Boolean(e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL),
    s3Endpoint: e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL,
    onLambda: Boolean(e.AWS_LAMBDA_FUNCTION_NAME),
  };
}

export interface RetryWorkerConfig {
  crmWebhookUrl: string;
  crmTimeoutMs: number;
  crmMaxAttempts: number;
  /** The queue the worker drains: failed records get a longer visibility there (SPEC §5 backoff). */
  retryQueueUrl?: string;
  /** Where permanently refused payloads go at once (the retry queue's DLQ). */
  deadLetterQueueUrl?: string;
}

const WorkerEnvSchema = z
  .object({
    ...CrmEnvShape,
    CRM_RETRY_QUEUE_URL: queueUrl,
    CRM_DEAD_LETTER_QUEUE_URL: queueUrl,
    AWS_LAMBDA_FUNCTION_NAME: optionalText,
  })
  .superRefine((env, ctx) => {
    // Without it a failing record comes back every visibility timeout and reaches the DLQ
    // within the hour instead of after a day of backoff.
    if (env.AWS_LAMBDA_FUNCTION_NAME && !env.CRM_RETRY_QUEUE_URL) {
      ctx.addIssue({ code: 'custom', path: ['CRM_RETRY_QUEUE_URL'], message: 'is required on Lambda (the queue this worker drains)' });
    }
  })
  .superRefine(refuseFolderQueuesOnLambda(['CRM_RETRY_QUEUE_URL', 'CRM_DEAD_LETTER_QUEUE_URL']));

/** Parses the retry worker's environment (the CRM settings plus the dead-letter queue). */
export function loadWorkerConfig(env: Env): RetryWorkerConfig {
  const e = parseEnv(WorkerEnvSchema, env);
  return {
    crmWebhookUrl: e.CRM_WEBHOOK_URL,
    crmTimeoutMs: e.CRM_TIMEOUT_MS,
    crmMaxAttempts: e.CRM_MAX_ATTEMPTS,
    retryQueueUrl: e.CRM_RETRY_QUEUE_URL,
    deadLetterQueueUrl: e.CRM_DEAD_LETTER_QUEUE_URL,
  };
}

export interface AudioWorkerConfig {
  audioBucket: string;
  /** The queue the worker drains: failed checks get a longer visibility there (backoff). */
  audioCheckQueueUrl?: string;
  apiKeySecretArn?: string;
  apiKey?: string;
  elevenLabsApiBaseUrl: string;
  secretCacheSeconds: number;
  s3ForcePathStyle: boolean;
  s3Endpoint?: string;
}

const AudioWorkerEnvSchema = z
  .object({
    AUDIO_BUCKET: optionalText.pipe(z.string({ error: 'is required (the calls bucket recordings are stored in)' })),
    AUDIO_CHECK_QUEUE_URL: queueUrl,
    ELEVENLABS_API_KEY_SECRET_ARN: optionalText,
    ELEVENLABS_API_KEY: optionalText,
    ELEVENLABS_API_BASE_URL: optionalText.pipe(httpUrl.optional()).transform((v) => (v ?? 'https://api.elevenlabs.io').replace(/\/+$/, '')),
    SECRET_CACHE_SECONDS: integer(300, 0, 86_400),
    AWS_LAMBDA_FUNCTION_NAME: optionalText,
    AWS_ENDPOINT_URL_S3: optionalText,
    AWS_ENDPOINT_URL: optionalText,
  })
  .superRefine((env, ctx) => {
    if (env.AWS_LAMBDA_FUNCTION_NAME && !env.AUDIO_CHECK_QUEUE_URL) {
      ctx.addIssue({ code: 'custom', path: ['AUDIO_CHECK_QUEUE_URL'], message: 'is required on Lambda (the queue this worker drains)' });
    }
  })
  .superRefine(refuseFolderQueuesOnLambda(['AUDIO_CHECK_QUEUE_URL']));

/** Parses the audio worker's environment (SPEC §8, §10). */
export function loadAudioWorkerConfig(env: Env): AudioWorkerConfig {
  const e = parseEnv(AudioWorkerEnvSchema, env);
  return {
    audioBucket: e.AUDIO_BUCKET,
    audioCheckQueueUrl: e.AUDIO_CHECK_QUEUE_URL,
    apiKeySecretArn: e.ELEVENLABS_API_KEY_SECRET_ARN,
    apiKey: e.ELEVENLABS_API_KEY,
    elevenLabsApiBaseUrl: e.ELEVENLABS_API_BASE_URL,
    secretCacheSeconds: e.SECRET_CACHE_SECONDS,
    s3ForcePathStyle: Boolean(e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL),
    s3Endpoint: e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL,
  };
}
