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
  /** Messages sent to each queue, by queue name (bodies as sent). */
  queues: Map<string, string[]>;
  /** SecretString by secret id; delete an entry to make GetSecretValue fail. */
  secrets: Map<string, string>;
  calls: { target: string; body: Record<string, unknown> }[];
  /** Answer every call with this HTTP status (e.g. 500, 503) until cleared with undefined. */
  failWith(status: number | undefined, target?: string): void;
  close(): Promise<void>;
}

export async function startAwsFake(): Promise<AwsFake> {
  const queues = new Map<string, string[]>();
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
          const name = String(body.QueueUrl).split('/').pop()!;
          const messageBody = String(body.MessageBody);
          if (!queues.has(name)) return reply(400, { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' });
          queues.get(name)!.push(messageBody);
          // The SDK checks this MD5 of the body (NOTES.md).
          return reply(200, { MessageId: randomUUID(), MD5OfMessageBody: createHash('md5').update(messageBody).digest('hex') });
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
      if (!queues.has(name)) queues.set(name, []);
      return `${endpoint}/123456789012/${name}`;
    },
    queues,
    secrets,
    calls,
    failWith: (status, target) => void (failure = status === undefined ? undefined : { status, target }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
