/**
 * The stack's settings (contract §8, infra/) against the benchmark's stand-ins: the secret in
 * Secrets Manager, duplicates checked in DynamoDB, a retry queue, the calls bucket with the
 * archive on, the audio check scheduled. Figure 11 gives the same environment to the receiver and
 * to the naive one (bench/naive/receiver.ts reads the same names).
 */
import type { StandIns } from './stand-ins';

/**
 * `s3: 'null'` points S3 at the stand-in that acknowledges every PutObject and keeps nothing: for
 * per-event figures, where a local server's disk writes would only add noise (figure 3c does the same).
 */
export function stackSettings(
  standIns: StandIns,
  crmUrl: string,
  { s3 = 's3rver' }: { s3?: 's3rver' | 'null' } = {},
): Record<string, string> {
  return {
    CRM_WEBHOOK_URL: crmUrl,
    WEBHOOK_SECRET_ARN: standIns.secretArn,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: standIns.secretsEndpoint,
    IDEMPOTENCY_TABLE: standIns.idempotencyTable,
    AWS_ENDPOINT_URL_DYNAMODB: standIns.dynamoEndpoint,
    CRM_RETRY_QUEUE_URL: standIns.retryQueueUrl,
    AWS_ENDPOINT_URL_SQS: standIns.sqsEndpoint,
    AUDIO_BUCKET: standIns.bucket,
    AWS_ENDPOINT_URL_S3: s3 === 'null' ? standIns.nullS3Endpoint : standIns.s3Endpoint,
    ARCHIVE_EVENTS: 'true',
    AUDIO_CHECK_QUEUE_URL: standIns.audioCheckQueueUrl,
    // Not a stack setting: how a child trusts the HTTPS stand-ins' per-run certificate.
    ...(standIns.tls ? { NODE_EXTRA_CA_CERTS: standIns.tls.caFile } : {}),
  };
}
