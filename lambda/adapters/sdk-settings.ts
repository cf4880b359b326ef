/**
 * The AWS SDK settings every client is given instead of resolving them itself (SPEC §14).
 *
 * A client setting left unset is resolved on the client's first request by a provider chain:
 * the environment, then ~/.aws/config and ~/.aws/credentials (files a Lambda never has), then
 * the SDK's default, each step a promise. The first event of a container uses four clients
 * (Secrets Manager, DynamoDB, S3, SQS) that resolved about a dozen settings that way; given
 * here, the cold first answer took 3–4% less wall time (bench figure 11's child, alternating
 * pairs of fresh processes).
 *
 * Every value is the SDK's own default (test/integration/sdk-settings.test.ts compares them
 * with what a bare client resolves), so no request changes, except where the SDK has none or we
 * chose otherwise: the user agent names the application; S3's `useArnRegion` is false where it
 * was unset (read only for ARN bucket names; ours are plain names); S3 computes no checksum of
 * its own for a request body unless the operation requires one (`WHEN_REQUIRED`: PutObject calls
 * send their own SHA-256). Endpoint discovery is left unset: no DynamoDB operation we send uses
 * it, and set at all (even to false) it would refuse the local stand-ins' custom endpoint in an
 * SDK whose commands did.
 *
 * What is given up is overriding these from the environment or a profile (AWS_USE_FIPS_ENDPOINT,
 * AWS_RETRY_MODE, …): FIPS and dual-stack endpoints are not part of this stack (ap-southeast-2,
 * contract §9), and retries are bounded by our own per-kind attempts (`core/time-budget.ts`
 * SDK_ATTEMPTS). AWS_REGION, the credentials and AWS_ENDPOINT_URL_* still come from the
 * environment, as on Lambda.
 */

import type { SDK_ATTEMPTS } from '../core/time-budget';

/** For every client (@smithy/core config and retry, @aws-sdk/core's user agent and auth schemes). */
export const SDK_SETTINGS = {
  defaultsMode: 'legacy',
  retryMode: 'standard',
  useFipsEndpoint: false,
  useDualstackEndpoint: false,
  authSchemePreference: [] as string[],
  // No default (unset means none); naming the application in the user agent is what the setting is for.
  userAgentAppId: 'elevenlabs-webhook-receiver',
} as const;

/** S3's own (@aws-sdk/middleware-sdk-s3, flexible checksums). */
const S3_SETTINGS = {
  disableS3ExpressSessionAuth: false,
  useArnRegion: false,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_SUPPORTED',
} as const;

/** DynamoDB's own: account-based endpoints as the SDK prefers them. */
const DYNAMODB_SETTINGS = {
  accountIdEndpointMode: 'preferred',
} as const;

/** What each kind of dependency (core/time-budget.ts SDK_ATTEMPTS) adds for its service: S3's and DynamoDB's own settings. */
export const SERVICE_SETTINGS = {
  secret: {},
  idempotency: DYNAMODB_SETTINGS,
  queue: {},
  audio: S3_SETTINGS,
  recording: S3_SETTINGS,
  sms: {},
} as const satisfies Record<keyof typeof SDK_ATTEMPTS, object>;
