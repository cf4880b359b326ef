/**
 * Re-drives dead-lettered messages with SQS's own message-move task (StartMessageMoveTask,
 * SQS Developer Guide "Configure a dead-letter queue redrive"): SQS moves the messages the DLQ
 * holds when the task starts back to their source queue (or `--queue`), then the task ends.
 * A message that fails again while the task runs lands in the DLQ as a new message and is not
 * moved again, so a re-drive always ends; this command also stops watching after `--timeout`.
 *
 * A dry run receives a preview of the messages (log-safe: masked number, ids, attempts, last
 * error; never names or summaries) and makes them visible again at once.
 */
import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type ListMessageMoveTasksResultEntry,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { abortSignalAt, sdkClientOptions } from '../../lambda/adapters/deadline';
import { maskPhone } from '../../lambda/core/mask';
import { parseRetryMessage } from '../../lambda/core/retry-message';
import { DEPENDENCY_LIMITS_MS } from '../../lambda/core/time-budget';

export interface RedriveOptions {
  dlqUrl: string;
  /** Destination queue URL; default: each message's original source queue. */
  queueUrl?: string;
  dryRun: boolean;
  /** Dry run: preview at most this many messages. */
  max?: number;
  /** Stop watching the task after this long (it keeps running in SQS). */
  timeoutMs?: number;
  pollIntervalMs?: number;
  client?: SQSClient;
  print?: (line: string) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type RedriveResult =
  | { kind: 'empty' }
  | { kind: 'previewed'; listed: number; total: number }
  | { kind: 'completed'; moved: number; toMove: number }
  | { kind: 'failed'; reason: string; moved: number }
  | { kind: 'still-running'; moved: number; toMove: number };

export const DEFAULT_PREVIEW = 10;
export const DEFAULT_TIMEOUT_MS = 15 * 60_000;
const POLL_INTERVAL_MS = 2_000;

/** The region an SQS queue URL names (`https://sqs.<region>.amazonaws.com/…`), if it names one. */
export function regionOfQueueUrl(url: string): string | undefined {
  const match = /^https:\/\/(?:sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?|([a-z0-9-]+)\.queue\.amazonaws\.com)\//.exec(url);
  return match?.[1] ?? match?.[2];
}

/** One log-safe line per message: ids, attempts, error, masked number; never names or summaries. */
function describeMessage(message: Pick<Message, 'MessageId' | 'Body' | 'Attributes'>): string {
  const parsed = parseRetryMessage(message.Body ?? '')?.message;
  const receives = message.Attributes?.ApproximateReceiveCount ?? '?';
  if (!parsed) return `${message.MessageId}  unreadable message (${(message.Body ?? '').length} bytes), received ${receives}×`;
  return [
    message.MessageId,
    parsed.eventType,
    `conversation=${parsed.conversationId}`,
    `to=${maskPhone(parsed.crmPayload.to)}`,
    `status=${parsed.crmPayload.status}`,
    `attempts=${parsed.attempts}`,
    `lastError="${parsed.lastError}"`,
    `since=${parsed.firstAttemptAt}`,
  ].join('  ');
}

export async function redrive(options: RedriveOptions): Promise<RedriveResult> {
  const print = options.print ?? console.log;
  const now = options.now ?? Date.now;
  const region = regionOfQueueUrl(options.dlqUrl);
  const client = options.client ?? new SQSClient({ ...sdkClientOptions('queue'), ...(region ? { region } : {}) });
  /** Every SQS call is bounded (contract §11): a stalled endpoint ends the command with an error. */
  const send: Send = (command) =>
    client.send(command as never, { abortSignal: abortSignalAt(now() + DEPENDENCY_LIMITS_MS.queueSend, now) }) as never;
  try {
    const attributes = await send<{ Attributes?: Record<string, string> }>(
      new GetQueueAttributesCommand({ QueueUrl: options.dlqUrl, AttributeNames: ['QueueArn', 'ApproximateNumberOfMessages'] }),
    );
    const dlqArn = attributes.Attributes?.QueueArn;
    const total = Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0);
    if (!dlqArn) throw new Error('the dead-letter queue has no ARN (is the URL right?)');
    if (total === 0) {
      print('the dead-letter queue is empty: nothing to move');
      return { kind: 'empty' };
    }
    let destinationArn: string | undefined;
    if (options.queueUrl) {
      const destination = await send<{ Attributes?: Record<string, string> }>(
        new GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: ['QueueArn'] }),
      );
      destinationArn = destination.Attributes?.QueueArn;
    }
    const target = options.queueUrl ?? 'their source queue';
    if (options.dryRun) return await preview(options, send, print, total, target);

    await send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn, ...(destinationArn ? { DestinationArn: destinationArn } : {}) }));
    print(`moving ${total} message(s) to ${target} with an SQS message-move task`);
    return await watch(dlqArn, options, send, print, now);
  } finally {
    if (!options.client) client.destroy();
  }
}

