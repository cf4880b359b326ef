/**
 * The layer builder's configuration (SPEC §14, create-layer-builder.ts): the bucket the layer's
 * archive is written to, and where the receiver's code and a scratch folder are (Lambda sets
 * LAMBDA_TASK_ROOT; TMPDIR is unset there and /tmp is the writable folder).
 */
import * as z from 'zod/mini';
import { type Env, optionalText, parseEnv, S3EnvShape, type S3Settings, s3Location } from './env-fields';

export interface LayerBuilderConfig {
  bucket: string;
  s3: S3Settings;
  codeDir: string;
  scratchDir: string;
}

const absolutePath = (fallback: string) =>
  z.pipe(
    optionalText,
    z.pipe(
      z.optional(z.string().check(z.regex(/^\//, 'must be an absolute path'))),
      z.transform((v: string | undefined) => v ?? fallback),
    ),
  );

const LayerBuilderEnvSchema = z.object({
  ...S3EnvShape,
  LAYER_BUCKET: z.pipe(optionalText, z.string({ error: 'is required (the bucket the layer archive is written to)' })),
  LAMBDA_TASK_ROOT: absolutePath('/var/task'),
  TMPDIR: absolutePath('/tmp'),
});

export function loadLayerBuilderConfig(env: Env): LayerBuilderConfig {
  const e = parseEnv(LayerBuilderEnvSchema, env);
  return { bucket: e.LAYER_BUCKET, s3: s3Location(e), codeDir: e.LAMBDA_TASK_ROOT, scratchDir: e.TMPDIR };
}
