/**
 * Moves dead-lettered CRM payloads back to the retry queue (receive → send → delete, so a
 * crash mid-way can duplicate a message but never lose one). A dry run lists what it would
 * move, masked, and makes the messages visible again at once.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { maskPhone } from '../../lambda/core/mask';
import { parseRetryMessage } from '../../lambda/core/retry-message';

export interface RedriveOptions {
  dlqUrl: string;
  queueUrl: string;
  dryRun: boolean;
  /** Stop after this many messages. */
  max?: number;
  client?: SQSClient;
  print?: (line: string) => void;
}

export interface RedriveResult {
  listed: number;
  moved: number;
}

/** One log-safe line per message: ids, attempts, error, masked number; never names or summaries. */
export function describeMessage(message: Pick<Message, 'MessageId' | 'Body' | 'Attributes'>): string {
  const parsed = parseRetryMessage(message.Body ?? '');
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
  const { dlqUrl, queueUrl, dryRun, max = Number.POSITIVE_INFINITY, print = console.log } = options;
  const client = options.client ?? new SQSClient({});
  const seen = new Set<string>();
  const toRelease: string[] = [];
  let moved = 0;
  try {
    while (seen.size < max) {
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MaxNumberOfMessages: Math.min(10, max - seen.size),
          WaitTimeSeconds: 1,
          VisibilityTimeout: 60,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      const fresh = Messages.filter((m) => m.MessageId && !seen.has(m.MessageId));
      if (fresh.length === 0) break;
      for (const message of fresh) {
        seen.add(message.MessageId!);
        print(`${dryRun ? 'would move' : 'moving'}  ${describeMessage(message)}`);
        if (dryRun) {
          toRelease.push(message.ReceiptHandle!);
          continue;
        }
        await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: message.Body! }));
        await client.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle! }));
        moved += 1;
      }
    }
  } finally {
    // A dry run changes nothing: what it looked at is visible again straight away.
    for (const handle of toRelease) {
      await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: dlqUrl, ReceiptHandle: handle, VisibilityTimeout: 0 })).catch(() => undefined);
    }
    if (!options.client) client.destroy();
  }
  print(dryRun ? `dry run: ${seen.size} message(s) would be moved; nothing changed` : `moved ${moved} message(s) to the retry queue`);
  return { listed: seen.size, moved };
}
