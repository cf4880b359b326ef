/**
 * The reconciler's configuration (contract §8, §12). It finds missing records in the archive, so
 * it refuses to start without ARCHIVE_EVENTS=true; it sends call checks to the audio-check queue
 * and lists conversations with the ElevenLabs API key the audio worker uses.
 */
import * as z from 'zod/mini';
import { DEFAULT_LOOKBACK_HOURS, DEFAULT_SETTLE_MINUTES, type ReconcileSettings } from '../core/reconcile';
import {
  AllowedAgentsEnvShape,
  ApiKeyEnvShape,
  booleanFlag,
  callCheckSettings,
  type Env,
  integer,
  optionalText,
  parseEnv,
  queueUrl,
  refuseFolderQueuesOnLambda,
  S3EnvShape,
  type S3Settings,
} from './env-fields';

export interface ReconcilerConfig {
  audioBucket: string;
  s3: S3Settings;
  audioCheckQueueUrl: string;
  apiKey: { secretArn?: string; plainKey?: string; cacheSeconds: number };
  elevenLabsApiBaseUrl: string;
  /** ALLOWED_AGENT_IDS: other agents' conversations are not this deployment's to recover (contract §2 step 5). */
  allowedAgentIds?: ReadonlySet<string>;
  window: ReconcileSettings;
}

const ReconcilerEnvSchema = z.object({
  ...S3EnvShape,
  ...ApiKeyEnvShape,
  ...AllowedAgentsEnvShape,
  AUDIO_BUCKET: z.pipe(optionalText, z.string({ error: 'is required (the calls bucket whose archive is the ledger)' })),
  ARCHIVE_EVENTS: booleanFlag,
  AUDIO_CHECK_QUEUE_URL: z.pipe(queueUrl, z.string({ error: 'is required (where call checks are sent)' })),
  RECONCILE_LOOKBACK_HOURS: integer(DEFAULT_LOOKBACK_HOURS, 1, 720),
  RECONCILE_SETTLE_MINUTES: integer(DEFAULT_SETTLE_MINUTES, 5, 1440),
  AWS_LAMBDA_FUNCTION_NAME: optionalText,
});

const ReconcilerSchema = z.pipe(
  ReconcilerEnvSchema.check(
    z.superRefine((env, ctx) => {
      if (!env.ARCHIVE_EVENTS) {
        ctx.addIssue({
          code: 'custom',
          path: ['ARCHIVE_EVENTS'],
          message: 'must be true: the reconciler finds missing records in the event archive',
        });
      }
    }),
    z.superRefine((env, ctx) => {
      if (env.RECONCILE_LOOKBACK_HOURS * 60 <= env.RECONCILE_SETTLE_MINUTES) {
        ctx.addIssue({
          code: 'custom',
          path: ['RECONCILE_SETTLE_MINUTES'],
          message: `must be less than RECONCILE_LOOKBACK_HOURS in minutes (${env.RECONCILE_LOOKBACK_HOURS * 60}), or every window is empty`,
        });
      }
    }),
    refuseFolderQueuesOnLambda(['AUDIO_CHECK_QUEUE_URL']),
  ),
  z.transform(
    (e): ReconcilerConfig => ({
      ...callCheckSettings(e),
      window: { lookbackHours: e.RECONCILE_LOOKBACK_HOURS, settleMinutes: e.RECONCILE_SETTLE_MINUTES },
    }),
  ),
);

/** Parses the reconciler's environment; throws one `ConfigurationError` naming every bad variable. */
export function loadReconcilerConfig(env: Env): ReconcilerConfig {
  return parseEnv(ReconcilerSchema, env);
}