/** Any SQS command, bounded; the caller names the output shape it reads. */
type Send = <T = unknown>(command: object) => Promise<T>;

async function preview(
  options: RedriveOptions,
  send: Send,
  print: (line: string) => void,
  total: number,
  target: string,
): Promise<RedriveResult> {
  const max = options.max ?? DEFAULT_PREVIEW;
  const seen = new Set<string>();
  const handles: string[] = [];
  try {
    // Bounded by `max` and by what the queue held: a receive that brings nothing new ends it.
    while (seen.size < Math.min(max, total)) {
      const { Messages = [] } = await send<{ Messages?: Message[] }>(
        new ReceiveMessageCommand({
          QueueUrl: options.dlqUrl,
          MaxNumberOfMessages: Math.min(10, max - seen.size),
          WaitTimeSeconds: 1,
          VisibilityTimeout: 60,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      const fresh = Messages.filter((m) => m.MessageId && !seen.has(m.MessageId));
      if (fresh.length === 0) break;
      for (const message of fresh) {
        seen.add(message.MessageId ?? '');
        if (message.ReceiptHandle) handles.push(message.ReceiptHandle);
        print(`would move  ${describeMessage(message)}`);
      }
    }
  } finally {
    // A dry run changes nothing: what it looked at is visible again straight away.
    for (const handle of handles) {
      await send(new ChangeMessageVisibilityCommand({ QueueUrl: options.dlqUrl, ReceiptHandle: handle, VisibilityTimeout: 0 })).catch(
        () => undefined,
      );
    }
  }
  const more = total > seen.size ? ` (showing ${seen.size})` : '';
  print(`dry run: ${total} message(s) would be moved to ${target}${more}; nothing changed`);
  return { kind: 'previewed', listed: seen.size, total };
}

async function watch(
  dlqArn: string,
  options: RedriveOptions,
  send: Send,
  print: (line: string) => void,
  now: () => number,
): Promise<RedriveResult> {
  const sleep = options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const giveUpAt = now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  let lastShown = -1;
  for (;;) {
    const { Results = [] } = await send<{ Results?: ListMessageMoveTasksResultEntry[] }>(
      new ListMessageMoveTasksCommand({ SourceArn: dlqArn, MaxResults: 1 }),
    );
    const task = Results[0];
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    const toMove = task?.ApproximateNumberOfMessagesToMove ?? 0;
    if (moved !== lastShown) {
      print(`  moved ${moved} of ${toMove}`);
      lastShown = moved;
    }
    switch (task?.Status) {
      case 'COMPLETED':
        print(`done: moved ${moved} message(s); the retry worker forwards them again`);
        return { kind: 'completed', moved, toMove };
      case 'FAILED':
      case 'CANCELLED':
        return { kind: 'failed', reason: task.FailureReason ?? task.Status.toLowerCase(), moved };
      default:
        if (now() >= giveUpAt) {
          print(
            `still running after ${Math.round((options.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000)} s; SQS keeps moving (watch with \`aws sqs list-message-move-tasks --source-arn ${dlqArn}\`)`,
          );
          return { kind: 'still-running', moved, toMove };
        }
        await sleep(options.pollIntervalMs ?? POLL_INTERVAL_MS);
    }
  }
}
