/**
 * The pieces every entry point's configuration is parsed with (contract §8): zod field types for
 * environment variables, and the one place a failed parse becomes a `ConfigurationError` that
 * names every bad variable and never echoes a value (a secret may sit in the environment).
 * zod/mini, as everywhere in lambda/ (core/zod-messages.ts says why).
 */
import * as z from 'zod/mini';
import { DEFAULT_ELEVENLABS_API_BASE_URL } from '../core/audio-check';
import { ConfigurationError } from '../core/errors';
import '../core/zod-messages';

export type Env = Readonly<Record<string, string | undefined>>;

/** Unset and blank read as undefined; values are trimmed. */
export const optionalText = z.pipe(
  z.optional(z.string()),
  z.transform((v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim())),
);

/** A whole number within [min, max], or `defaultValue` when unset. */
export function integer(defaultValue: number, min: number, max: number) {
  const whole = z.pipe(
    z.pipe(z.string().check(z.regex(/^\d+$/, `must be a whole number between ${min} and ${max}`)), z.transform(Number)),
    z.number().check(z.gte(min, `must be at least ${min}`), z.lte(max, `must be at most ${max}`)),
  );
  return z.pipe(
    optionalText,
    z.pipe(
      z.optional(whole),
      z.transform((v: number | undefined) => v ?? defaultValue),
    ),
  );
}

export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** `true` or `false` (any case); anything else names the variable. */
export const booleanFlag = z.pipe(
  optionalText,
  z.pipe(
    z.optional(
      z.pipe(
        z.pipe(
          z.string(),
          z.transform((v: string) => v.toLowerCase()),
        ),
        z.enum(['true', 'false'], { error: 'must be true or false' }),
      ),
    ),
    z.transform((v: 'true' | 'false' | undefined) => v === 'true'),
  ),
);

/** A comma list, or undefined when unset/empty. */
const commaList = z.pipe(
  optionalText,
  z.transform((v: string | undefined) =>
    v === undefined
      ? undefined
      : v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
  ),
);

/**
 * An SQS queue URL, or on a developer machine a `file:` folder queue. On Lambda nothing reads
 * a folder, so a `file:` URL there would quietly lose every queued payload: refused.
 */
export const queueUrl = z.pipe(
  optionalText,
  z.optional(z.url({ protocol: /^(https?|file)$/, error: 'must be an SQS queue URL or a file: URL' })),
);

/** Adds an issue for every `file:` queue URL when running on Lambda (contract §8); a check for `.check()`. */
export function refuseFolderQueuesOnLambda(names: readonly string[]) {
  return z.superRefine((env: Record<string, unknown>, ctx) => {
    if (!env.AWS_LAMBDA_FUNCTION_NAME) return;
    for (const name of names) {
      const value = env[name];
      if (typeof value === 'string' && value.startsWith('file:')) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'is a file: folder queue, which nothing reads on Lambda; use the SQS queue URL',
        });
      }
    }
  });
}

/**
 * A transform that runs one of the core's own parsers (shared with the CDK stack) and reports
 * the message it throws as the variable's issue (the parsers name no value in their errors).
 */
export function parsedWith<I, T>(parse: (value: I) => T) {
  return z.transform((value: I, payload): T => {
    try {
      return parse(value);
    } catch (error) {
      payload.issues.push({ code: 'custom', message: (error as Error).message, input: value });
      return z.NEVER;
    }
  });
}

/** An optional variable read by one of the core's own parsers; unset or blank is undefined. */
export function optionalParsed<T>(parse: (value: string) => T) {
  return z.pipe(optionalText, z.optional(z.pipe(z.string(), parsedWith(parse))));
}

/** The CRM client's settings (contract §5), shared by the receiver, the retry worker and replay. */
export const CrmEnvShape = {
  CRM_WEBHOOK_URL: z.pipe(optionalText, z.pipe(z.string({ error: 'is required' }), httpUrl)),
  CRM_TIMEOUT_MS: integer(5_000, 100, 12_000),
  CRM_MAX_ATTEMPTS: integer(3, 1, 10),
};

export interface CrmSettings {
  url: string;
  timeoutMs: number;
  maxAttempts: number;
}

