/**
 * The queues (contract §5, §10, §13): failed CRM forwards wait for the retry worker, audio checks
 * wait for the audio worker, text-backs wait for the SMS worker. On AWS each is an SQS queue. The ports are built over a
 * `MessageSender`, so `npm start` can put its folder queues (support/folder-queue.ts) behind
 * the same ports without any folder code in the Lambda bundles.
 */
import type { AudioCheckQueue, RetryQueue, RetryQueueMessage, SmsQueue } from '../core/ports';
import { smsQueueBody } from '../core/text-back/sms-message';
import { abortSignalAt, sdkClientOptions } from './deadline';
import { lazy, type Preloadable, preloadOf } from './lazy';
import { cjsExports } from './load-module';

/**
 * Sends one message body to a queue; `delaySeconds` as SQS DelaySeconds (0–900). `preload`, when
 * there, builds its client ahead of the first send (the receiver's INIT).
 */
export type MessageSender = ((body: string, deadlineMs: number, delaySeconds?: number) => Promise<void>) & Partial<Preloadable>;

/** Which sender a queue URL gets: SQS on AWS; `npm start` adds folders for `file:` URLs. */
export type QueueSenderFactory = (queueUrl: string) => MessageSender;

export function retryQueueOver(send: MessageSender): RetryQueue {
  return { enqueue: (message: RetryQueueMessage, deadlineMs: number) => send(JSON.stringify(message), deadlineMs) };
}

export function audioCheckQueueOver(send: MessageSender): AudioCheckQueue {
  return {
    schedule: (message, delaySeconds, deadlineMs) =>
      send(
        JSON.stringify({ conversationId: message.conversationId, agentId: message.agentId, eventTimestamp: message.eventTimestamp }),
        deadlineMs,
        delaySeconds,
      ),
  };
}

/** contract §13: exactly `{"to","name","subject","conversationId","status"}`. */
export function smsQueueOver(send: MessageSender): SmsQueue {
  return { enqueue: (message, deadlineMs) => send(smsQueueBody(message), deadlineMs) };
}

/**
 * The SQS client is loaded on the first send (a failed forward, or an audio check), or ahead of
 * it by the receiver's Lambda entry (`preload`) when a queue is configured.
 */
const loadSqs = lazy(async () => cjsExports(await import('./sdk/sqs')));

/**
 * One client per queue host (on AWS there is one: the region's SQS endpoint). Its endpoint is
 * the queue URL's own origin, where the SDK would send the request anyway; saying so up front
 * spares a "QueueUrl differs from the resolved endpoint" warning on every call wherever the
 * environment names another endpoint (local stand-ins).
 */
const clients = new Map<string, InstanceType<Awaited<ReturnType<typeof loadSqs>>['SQSClient']>>();

async function sqsFor(queueUrl: string) {
  const sdk = await loadSqs();
  const origin = new URL(queueUrl).origin;
  let client = clients.get(origin);
  if (!client) {
    client = new sdk.SQSClient({ ...sdkClientOptions('queue'), endpoint: origin });
    clients.set(origin, client);
  }
  return { client, SendMessageCommand: sdk.SendMessageCommand, ChangeMessageVisibilityCommand: sdk.ChangeMessageVisibilityCommand };
}

/** Hides a received message for `seconds` (the retry worker's backoff, contract §5). */
export type VisibilityChanger = (receiptHandle: string, seconds: number, deadlineMs: number) => Promise<void>;

export function createVisibilityChanger(queueUrl: string): VisibilityChanger {
  return async (receiptHandle, seconds, deadlineMs) => {
    const { client, ChangeMessageVisibilityCommand } = await sqsFor(queueUrl);
    await client.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }),
      { abortSignal: abortSignalAt(deadlineMs) },
    );
  };
}

export function createSqsSender(queueUrl: string): MessageSender {
  const send = async (body: string, deadlineMs: number, delaySeconds?: number) => {
    const { client, SendMessageCommand } = await sqsFor(queueUrl);
    await client.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, ...(delaySeconds ? { DelaySeconds: delaySeconds } : {}) }),
      { abortSignal: abortSignalAt(deadlineMs) },
    );
  };
  return Object.assign(send, { preload: preloadOf(() => sqsFor(queueUrl)) });
}
