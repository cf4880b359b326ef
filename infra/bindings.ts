/**
 * Each `bind*` sets an environment variable the Lambda code reads (lambda/config/) together
 * with exactly the IAM grant the code behind it needs, so one cannot be added without the
 * other. Powertools for AWS Lambda's `bindTable` is the model. Settings that need no AWS
 * permission (an HTTPS URL, a number) go through `bindValue`, so every variable a function
 * gets is set by a call in this file.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource, type SqsEventSourceProps } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Bucket, CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { NodeFunction } from './node-function';

/** A setting with no AWS permission behind it. */
export function bindValue(fn: NodeFunction, name: string, value: string): void {
  fn.function.addEnvironment(name, value);
}

/**
 * GetSecretValue on one secret (adapters/secrets.ts calls nothing else). `imported`: the ARN
 * was given by the deployer and may be partial (see secretPolicyArns).
 */
export function bindSecret(fn: NodeFunction, name: string, secret: ISecret, imported: boolean): void {
  fn.function.addEnvironment(name, secret.secretArn);
  fn.function.addToRolePolicy(
    new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: secretPolicyArns(secret, imported) }),
  );
}

/** SendMessage on one queue (adapters/queue.ts); SSE-SQS needs no KMS grant. */
export function bindQueueSender(fn: NodeFunction, name: string, queue: IQueue): void {
  fn.function.addEnvironment(name, queue.queueUrl);
  fn.function.addToRolePolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
}

/**
 * The queue a worker drains. The event source grants Receive, Delete, ChangeMessageVisibility
 * (the worker lengthens a failed message's visibility: backoff) and GetQueueAttributes.
 * ReportBatchItemFailures: only the records the worker names come back
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
 */
export function bindQueueConsumer(
  fn: NodeFunction,
  name: string,
  queue: IQueue,
  options: Pick<SqsEventSourceProps, 'batchSize' | 'maxConcurrency'>,
): void {
  fn.function.addEnvironment(name, queue.queueUrl);
  fn.function.addEventSource(new SqsEventSource(queue, { ...options, reportBatchItemFailures: true }));
}

/** Item-level actions on one table (adapters/idempotency-store.ts). */
export function bindTable(fn: NodeFunction, name: string, table: ITable, actions: readonly string[]): void {
  fn.function.addEnvironment(name, table.tableName);
  table.grant(fn.function, ...actions);
}

export interface SmsSending {
  /** SMS_ORIGINATION_IDENTITY: the id or ARN the worker sends from. */
  readonly identity: string;
  /** SMS_CONFIGURATION_SET, when one is named. */
  readonly configurationSet?: string;
  /** The ARNs of exactly those (infra/text-back.ts). */
  readonly resources: readonly string[];
}

/** SendTextMessage from one origination identity, with one configuration set (adapters/sms.ts calls nothing else). */
export function bindSmsSending(fn: NodeFunction, sending: SmsSending): void {
  fn.function.addEnvironment('SMS_ORIGINATION_IDENTITY', sending.identity);
  if (sending.configurationSet) fn.function.addEnvironment('SMS_CONFIGURATION_SET', sending.configurationSet);
  fn.function.addToRolePolicy(new PolicyStatement({ actions: ['sms-voice:SendTextMessage'], resources: [...sending.resources] }));
}

export interface PrefixGrant {
  /** Environment variables whose code uses this prefix, e.g. `{ AUDIO_BUCKET: name }`. */
  readonly env: Readonly<Record<string, string>>;
  readonly bucket: Bucket;
  /** `audio/` or `calls/` (lambda/core/storage-keys.ts). */
  readonly prefix: string;
  readonly actions: readonly string[];
  /** Why a wildcard under the prefix is needed: acknowledged for cdk-nag's AwsSolutions-IAM5. */
  readonly why: string;
}

/**
 * s3:ListBucket on the calls bucket, so that a HeadObject of a key that does not exist answers
 * 404 rather than 403 (S3 API reference, HeadObject: "If you don't have the s3:ListBucket
 * permission, Amazon S3 returns an HTTP status code 403"): the audio worker and the reconciler
 * read "not there" as a fact (a recording or a record to recover), never as an error.
 */
export function bindBucketListing(fn: NodeFunction, bucket: Bucket): void {
  fn.function.addToRolePolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
}

/** Object actions on one fixed key of the calls bucket (no wildcard). */
export function bindBucketObject(fn: NodeFunction, grant: { bucket: Bucket; key: string; actions: readonly string[] }): void {
  fn.function.addToRolePolicy(new PolicyStatement({ actions: [...grant.actions], resources: [grant.bucket.arnForObjects(grant.key)] }));
}

/** Object actions under one prefix of the calls bucket; keys are known only per call. */
export function bindBucketPrefix(fn: NodeFunction, grant: PrefixGrant): void {
  for (const [name, value] of Object.entries(grant.env)) fn.function.addEnvironment(name, value);
  fn.function.addToRolePolicy(
    new PolicyStatement({ actions: [...grant.actions], resources: [grant.bucket.arnForObjects(`${grant.prefix}*`)] }),
  );
  const bucketId = Stack.of(fn).getLogicalId(grant.bucket.node.defaultChild as CfnBucket);
  Validations.of(fn.role).acknowledge({ id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${grant.prefix}*]`, reason: grant.why });
}

/**
 * The ARNs to grant GetSecretValue on. A secret we create is named by its complete ARN. An
 * imported one may be given complete or partial (without the 6-character suffix Secrets
 * Manager appends), and a name can itself end in 6 characters after a dash, so neither can be
 * told from the other: grant the ARN as given and the ARN followed by `-??????`, the pattern
 * the Secrets Manager docs give for matching a secret by name in a policy
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_iam-policies.html).
 */
function secretPolicyArns(secret: ISecret, imported: boolean): string[] {
  return imported ? [secret.secretArn, `${secret.secretArn}-??????`] : [secret.secretArn];
}
