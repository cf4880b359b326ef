/**
 * The stack's work queues (contract §5, §10, §13): each with a dead-letter queue, the same
 * encryption, retention and redrive. The retry worker's backoff (lambda/core/retry-schedule.ts)
 * gives every queue a day of failures before its DLQ.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { RETRY_MAX_RECEIVES } from '../lambda/core/retry-schedule';

/** SQS moves a message to the DLQ after this many receives: 26.5 h of backoff (contract §5: ≥ 24 h). */
export const MAX_RECEIVE_COUNT = RETRY_MAX_RECEIVES;
/**
 * The longest SQS keeps a message (14 days). A queue nobody drains pages after an hour
 * (the oldest-message alarm), long before anything expires; a DLQ message keeps its first
 * enqueue time, so the DLQ must keep messages at least as long as the source queue does
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html).
 */
export const QUEUE_RETENTION = Duration.days(14);

/** A work queue and the dead-letter queue it moves messages to after MAX_RECEIVE_COUNT receives. */
export function queueWithDeadLetters(scope: Construct, id: string, deadLetterId: string, visibilityTimeout: Duration): [Queue, Queue] {
  const encrypted = { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: QUEUE_RETENTION };
  // What gave up waits here for a re-drive; a `cdk destroy` must not drop it.
  const deadLetters = new Queue(scope, deadLetterId, { ...encrypted, removalPolicy: RemovalPolicy.RETAIN });
  const queue = new Queue(scope, id, {
    ...encrypted,
    visibilityTimeout,
    deadLetterQueue: { queue: deadLetters, maxReceiveCount: MAX_RECEIVE_COUNT },
  });
  return [queue, deadLetters];
}
