/**
 * Where failed CRM forwards wait for the retry worker (SPEC §5): an SQS queue on AWS, or a
 * folder on disk for local runs (`CRM_RETRY_QUEUE_URL=file:///path`). Same port, two adapters.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RetryQueue, RetryQueueMessage } from '../core/ports';
import { lazy } from './lazy';

export function createRetryQueue(queueUrl: string): RetryQueue {
  return queueUrl.startsWith('file:') ? createFolderRetryQueue(fileURLToPath(queueUrl)) : createSqsRetryQueue(queueUrl);
}

export function createSqsRetryQueue(queueUrl: string): RetryQueue {
  // Loaded only when a forward has failed: the happy path never pays for the SQS client.
  const send = lazy(async () => {
    const { SQSClient, SendMessageCommand } = await import('@aws-sdk/client-sqs');
    const client = new SQSClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 2_000, requestTimeout: 3_000 } });
    return (body: string) => client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  });
  return {
    async enqueue(message) {
      await (await send())(JSON.stringify(message));
    },
  };
}

/** One JSON file per message, written to a temp name then renamed so readers never see half a file. */
export function createFolderRetryQueue(directory: string): RetryQueue {
  return {
    async enqueue(message: RetryQueueMessage) {
      await mkdir(directory, { recursive: true });
      const name = `${Date.now()}-${randomUUID()}.json`;
      const temp = join(directory, `.${name}.tmp`);
      await writeFile(temp, `${JSON.stringify(message, null, 2)}\n`, { mode: 0o600 });
      await rename(temp, join(directory, name));
    },
  };
}
