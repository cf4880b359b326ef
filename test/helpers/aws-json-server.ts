/**
 * Wire-protocol fakes for AWS services with no maintained local server (NOTES.md): a
 * node:http server on 127.0.0.1 answering the AWS JSON protocol (`X-Amz-Target`). The real
 * SDK clients talk to it through AWS_ENDPOINT_URL_* or the SQS queue URL's own host.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AwsFake {
  endpoint: string;
  /** The SQS queue URL for a queue name on this server. */
  queueUrl(name: string): string;
  /** Every body sent to each queue, by queue name, in order (a log: receiving does not remove). */
  sent: Map<string, string[]>;
  /** The bodies a queue holds now (sent or put, not yet deleted). */
  messages(name: string): string[];
  /** Puts a message straight into a queue (e.g. a DLQ), as SQS would after the last receive. */
  put(name: string, body: string): void;
  /** SecretString by secret id; delete an entry to make GetSecretValue fail. */
  secrets: Map<string, string>;
  calls: { target: string; body: Record<string, unknown> }[];
  /** Answer every call with this HTTP status (e.g. 500, 503) until cleared with undefined. */
  failWith(status: number | undefined, target?: string): void;
  close(): Promise<void>;
}

export async function startAwsFake(): Promise<AwsFake> {
  const sent = new Map<string, string[]>();
  type Stored = { id: string; body: string; receipt?: string; invisibleUntil: number; receives: number };
  const stored = new Map<string, Stored[]>();
  const put = (name: string, body: string) => {
    const id = randomUUID();
    stored.get(name)!.push({ id, body, invisibleUntil: 0, receives: 0 });
    return id;
  };
  const md5 = (text: string) => createHash('md5').update(text).digest('hex');
  const queueName = (url: unknown) => String(url).split('/').pop()!;
  const secrets = new Map<string, string>();
  const calls: AwsFake['calls'] = [];
  let failure: { status: number; target?: string } | undefined;

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
      if (failure && (!failure.target || failure.target === target)) {
        return reply(failure.status, { __type: 'InternalFailure', message: 'injected failure' });
      }
      switch (target) {
        case 'secretsmanager.GetSecretValue': {
          const id = String(body.SecretId);
          const value = secrets.get(id);
          if (value === undefined) return reply(400, { __type: 'ResourceNotFoundException', message: 'Secrets Manager can’t find the specified secret.' });
          return reply(200, { ARN: id, Name: id, SecretString: value, VersionId: randomUUID(), VersionStages: ['AWSCURRENT'] });
        }
        case 'AmazonSQS.SendMessage': {
          const name = queueName(body.QueueUrl);
          const messageBody = String(body.MessageBody);
          if (!stored.has(name)) return reply(400, { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' });
          sent.get(name)!.push(messageBody);
          // The SDK checks this MD5 of the body (NOTES.md).
          return reply(200, { MessageId: put(name, messageBody), MD5OfMessageBody: md5(messageBody) });
        }
        case 'AmazonSQS.ReceiveMessage': {
          const queue = stored.get(queueName(body.QueueUrl));
          if (!queue) return reply(400, { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' });
          const max = Number(body.MaxNumberOfMessages ?? 1);
          const visibility = Number(body.VisibilityTimeout ?? 30);
          const now = Date.now();
          const batch = queue.filter((m) => m.invisibleUntil <= now).slice(0, max);
          for (const m of batch) {
            m.receipt = randomUUID();
            m.invisibleUntil = now + visibility * 1000;
            m.receives += 1;
          }
          return reply(200, {
            Messages: batch.map((m) => ({
              MessageId: m.id,
              ReceiptHandle: m.receipt,
              Body: m.body,
              MD5OfBody: md5(m.body),
              Attributes: { ApproximateReceiveCount: String(m.receives) },
            })),
          });
        }
        case 'AmazonSQS.ChangeMessageVisibility': {
          const queue = stored.get(queueName(body.QueueUrl));
          const message = queue?.find((m) => m.receipt === body.ReceiptHandle);
          if (!message) return reply(400, { __type: 'com.amazonaws.sqs#ReceiptHandleIsInvalid', message: 'The input receipt handle is invalid.' });
          message.invisibleUntil = Date.now() + Number(body.VisibilityTimeout ?? 0) * 1000;
          return reply(200, {});
        }
        case 'AmazonSQS.DeleteMessage': {
          const queue = stored.get(queueName(body.QueueUrl));
          const index = queue?.findIndex((m) => m.receipt === body.ReceiptHandle) ?? -1;
          if (!queue || index < 0) return reply(400, { __type: 'com.amazonaws.sqs#ReceiptHandleIsInvalid', message: 'The input receipt handle is invalid.' });
          queue.splice(index, 1);
          return reply(200, {});
        }
        default:
          return reply(400, { __type: 'UnknownOperationException', message: `fake does not implement ${target}` });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    queueUrl: (name) => {
      if (!stored.has(name)) {
        stored.set(name, []);
        sent.set(name, []);
      }
      return `${endpoint}/123456789012/${name}`;
    },
    sent,
    messages: (name) => (stored.get(name) ?? []).map((m) => m.body),
    put: (name, body) => void put(name, body),
    secrets,
    calls,
    failWith: (status, target) => void (failure = status === undefined ? undefined : { status, target }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
