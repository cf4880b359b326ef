/** The retry worker's configuration (contract §5, §8): the CRM client, the queue it drains, its DLQ. */
import * as z from 'zod/mini';
import {
  CrmEnvShape,
  type CrmSettings,
  crmSettings,
  type Env,
  optionalText,
  parseEnv,
  queueUrl,
  refuseFolderQueuesOnLambda,
} from './env-fields';

export interface RetryWorkerConfig {
  crm: CrmSettings;
  /** The queue the worker drains: failed records get a longer visibility there (contract §5 backoff). */
  retryQueueUrl?: string;
  /** Where permanently refused payloads go at once (the retry queue's DLQ). */
  deadLetterQueueUrl?: string;
  /** IDEMPOTENCY_TABLE: one CRM record per queued message however often SQS delivers it (contract §5). */
  idempotencyTable?: string;
}

const RetryWorkerSchema = z.pipe(
  z
    .object({
      ...CrmEnvShape,
      CRM_RETRY_QUEUE_URL: queueUrl,
      CRM_DEAD_LETTER_QUEUE_URL: queueUrl,
      IDEMPOTENCY_TABLE: optionalText,
      AWS_LAMBDA_FUNCTION_NAME: optionalText,
    })
    .check(
      z.superRefine((env, ctx) => {
        // Without it a failing record comes back every visibility timeout and reaches the DLQ
        // within the hour instead of after a day of backoff.
        if (env.AWS_LAMBDA_FUNCTION_NAME && !env.CRM_RETRY_QUEUE_URL) {
          ctx.addIssue({ code: 'custom', path: ['CRM_RETRY_QUEUE_URL'], message: 'is required on Lambda (the queue this worker drains)' });
        }
      }),
      refuseFolderQueuesOnLambda(['CRM_RETRY_QUEUE_URL', 'CRM_DEAD_LETTER_QUEUE_URL']),
    ),
  z.transform(
    (e): RetryWorkerConfig => ({
      crm: crmSettings(e),
      retryQueueUrl: e.CRM_RETRY_QUEUE_URL,
      deadLetterQueueUrl: e.CRM_DEAD_LETTER_QUEUE_URL,
      idempotencyTable: e.IDEMPOTENCY_TABLE,
    }),
  ),
);

/** Parses the retry worker's environment (the CRM settings plus its queues). */
export function loadWorkerConfig(env: Env): RetryWorkerConfig {
  return parseEnv(RetryWorkerSchema, env);
}
