/**
 * The pieces every entry point's configuration is parsed with (contract §8): zod field types for
 * environment variables, and the one place a failed parse becomes a `ConfigurationError` that
 * names every bad variable and never echoes a value (a secret may sit in the environment).
 */
import * as z from 'zod';
import { DEFAULT_ELEVENLABS_API_BASE_URL } from '../core/audio-check';
import { ConfigurationError } from '../core/errors';

export type Env = Readonly<Record<string, string | undefined>>;

/** Unset and blank read as undefined; values are trimmed. */
export const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** A whole number within [min, max], or `defaultValue` when unset. */
export function integer(defaultValue: number, min: number, max: number) {
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

export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** `true` or `false` (any case); anything else names the variable. */
export const booleanFlag = optionalText.pipe(
  z
    .string()
    .transform((v) => v.toLowerCase())
    .pipe(z.enum(['true', 'false'], { error: 'must be true or false' }))
    .optional()
    .transform((v) => v === 'true'),
);

/** A comma list, or undefined when unset/empty. */
const commaList = optionalText.transform((v) =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
);

/**
 * An SQS queue URL, or on a developer machine a `file:` folder queue. On Lambda nothing reads
 * a folder, so a `file:` URL there would quietly lose every queued payload: refused.
 */
export const queueUrl = optionalText.pipe(
  z.url({ protocol: /^(https?|file)$/, error: 'must be an SQS queue URL or a file: URL' }).optional(),
);

/** Adds an issue for every `file:` queue URL when running on Lambda (contract §8). */
export function refuseFolderQueuesOnLambda(names: readonly string[]) {
  return (env: Record<string, unknown>, ctx: z.RefinementCtx) => {
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
  };
}

/** Runs one of the core's own parsers (shared with the CDK stack) and reports its message. */
export function parsedWith<T>(parse: (value: string) => T) {
  return (value: string, ctx: z.RefinementCtx<string>): T => {
    try {
      return parse(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  };
}

/** The CRM client's settings (contract §5), shared by the receiver, the retry worker and replay. */
export const CrmEnvShape = {
  CRM_WEBHOOK_URL: optionalText.pipe(z.string({ error: 'is required' }).pipe(httpUrl)),
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
  ALLOWED_AGENT_IDS: commaList.transform((ids) => (ids && ids.length > 0 ? (new Set(ids) as ReadonlySet<string>) : undefined)),
};

/** The API key settings as the audio worker and the reconciler read them. */
export function apiKeySettings(e: { ELEVENLABS_API_KEY_SECRET_ARN?: string; ELEVENLABS_API_KEY?: string; SECRET_CACHE_SECONDS: number }) {
  return { secretArn: e.ELEVENLABS_API_KEY_SECRET_ARN, plainKey: e.ELEVENLABS_API_KEY, cacheSeconds: e.SECRET_CACHE_SECONDS };
}

export const ApiKeyEnvShape = {
  ELEVENLABS_API_KEY_SECRET_ARN: optionalText,
  ELEVENLABS_API_KEY: optionalText,
  /** The API origin, without a trailing slash (data-residency workspaces have their own). */
  ELEVENLABS_API_BASE_URL: optionalText
    .pipe(httpUrl.optional())
    .transform((v) => (v ?? DEFAULT_ELEVENLABS_API_BASE_URL).replace(/\/+$/, '')),
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
export function parseEnv<T extends z.ZodType>(schema: T, env: Env): z.output<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'} ${issue.message}`);
    throw new ConfigurationError([...new Set(problems)].join('; '));
  }
  return parsed.data;
}
