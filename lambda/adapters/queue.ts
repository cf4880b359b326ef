/**
 * The queues (SPEC §5, §10): failed CRM forwards wait for the retry worker, audio checks wait
 * for the audio worker. An SQS queue on AWS, or a folder on disk for local runs (a `file:///path`
 * URL). Same ports, two adapters.
 *
 * A folder message is one JSON file named `<visible-at epoch ms>-<sequence>-<uuid>.json`, so
 * names sort in the order messages become visible and a delayed message (SQS DelaySeconds)
 * simply carries a later time; the drainer (scripts/lib) takes only those whose time has come.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AudioCheckQueue, RetryQueue, RetryQueueMessage } from '../core/ports';
import { abortSignalAt, sdkClientOptions } from './deadline';
import { lazy } from './lazy';
import { cjsExports } from './load-module';

/** Sends one message body to a queue: SQS, or a folder for `file:` URLs; `delaySeconds` as SQS DelaySeconds (0–900). */
export type MessageSender = (body: string, deadlineMs: number, delaySeconds?: number) => Promise<void>;

export function createMessageSender(queueUrl: string): MessageSender {
  return queueUrl.startsWith('file:') ? folderSender(fileURLToPath(queueUrl)) : sqsSender(queueUrl);
}

export function createRetryQueue(queueUrl: string): RetryQueue {
  const send = createMessageSender(queueUrl);
  return { enqueue: (message: RetryQueueMessage, deadlineMs: number) => send(JSON.stringify(message), deadlineMs) };
}

export function createAudioCheckQueue(queueUrl: string): AudioCheckQueue {
  const send = createMessageSender(queueUrl);
  return {
    schedule: (message, delaySeconds, deadlineMs) =>
      send(
        JSON.stringify({ conversationId: message.conversationId, agentId: message.agentId, eventTimestamp: message.eventTimestamp }),
        deadlineMs,
        delaySeconds,
      ),
  };
}

/** The SQS client is loaded only when a forward has failed: the happy path never pays for it. */
const loadSqs = lazy(async () => {
  const { SQSClient, SendMessageCommand, ChangeMessageVisibilityCommand } = cjsExports(await import('@aws-sdk/client-sqs'));
  const client = new SQSClient(sdkClientOptions('queue'));
  return { client, SendMessageCommand, ChangeMessageVisibilityCommand };
});

/** Hides a received message for `seconds` (the retry worker's backoff, SPEC §5). */
export type VisibilityChanger = (receiptHandle: string, seconds: number, deadlineMs: number) => Promise<void>;

export function createVisibilityChanger(queueUrl: string): VisibilityChanger {
  return async (receiptHandle, seconds, deadlineMs) => {
    const { client, ChangeMessageVisibilityCommand } = await loadSqs();
    await client.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }),
      { abortSignal: abortSignalAt(deadlineMs) },
    );
  };
}

function sqsSender(queueUrl: string): MessageSender {
  return async (body, deadlineMs, delaySeconds) => {
    const { client, SendMessageCommand } = await loadSqs();
    await client.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, ...(delaySeconds ? { DelaySeconds: delaySeconds } : {}) }),
      { abortSignal: abortSignalAt(deadlineMs) },
    );
  };
}

/** Orders files written in the same millisecond by this process (names sort as they were sent). */
let sequence = 0;

/** One JSON file per message, written to a temp name then renamed so readers never see half a file. */
function folderSender(directory: string): MessageSender {
  return async (body, _deadlineMs, delaySeconds = 0) => {
    await mkdir(directory, { recursive: true });
    sequence = (sequence + 1) % 1_000_000;
    const visibleAt = Date.now() + delaySeconds * 1000;
    const name = `${visibleAt}-${String(sequence).padStart(6, '0')}-${randomUUID()}.json`;
    const temp = join(directory, `.${name}.tmp`);
    await writeFile(temp, body, { mode: 0o600 });
    await rename(temp, join(directory, name));
  };
}

/** When a folder message becomes visible: the epoch ms its name starts with (0 if it has none). */
export function folderMessageVisibleAt(name: string): number {
  const match = /^(\d{10,16})-/.exec(name);
  return match ? Number(match[1]) : 0;
}
