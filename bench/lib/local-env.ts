/**
 * What every benchmark process shares: a secret made per run (never printed), the environment
 * that keeps the AWS SDK on 127.0.0.1 (tests and benchmarks talk only to 127.0.0.1), and a guard
 * that refuses any URL that is not loopback.
 */
import { randomBytes } from 'node:crypto';

/** Fresh per run and never written to any output; children receive it through their environment. */
export const BENCH_SECRET = process.env.BENCH_WEBHOOK_SECRET ?? `wsec_bench_${randomBytes(16).toString('hex')}`;

/** Variables every child gets: no instance metadata, no real region, no SDK warning noise on Node 20. */
const SAFE_AWS_ENV: Record<string, string> = {
  AWS_REGION: 'ap-southeast-2',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  // s3rver accepts only these (its documented defaults); nothing here is a real credential.
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
};

/** Benchmarks talk only to 127.0.0.1: fail loudly before any request leaves for another address. */
export function assertLoopback(url: string): string {
  const { hostname } = new URL(url);
  if (hostname !== '127.0.0.1') throw new Error(`benchmark refuses non-loopback address: ${hostname}`);
  return url;
}

/**
 * The environment for a child process: PATH and HOME from ours (node and tsx need them), the
 * safe AWS variables, then `extra`. Nothing else is inherited, so no real AWS profile,
 * endpoint or credential of the caller can leak into a benchmark.
 */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { ...SAFE_AWS_ENV, BENCH_WEBHOOK_SECRET: BENCH_SECRET };
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) {
    if (/^AWS_ENDPOINT_URL/.test(name) || name === 'CRM_WEBHOOK_URL') assertLoopback(value);
    env[name] = value;
  }
  return env;
}

/** Applies the safe AWS variables to this process too (the per-event and verifier runs are in-process). */
export function applySafeAwsEnv(): void {
  for (const [name, value] of Object.entries(SAFE_AWS_ENV)) process.env[name] = value;
  for (const name of Object.keys(process.env)) {
    if (/^AWS_(ENDPOINT_URL|PROFILE|SESSION_TOKEN|CONFIG_FILE|SHARED_CREDENTIALS_FILE)/.test(name)) delete process.env[name];
  }
}
