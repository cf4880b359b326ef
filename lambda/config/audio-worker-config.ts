/** The audio worker's configuration (contract §8, §10), also read by `npm run backfill`. */
import * as z from 'zod';
import { DEFAULT_ELEVENLABS_API_BASE_URL } from '../core/audio-check';
import {
  type Env,
  httpUrl,
  integer,
  optionalText,
  parseEnv,
  queueUrl,
  refuseFolderQueuesOnLambda,
  S3EnvShape,
  type S3Settings,
  s3Location,
} from './env-fields';

export interface AudioWorkerConfig {
  audioBucket: string;
  s3: S3Settings;
  /** The queue the worker drains: failed checks get a longer visibility there (backoff). */
  audioCheckQueueUrl?: string;
  /** ELEVENLABS_API_KEY_SECRET_ARN wins over ELEVENLABS_API_KEY; neither = recovery off. */
  apiKey: { secretArn?: string; plainKey?: string; cacheSeconds: number };
  elevenLabsApiBaseUrl: string;
}

const AudioWorkerSchema = z
  .object({
    ...S3EnvShape,
    AUDIO_BUCKET: optionalText.pipe(z.string({ error: 'is required (the calls bucket recordings are stored in)' })),
    AUDIO_CHECK_QUEUE_URL: queueUrl,
    ELEVENLABS_API_KEY_SECRET_ARN: optionalText,
    ELEVENLABS_API_KEY: optionalText,
    ELEVENLABS_API_BASE_URL: optionalText
      .pipe(httpUrl.optional())
      .transform((v) => (v ?? DEFAULT_ELEVENLABS_API_BASE_URL).replace(/\/+$/, '')),
    SECRET_CACHE_SECONDS: integer(300, 0, 86_400),
    AWS_LAMBDA_FUNCTION_NAME: optionalText,
  })
  .superRefine((env, ctx) => {
    if (env.AWS_LAMBDA_FUNCTION_NAME && !env.AUDIO_CHECK_QUEUE_URL) {
      ctx.addIssue({ code: 'custom', path: ['AUDIO_CHECK_QUEUE_URL'], message: 'is required on Lambda (the queue this worker drains)' });
    }
  })
  .superRefine(refuseFolderQueuesOnLambda(['AUDIO_CHECK_QUEUE_URL']))
  .transform(
    (e): AudioWorkerConfig => ({
      audioBucket: e.AUDIO_BUCKET,
      s3: s3Location(e),
      audioCheckQueueUrl: e.AUDIO_CHECK_QUEUE_URL,
      apiKey: { secretArn: e.ELEVENLABS_API_KEY_SECRET_ARN, plainKey: e.ELEVENLABS_API_KEY, cacheSeconds: e.SECRET_CACHE_SECONDS },
      elevenLabsApiBaseUrl: e.ELEVENLABS_API_BASE_URL,
    }),
  );

/** Parses the audio worker's environment (contract §8, §10). */
export function loadAudioWorkerConfig(env: Env): AudioWorkerConfig {
  return parseEnv(AudioWorkerSchema, env);
}