export function crmSettings(e: { CRM_WEBHOOK_URL: string; CRM_TIMEOUT_MS: number; CRM_MAX_ATTEMPTS: number }): CrmSettings {
  return { url: e.CRM_WEBHOOK_URL, timeoutMs: e.CRM_TIMEOUT_MS, maxAttempts: e.CRM_MAX_ATTEMPTS };
}

/** The ElevenLabs API settings the audio worker, the reconciler and the backfill share (contract §8). */
/**
 * ALLOWED_AGENT_IDS (contract §2 step 5, §8): only these agents' calls are this deployment's. The
 * receiver skips the others' events, and the call check and the reconciler leave their calls
 * alone, or the reconciler would find every one of them "missing" and deliver it.
 */
export const AllowedAgentsEnvShape = {
  ALLOWED_AGENT_IDS: z.pipe(
    commaList,
    z.transform((ids: string[] | undefined) => (ids && ids.length > 0 ? (new Set(ids) as ReadonlySet<string>) : undefined)),
  ),
};

interface CallCheckEnv {
  AUDIO_BUCKET: string;
  AWS_ENDPOINT_URL_S3?: string;
  AWS_ENDPOINT_URL?: string;
  AUDIO_CHECK_QUEUE_URL?: string;
  ELEVENLABS_API_KEY_SECRET_ARN?: string;
  ELEVENLABS_API_KEY?: string;
  SECRET_CACHE_SECONDS: number;
  ELEVENLABS_API_BASE_URL: string;
  ALLOWED_AGENT_IDS?: ReadonlySet<string>;
}

/**
 * What the audio worker's call check and the reconciler both read (contract §12): the calls
 * bucket, the audio-check queue, the ElevenLabs API and its key, and the agents that are this
 * deployment's. One mapping, so a setting added to one is added to both.
 */
export function callCheckSettings<E extends CallCheckEnv>(e: E) {
  return {
    audioBucket: e.AUDIO_BUCKET,
    s3: s3Location(e),
    audioCheckQueueUrl: e.AUDIO_CHECK_QUEUE_URL as E['AUDIO_CHECK_QUEUE_URL'],
    apiKey: { secretArn: e.ELEVENLABS_API_KEY_SECRET_ARN, plainKey: e.ELEVENLABS_API_KEY, cacheSeconds: e.SECRET_CACHE_SECONDS },
    elevenLabsApiBaseUrl: e.ELEVENLABS_API_BASE_URL,
    allowedAgentIds: e.ALLOWED_AGENT_IDS,
  };
}

export const ApiKeyEnvShape = {
  ELEVENLABS_API_KEY_SECRET_ARN: optionalText,
  ELEVENLABS_API_KEY: optionalText,
  /** The API origin, without a trailing slash (data-residency workspaces have their own). */
  ELEVENLABS_API_BASE_URL: z.pipe(
    z.pipe(optionalText, z.optional(httpUrl)),
    z.transform((v: string | undefined) => (v ?? DEFAULT_ELEVENLABS_API_BASE_URL).replace(/\/+$/, '')),
  ),
  SECRET_CACHE_SECONDS: integer(300, 0, 86_400),
};

/** Where S3 is: a local server named by AWS_ENDPOINT_URL_S3 (path-style addressing, contract §8), else AWS. */
export const S3EnvShape = { AWS_ENDPOINT_URL_S3: optionalText, AWS_ENDPOINT_URL: optionalText };

export interface S3Settings {
  forcePathStyle: boolean;
  endpoint?: string;
}

export function s3Location(e: { AWS_ENDPOINT_URL_S3?: string; AWS_ENDPOINT_URL?: string }): S3Settings {
  const endpoint = e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL;
  return { forcePathStyle: endpoint !== undefined, ...(endpoint ? { endpoint } : {}) };
}

/** Parses `env` with `schema`; throws one `ConfigurationError` naming every bad variable. */
export function parseEnv<T extends z.core.$ZodType>(schema: T, env: Env): z.output<T> {
  const parsed = z.safeParse(schema, env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'} ${issue.message}`);
    throw new ConfigurationError([...new Set(problems)].join('; '));
  }
  return parsed.data;
}
