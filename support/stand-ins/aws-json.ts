/**
 * Wire-protocol fakes for AWS services with no maintained local server: a
 * node:http server on 127.0.0.1 answering the AWS JSON protocol (`X-Amz-Target`). The real
 * SDK clients talk to it through AWS_ENDPOINT_URL_* or the SQS queue URL's own host.
 *
 * SQS is modelled as far as the tests need it, after the SQS Developer Guide: visibility
 * timeouts and ChangeMessageVisibility, DelaySeconds, ApproximateReceiveCount, redrive
 * policies (a message received more than maxReceiveCount times moves to its dead-letter
 * queue on the next receive), and DLQ redrive with StartMessageMoveTask /
 * ListMessageMoveTasks (the task moves the messages the DLQ held when it started, then ends).
 * Time is injectable so a test can run a day of backoff in milliseconds.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const ACCOUNT = '123456789012';
const REGION = 'ap-southeast-2';

export interface QueueOptions {
  /** Name of the dead-letter queue (created if needed) and the receives before a message moves there. */
  deadLetter?: { name: string; maxReceiveCount: number };
  /** The queue's default visibility timeout, seconds (SQS default 30). */
  visibilityTimeoutSeconds?: number;
}

export interface MoveTask {
  handle: string;
  sourceArn: string;
  destinationArn?: string;
  status: 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
  toMove: number;
  moved: number;
  startedAt: number;
}

export interface AwsFakeOptions {
  /** Epoch ms; defaults to the real clock. */
  now?: () => number;
  /** Messages a move task moves per ListMessageMoveTasks poll (to show progress); default all. */
  moveBatch?: number;
}

export interface AwsFake {
  endpoint: string;
  /** The SQS queue URL for a queue name on this server (the queue is created on first use). */
  queueUrl(name: string, options?: QueueOptions): string;
  queueArn(name: string): string;
  /** Every body sent to each queue, by queue name, in order (a log: receiving does not remove). */
  sent: Map<string, string[]>;
  /** The bodies a queue holds now (sent or put, not yet deleted or moved). */
  messages(name: string): string[];
  /** Puts a message straight into a queue (e.g. a DLQ), as SQS would after the last receive. */
  put(name: string, body: string): void;
  /** When the next message of a queue becomes visible (epoch ms), if it holds any. */
  nextVisibleAt(name: string): number | undefined;
  /** Every ChangeMessageVisibility and SendMessage DelaySeconds seen, per queue. */
  visibilityChanges: { queue: string; seconds: number; at: number }[];
  delays: { queue: string; seconds: number }[];
  moveTasks: MoveTask[];
  /** SecretString by secret id; delete an entry to make GetSecretValue fail. */
  secrets: Map<string, string>;
  calls: { target: string; body: Record<string, unknown> }[];
  /** Answer every call with this HTTP status (e.g. 500, 503) until cleared with undefined. */
  failWith(status: number | undefined, target?: string): void;
  close(): Promise<void>;
}

interface Stored {
  id: string;
  body: string;
  receipt?: string;
  invisibleUntil: number;
  receives: number;
  sentAt: number;
}

interface Queue {
  name: string;
  messages: Stored[];
  options: QueueOptions;
}

