/**
 * Everything the receiver talks to, on 127.0.0.1: a CRM server, s3rver, and the JSON-protocol
 * fake for SQS and Secrets Manager. The real SDK clients are pointed at them through the
 * standard AWS_ENDPOINT_URL_* variables (which the SDK reads from process.env).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type AwsFake, startAwsFake } from '../../support/stand-ins/aws-json';
import { type CrmStandIn, startCrmStandIn } from '../../support/stand-ins/crm';
import { type EmbeddedS3, startEmbeddedS3 } from '../../support/stand-ins/s3';

export const BUCKET = 'audio-test';
export const SECRET_ARN = 'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:elevenlabs-webhook';

export interface LocalAws {
  crm: CrmStandIn;
  s3: EmbeddedS3;
  aws: AwsFake;
  retryQueueUrl: string;
  deadLetterQueueUrl: string;
  /** The receiver environment pointing at all of the above. */
  env: Record<string, string>;
  getObject(key: string): Promise<{ body: Buffer; contentType?: string; metadata?: Record<string, string> } | undefined>;
  close(): Promise<void>;
}

export async function startLocalAws(): Promise<LocalAws> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const [crm, s3, aws] = await Promise.all([startCrmStandIn(), startEmbeddedS3(directory, [BUCKET]), startAwsFake()]);
  const sdkEnv = {
    ...s3.env,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.endpoint,
    AWS_ENDPOINT_URL_SQS: aws.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:1', // nothing listens: a test that forgets dynalite fails loudly
  };
  Object.assign(process.env, sdkEnv);
  const retryQueueUrl = aws.queueUrl('crm-retry');
  const deadLetterQueueUrl = aws.queueUrl('crm-retry-dlq');
  const client = new S3Client({ forcePathStyle: true });
  return {
    crm,
    s3,
    aws,
    retryQueueUrl,
    deadLetterQueueUrl,
    env: {
      ...sdkEnv,
      CRM_WEBHOOK_URL: crm.url,
      CRM_RETRY_QUEUE_URL: retryQueueUrl,
      AUDIO_BUCKET: BUCKET,
      WEBHOOK_SECRET_ARN: SECRET_ARN,
    },
    async getObject(key) {
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
        const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
        return { body: Buffer.from(await object.Body!.transformToByteArray()), contentType: head.ContentType, metadata: head.Metadata };
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey' || (error as { name?: string }).name === 'NotFound') return undefined;
        throw error;
      }
    },
    async close() {
      client.destroy();
      await Promise.all([crm.close(), s3.close(), aws.close()]);
      await rm(directory, { recursive: true, force: true });
    },
  };
}