export async function startAwsFake(options: AwsFakeOptions = {}): Promise<AwsFake> {
  const now = options.now ?? Date.now;
  const queues = new Map<string, Queue>();
  const sent = new Map<string, string[]>();
  const secrets = new Map<string, string>();
  const calls: AwsFake['calls'] = [];
  const visibilityChanges: AwsFake['visibilityChanges'] = [];
  const delays: AwsFake['delays'] = [];
  const moveTasks: MoveTask[] = [];
  let failure: { status: number; target?: string } | undefined;
  let endpoint = '';

  const arnOf = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
  const nameOfArn = (arn: unknown) => String(arn).split(':').pop() ?? '';
  const queueName = (url: unknown) => String(url).split('/').pop() ?? '';
  const md5 = (text: string) => createHash('md5').update(text).digest('hex');
  const ensureQueue = (name: string, queueOptions: QueueOptions = {}): Queue => {
    let queue = queues.get(name);
    if (!queue) {
      queue = { name, messages: [], options: queueOptions };
      queues.set(name, queue);
      sent.set(name, []);
    } else if (queueOptions.deadLetter || queueOptions.visibilityTimeoutSeconds) {
      queue.options = { ...queue.options, ...queueOptions };
    }
    if (queueOptions.deadLetter) ensureQueue(queueOptions.deadLetter.name);
    return queue;
  };
  const put = (name: string, body: string, delaySeconds = 0): string => {
    const id = randomUUID();
    ensureQueue(name).messages.push({ id, body, invisibleUntil: now() + delaySeconds * 1000, receives: 0, sentAt: now() });
    return id;
  };
  /** The queues whose redrive policy names `dlq`: where a move task sends messages back by default. */
  const sourcesOf = (dlq: string) => [...queues.values()].filter((q) => q.options.deadLetter?.name === dlq);

  /** One step of each running task: move up to `moveBatch` of the messages it still has to move. */
  const advanceMoveTasks = () => {
    for (const task of moveTasks.filter((t) => t.status === 'RUNNING')) {
      const source = queues.get(nameOfArn(task.sourceArn));
      const destinationName = task.destinationArn ? nameOfArn(task.destinationArn) : sourcesOf(nameOfArn(task.sourceArn))[0]?.name;
      if (!source || !destinationName || !queues.has(destinationName)) {
        task.status = 'FAILED';
        continue;
      }
      let step = options.moveBatch ?? Number.POSITIVE_INFINITY;
      while (step-- > 0 && task.moved < task.toMove) {
        const next = source.messages.shift();
        if (!next) break;
        put(destinationName, next.body);
        task.moved += 1;
      }
      if (task.moved >= task.toMove || source.messages.length === 0) task.status = 'COMPLETED';
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      calls.push({ target, body });
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
        res.end(JSON.stringify(payload));
      };
      const noQueue = () => reply(400, { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' });
      if (failure && (!failure.target || failure.target === target)) {
        return reply(failure.status, { __type: 'InternalFailure', message: 'injected failure' });
      }
      switch (target) {
        case 'secretsmanager.GetSecretValue': {
          const id = String(body.SecretId);
          const value = secrets.get(id);
          if (value === undefined)
            return reply(400, { __type: 'ResourceNotFoundException', message: 'Secrets Manager can’t find the specified secret.' });
          return reply(200, { ARN: id, Name: id, SecretString: value, VersionId: randomUUID(), VersionStages: ['AWSCURRENT'] });
        }
        case 'AmazonSQS.SendMessage': {
          const name = queueName(body.QueueUrl);
          const messageBody = String(body.MessageBody);
          if (!queues.has(name)) return noQueue();
          const delay = Number(body.DelaySeconds ?? 0);
          if (!(Number.isInteger(delay) && delay >= 0 && delay <= 900)) {
            return reply(400, { __type: 'com.amazonaws.sqs#InvalidParameterValue', message: 'DelaySeconds must be 0–900.' });
          }
          if (body.DelaySeconds !== undefined) delays.push({ queue: name, seconds: delay });
          sent.get(name)!.push(messageBody);
          // The SDK checks this MD5 of the body and fails the send without it.
          return reply(200, { MessageId: put(name, messageBody, delay), MD5OfMessageBody: md5(messageBody) });
        }
        case 'AmazonSQS.ReceiveMessage': {
          const queue = queues.get(queueName(body.QueueUrl));
          if (!queue) return noQueue();
          const max = Number(body.MaxNumberOfMessages ?? 1);
          const visibility = Number(body.VisibilityTimeout ?? queue.options.visibilityTimeoutSeconds ?? 30);
          const at = now();
          const batch: Stored[] = [];
          for (const m of [...queue.messages]) {
            if (batch.length >= max || m.invisibleUntil > at) continue;
            const redrive = queue.options.deadLetter;
            if (redrive && m.receives >= redrive.maxReceiveCount) {
              // SQS: a message whose receive count exceeds maxReceiveCount moves to the DLQ.
              queue.messages.splice(queue.messages.indexOf(m), 1);
              queues.get(redrive.name)!.messages.push({ ...m, receipt: undefined, invisibleUntil: 0 });
              continue;
            }
            m.receipt = randomUUID();
            m.invisibleUntil = at + visibility * 1000;
            m.receives += 1;
            batch.push(m);
          }
          return reply(200, {
            Messages: batch.map((m) => ({
              MessageId: m.id,
              ReceiptHandle: m.receipt,
              Body: m.body,
              MD5OfBody: md5(m.body),
              Attributes: { ApproximateReceiveCount: String(m.receives), SentTimestamp: String(m.sentAt) },
            })),
          });
        }
        case 'AmazonSQS.ChangeMessageVisibility': {
          const name = queueName(body.QueueUrl);
          const message = queues.get(name)?.messages.find((m) => m.receipt === body.ReceiptHandle);
          if (!message)
            return reply(400, { __type: 'com.amazonaws.sqs#ReceiptHandleIsInvalid', message: 'The input receipt handle is invalid.' });
          const seconds = Number(body.VisibilityTimeout ?? 0);
          if (!(Number.isInteger(seconds) && seconds >= 0 && seconds <= 43_200)) {
            return reply(400, { __type: 'com.amazonaws.sqs#InvalidParameterValue', message: 'VisibilityTimeout must be 0–43200.' });
          }
          visibilityChanges.push({ queue: name, seconds, at: now() });
          message.invisibleUntil = now() + seconds * 1000;
          return reply(200, {});
        }
        case 'AmazonSQS.DeleteMessage': {
          const queue = queues.get(queueName(body.QueueUrl));
          const index = queue?.messages.findIndex((m) => m.receipt === body.ReceiptHandle) ?? -1;
          if (!queue || index < 0)
            return reply(400, { __type: 'com.amazonaws.sqs#ReceiptHandleIsInvalid', message: 'The input receipt handle is invalid.' });
          queue.messages.splice(index, 1);
          return reply(200, {});
        }
        case 'AmazonSQS.GetQueueAttributes': {
          const queue = queues.get(queueName(body.QueueUrl));
          if (!queue) return noQueue();
          const at = now();
          return reply(200, {
            Attributes: {
              QueueArn: arnOf(queue.name),
              ApproximateNumberOfMessages: String(queue.messages.filter((m) => m.invisibleUntil <= at).length),
              ApproximateNumberOfMessagesNotVisible: String(queue.messages.filter((m) => m.invisibleUntil > at).length),
              ...(queue.options.deadLetter
                ? {
                    RedrivePolicy: JSON.stringify({
                      deadLetterTargetArn: arnOf(queue.options.deadLetter.name),
                      maxReceiveCount: queue.options.deadLetter.maxReceiveCount,
                    }),
                  }
                : {}),
            },
          });
        }
        case 'AmazonSQS.StartMessageMoveTask': {
          const sourceName = nameOfArn(body.SourceArn);
          const source = queues.get(sourceName);
          if (!source) return noQueue();
          if (sourcesOf(sourceName).length === 0) {
            return reply(400, {
              __type: 'com.amazonaws.sqs#InvalidParameterValue',
              message: 'Source queue must be configured as a Dead Letter Queue.',
            });
          }
          if (moveTasks.some((t) => t.sourceArn === body.SourceArn && t.status === 'RUNNING')) {
            return reply(400, { __type: 'com.amazonaws.sqs#UnsupportedOperation', message: 'There is already a task running.' });
          }
          const task: MoveTask = {
            handle: randomUUID(),
            sourceArn: String(body.SourceArn),
            ...(body.DestinationArn ? { destinationArn: String(body.DestinationArn) } : {}),
            status: 'RUNNING',
            toMove: source.messages.length,
            moved: 0,
            startedAt: now(),
          };
          moveTasks.push(task);
          return reply(200, { TaskHandle: task.handle });
        }
        case 'AmazonSQS.ListMessageMoveTasks': {
          advanceMoveTasks();
          const results = moveTasks
            .filter((t) => t.sourceArn === body.SourceArn)
            .reverse()
            .slice(0, Number(body.MaxResults ?? 1))
            .map((t) => ({
              TaskHandle: t.status === 'RUNNING' ? t.handle : undefined,
              Status: t.status,
              SourceArn: t.sourceArn,
              DestinationArn: t.destinationArn,
              ApproximateNumberOfMessagesMoved: t.moved,
              ApproximateNumberOfMessagesToMove: t.toMove,
              StartedTimestamp: t.startedAt,
            }));
          return reply(200, { Results: results });
        }
        default:
          return reply(400, { __type: 'UnknownOperationException', message: `fake does not implement ${target}` });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    queueUrl: (name, queueOptions) => {
      ensureQueue(name, queueOptions);
      return `${endpoint}/${ACCOUNT}/${name}`;
    },
    queueArn: arnOf,
    sent,
    messages: (name) => (queues.get(name)?.messages ?? []).map((m) => m.body),
    put: (name, body) => void put(name, body),
    nextVisibleAt: (name) => {
      const times = (queues.get(name)?.messages ?? []).map((m) => m.invisibleUntil);
      return times.length ? Math.min(...times) : undefined;
    },
    visibilityChanges,
    delays,
    moveTasks,
    secrets,
    calls,
    failWith: (status, target) => {
      failure = status === undefined ? undefined : { status, target };
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
