/**
 * The retry worker (contract §5) and the DLQ re-drive against the CRM server and the SQS fake.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RetryQueueMessage } from '../../lambda/core/ports';
import { createRetryWorker } from '../../lambda/create-retry-worker';
import { redrive, regionOfQueueUrl } from '../../scripts/lib/redrive';
import { type AwsFake, startAwsFake } from '../../support/stand-ins/aws-json';
import { startBlackHole } from '../../support/stand-ins/black-hole';
import { startDynamo } from '../../support/stand-ins/dynamo';
import { type LocalAws, startLocalAws } from '../helpers/local-aws';
import { runScript } from '../helpers/local-cli';

let local: LocalAws;
const logs: string[] = [];

beforeAll(async () => {
  local = await startLocalAws();
});
afterAll(() => local.close());
beforeEach(() => {
  logs.length = 0;
  local.crm.respond({ status: 200 });
  local.aws.failWith(undefined);
});

function message(n: number, overrides: Partial<RetryQueueMessage> = {}): RetryQueueMessage {
  return {
    crmPayload: {
      type: 'conversationAICall',
      subject: `Subject ${n}`,
      to: '+61413052898',
      name: 'Jane Citizen',
      summary: 'A private summary.',
      status: 'held',
      duration: 60 + n,
    },
    eventType: 'post_call_transcription',
    conversationId: `conv_retry_${n}`,
    attempts: 3,
    lastError: 'HTTP 503',
    firstAttemptAt: '2026-11-22T10:00:00.000Z',
    ...overrides,
  };
}

function record(id: string, body: string): SQSRecord {
  return { messageId: id, receiptHandle: `rh-${id}`, body, attributes: { ApproximateReceiveCount: '2' } } as unknown as SQSRecord;
}

const worker = (env: Record<string, string> = {}) =>
  createRetryWorker(
    { CRM_WEBHOOK_URL: local.crm.url, CRM_DEAD_LETTER_QUEUE_URL: local.deadLetterQueueUrl, CRM_MAX_ATTEMPTS: '2', ...env },
    { write: (line) => logs.push(line), crm: { backoffBaseMs: 5 } },
  );

describe('the retry worker', () => {
  it('forwards each crmPayload unchanged and reports no failures', async () => {
    const before = local.crm.received.length;
    const result = await worker()({
      Records: [record('a', JSON.stringify(message(1))), record('b', JSON.stringify(message(2)))],
    } as SQSEvent);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(local.crm.received.slice(before)).toEqual(expect.arrayContaining([message(1).crmPayload, message(2).crmPayload]));
    expect(local.crm.received.length - before).toBe(2);
    expect(logs.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ outcome: 'delivered', CrmForwardSucceeded: 1, crmTo: '+********898' }),
      expect.objectContaining({ outcome: 'delivered', CrmForwardSucceeded: 1 }),
    ]);
  });

  it('names only the records that failed, so only those come back', async () => {
    local.crm.respond((_i, body) => ((body as { subject: string }).subject === 'Subject 2' ? { status: 503 } : { status: 200 }));
    const result = await worker()({
      Records: [
        record('ok-1', JSON.stringify(message(1))),
        record('bad-2', JSON.stringify(message(2))),
        record('ok-3', JSON.stringify(message(3))),
      ],
    } as SQSEvent);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad-2' }] });
    expect(logs.map((l) => JSON.parse(l)).find((l) => l.messageId === 'bad-2')).toMatchObject({
      outcome: 'retry',
      CrmForwardFailed: 1,
      CrmForwardRetried: 1,
    });
  });

  it('sends a permanently refused payload straight to the DLQ instead of burning receives', async () => {
    local.crm.respond({ status: 400 });
    const beforeCrm = local.crm.received.length;
    const beforeDlq = local.aws.sent.get('crm-retry-dlq')!.length;
    const result = await worker()({ Records: [record('perm', JSON.stringify(message(4)))] } as SQSEvent);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(local.crm.received.length - beforeCrm).toBe(1);
    const dead = JSON.parse(local.aws.sent.get('crm-retry-dlq')![beforeDlq]!);
    expect(dead).toEqual({ ...message(4), attempts: 4, lastError: 'HTTP 400' });
  });

  it('keeps a permanent failure in the retry cycle when the DLQ refuses it (never dropped)', async () => {
    local.crm.respond({ status: 400 });
    local.aws.failWith(500, 'AmazonSQS.SendMessage');
    const result = await worker()({ Records: [record('perm2', JSON.stringify(message(5)))] } as SQSEvent);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'perm2' }] });
  });

  it('dead-letters an unreadable message without calling the CRM', async () => {
    const before = local.crm.received.length;
    const result = await worker()({ Records: [record('junk', '{"not":"ours"}')] } as SQSEvent);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(local.crm.received.length).toBe(before);
    expect(local.aws.sent.get('crm-retry-dlq')!.at(-1)).toBe('{"not":"ours"}');
  });

  it('hands every record back when its configuration is invalid', async () => {
    const handler = createRetryWorker({ CRM_WEBHOOK_URL: 'nope' }, { write: (l) => logs.push(l) });
    expect(await handler({ Records: [record('x', JSON.stringify(message(6)))] } as SQSEvent)).toEqual({
      batchItemFailures: [{ itemIdentifier: 'x' }],
    });
    expect(JSON.parse(logs[0]!)).toMatchObject({ level: 'error', message: 'invalid configuration' });
  });

  it("delivers a message an earlier release queued outside today's bounds instead of dead-lettering it (contract §5)", async () => {
    const before = local.crm.accepted.length;
    const earlier = { ...message(8), crmPayload: { ...message(8).crmPayload, summary: 's'.repeat(25_000), duration: 61.7 } };
    const partial: Record<string, unknown> = { ...earlier };
    delete partial.firstAttemptAt;
    const result = await worker()({ Records: [record('old', JSON.stringify(partial))] } as SQSEvent);
    expect(result).toEqual({ batchItemFailures: [] });
    const sent = local.crm.accepted.slice(before) as { summary: string; duration: number }[];
    expect(sent).toHaveLength(1);
    expect([sent[0]!.summary.length, sent[0]!.summary.endsWith('…'), sent[0]!.duration]).toEqual([20_000, true, 61]);
    expect(JSON.parse(logs.at(-1)!)).toMatchObject({ outcome: 'delivered', fitted: 'summary,duration' });
  });

  it('with the idempotency table, the same message delivered twice (one batch, then again) reaches the CRM once', async () => {
    const dynamo = await startDynamo({ table: 'retry-idempotency' });
    process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
    try {
      const handler = worker({ IDEMPOTENCY_TABLE: 'retry-idempotency' });
      const before = local.crm.accepted.length;
      const body = JSON.stringify(message(9));
      const batch = await handler({ Records: [record('dup', body), record('dup', body)] } as SQSEvent);
      // One of the two copies is delivered; the other is handed back while that delivery is in flight.
      expect(batch).toEqual({ batchItemFailures: [{ itemIdentifier: 'dup' }] });
      expect(await handler({ Records: [record('dup', body)] } as SQSEvent)).toEqual({ batchItemFailures: [] });
      expect(local.crm.accepted.slice(before)).toEqual([message(9).crmPayload]);
      expect(JSON.parse(logs.at(-1)!)).toMatchObject({ outcome: 'deduplicated', Deduplicated: 1 });
    } finally {
      await dynamo.close();
    }
  });

  it('never logs the name, the summary or the full number', async () => {
    local.crm.respond({ status: 503 });
    await worker()({ Records: [record('p', JSON.stringify(message(7)))] } as SQSEvent);
    const log = logs.join('\n');
    for (const text of ['Jane', 'private summary', '+61413052898']) expect(log).not.toContain(text);
  });
});

describe('DLQ re-drive with an SQS message-move task', () => {
  let sqs: AwsFake;
  beforeAll(async () => {
    sqs = await startAwsFake({ moveBatch: 10 });
  });
  afterAll(() => sqs.close());
  // Calls without a QueueUrl (StartMessageMoveTask) go to the client's endpoint, not a queue's host.
  const client = () => new SQSClient({ region: 'ap-southeast-2', endpoint: sqs.endpoint });
  /** A retry queue whose redrive policy names `<name>-dlq`, as the stack deploys them. */
  const queues = (name: string) => {
    const queueUrl = sqs.queueUrl(name, { deadLetter: { name: `${name}-dlq`, maxReceiveCount: 13 } });
    return { queueUrl, dlqUrl: sqs.queueUrl(`${name}-dlq`), dlq: `${name}-dlq` };
  };
  const quiet = { client: undefined as SQSClient | undefined, print: () => undefined, pollIntervalMs: 1 };

  it('dry run: previews each message masked, moves nothing, leaves them visible', async () => {
    const { dlqUrl, dlq } = queues('dry');
    sqs.put(dlq, JSON.stringify(message(10)));
    sqs.put(dlq, 'garbage');
    const lines: string[] = [];
    const result = await redrive({ dlqUrl, dryRun: true, client: client(), print: (l) => lines.push(l) });
    expect(result).toEqual({ kind: 'previewed', listed: 2, total: 2 });
    expect(sqs.messages(dlq)).toHaveLength(2);
    expect(sqs.messages('dry')).toHaveLength(0);
    expect(sqs.moveTasks).toEqual([]);
    const output = lines.join('\n');
    expect(output).toMatch(/would move .*post_call_transcription .*conversation=conv_retry_10 .*to=\+\*{8}898 .*attempts=3/);
    expect(output).toMatch(/unreadable message \(7 bytes\)/);
    expect(output).toContain('dry run: 2 message(s) would be moved to their source queue; nothing changed');
    for (const text of ['Jane', 'private summary', '+61413052898']) expect(output).not.toContain(text);
    // Visible again at once: a real run right after sees them.
    expect(await redrive({ dlqUrl, dryRun: true, client: client(), print: () => undefined })).toMatchObject({ listed: 2 });
  });

  it('previews at most --max messages and says how many there are', async () => {
    const { dlqUrl, dlq } = queues('dry-max');
    for (let i = 0; i < 5; i++) sqs.put(dlq, JSON.stringify(message(20 + i)));
    const lines: string[] = [];
    expect(await redrive({ dlqUrl, dryRun: true, max: 3, client: client(), print: (l) => lines.push(l) })).toEqual({
      kind: 'previewed',
      listed: 3,
      total: 5,
    });
    expect(lines.at(-1)).toBe('dry run: 5 message(s) would be moved to their source queue (showing 3); nothing changed');
  });

  it('moves every message back to its source queue unchanged, showing progress, and ends', async () => {
    const { dlqUrl, dlq } = queues('move');
    const bodies = Array.from({ length: 23 }, (_, i) => JSON.stringify(message(100 + i)));
    for (const body of bodies) sqs.put(dlq, body);
    const lines: string[] = [];
    const result = await redrive({ ...quiet, dlqUrl, dryRun: false, client: client(), print: (l) => lines.push(l) });
    expect(result).toEqual({ kind: 'completed', moved: 23, toMove: 23 });
    expect(sqs.messages(dlq)).toEqual([]);
    expect(sqs.messages('move').sort()).toEqual([...bodies].sort());
    expect(lines).toEqual([
      'moving 23 message(s) to their source queue with an SQS message-move task',
      '  moved 10 of 23',
      '  moved 20 of 23',
      '  moved 23 of 23',
      'done: moved 23 message(s); the retry worker forwards them again',
    ]);
  });

  it('always ends, even when the worker dead-letters failures again while the task runs', async () => {
    const { dlqUrl, dlq } = queues('loop');
    for (let i = 0; i < 25; i++) sqs.put(dlq, JSON.stringify(message(200 + i)));
    let sent = 0;
    // Every progress line, the worker sends another failure to the DLQ under a new message id.
    const print = () => {
      sent++;
      sqs.put(dlq, JSON.stringify(message(300 + sent)));
    };
    const result = await redrive({ ...quiet, dlqUrl, dryRun: false, client: client(), print });
    expect(result).toMatchObject({ kind: 'completed', toMove: 25 });
    expect(sqs.messages(dlq).length).toBeGreaterThan(0); // the new failures wait for the next re-drive
  });

  it('moves to --queue when given', async () => {
    const { dlqUrl, dlq } = queues('dest');
    const other = sqs.queueUrl('dest-other');
    sqs.put(dlq, JSON.stringify(message(400)));
    expect(await redrive({ ...quiet, dlqUrl, queueUrl: other, dryRun: false, client: client() })).toMatchObject({
      kind: 'completed',
      moved: 1,
    });
    expect(sqs.messages('dest-other')).toHaveLength(1);
    expect(sqs.messages('dest')).toHaveLength(0);
  });

  it('stops watching after --timeout and says the task keeps running in SQS', async () => {
    const stuck = await startAwsFake({ moveBatch: 0 }); // a task that never progresses
    try {
      stuck.queueUrl('slow', { deadLetter: { name: 'slow-dlq', maxReceiveCount: 13 } });
      const dlqUrl = stuck.queueUrl('slow-dlq');
      stuck.put('slow-dlq', JSON.stringify(message(500)));
      let clock = Date.now();
      const lines: string[] = [];
      const result = await redrive({
        dlqUrl,
        dryRun: false,
        client: new SQSClient({ region: 'ap-southeast-2', endpoint: stuck.endpoint }),
        print: (l) => lines.push(l),
        timeoutMs: 60_000,
        now: () => clock,
        sleep: async (ms) => {
          clock += ms;
        },
        pollIntervalMs: 20_000,
      });
      expect(result).toEqual({ kind: 'still-running', moved: 0, toMove: 1 });
      expect(lines.at(-1)).toMatch(
        /^still running after 60 s; SQS keeps moving \(watch with `aws sqs list-message-move-tasks --source-arn arn:aws:sqs:ap-southeast-2:123456789012:slow-dlq`\)$/,
      );
    } finally {
      await stuck.close();
    }
  });

  it('says so when the dead-letter queue is empty', async () => {
    const { dlqUrl } = queues('empty');
    expect(await redrive({ dlqUrl, dryRun: false, client: client(), print: () => undefined })).toEqual({ kind: 'empty' });
    expect(sqs.moveTasks.filter((t) => t.sourceArn.endsWith(':empty-dlq'))).toEqual([]);
  });

  it('reads the region from the queue URL', () => {
    expect(regionOfQueueUrl('https://sqs.eu-west-1.amazonaws.com/123456789012/q')).toBe('eu-west-1');
    expect(regionOfQueueUrl('https://ap-southeast-2.queue.amazonaws.com/123456789012/q')).toBe('ap-southeast-2');
    expect(regionOfQueueUrl('http://127.0.0.1:4566/123456789012/q')).toBeUndefined();
  });

  const run = async (args: string[], env: NodeJS.ProcessEnv = { ...process.env, AWS_ENDPOINT_URL_SQS: sqs.endpoint }) => {
    const { code, stdout, stderr } = await runScript('redrive', args, env, { timeoutMs: 60_000 });
    return { code, out: stdout, err: stderr };
  };

  it('ends with one line and exit 1 when SQS accepts the connection and never answers', async () => {
    const hole = await startBlackHole();
    try {
      const { code, err } = await run(['--dlq', `${hole.endpoint}/123456789012/stalled-dlq`], {
        ...process.env,
        AWS_ENDPOINT_URL_SQS: hole.endpoint,
      });
      expect(code).toBe(1);
      expect(err.trim()).toMatch(/^redrive: failed: (TimeoutError|AbortError)/);
      expect(hole.connections()).toBeGreaterThan(0);
    } finally {
      await hole.close();
    }
  });

  it('runs as `npm run redrive -- --dlq ... --dry-run`', async () => {
    const { dlqUrl, dlq } = queues('cli');
    sqs.put(dlq, JSON.stringify(message(600)));
    const { code, out } = await run(['--dlq', dlqUrl, '--dry-run']);
    expect(out).toContain('dry run: 1 message(s) would be moved to their source queue; nothing changed');
    expect(code).toBe(0);
    expect(sqs.messages(dlq)).toHaveLength(1);
  });

  it.each([
    ['no --dlq', [], 2, /^redrive: --dlq is required/],
    ['an unknown flag', ['--dlq', 'https://sqs.ap-southeast-2.amazonaws.com/1/q', '--bogus'], 2, /^redrive: unknown option --bogus/],
    [
      'a bad --max',
      ['--dlq', 'https://sqs.ap-southeast-2.amazonaws.com/1/q', '--max', 'lots'],
      2,
      /^redrive: --max must be a whole number/,
    ],
    ['a --dlq that is not a URL', ['--dlq', 'my-dlq'], 2, /^redrive: --dlq must be an SQS queue URL/],
    ['a queue that is not a dead-letter queue', ['--dlq', 'QUEUE_NOT_DLQ'], 1, /^redrive: failed: .*Dead Letter Queue/],
  ])('%s: one clear line, the right exit code, no stack trace', async (_name, args, exitCode, pattern) => {
    const resolved = args.map((a) => (a === 'QUEUE_NOT_DLQ' ? sqs.queueUrl('plain-queue') : a));
    if (resolved.includes(sqs.queueUrl('plain-queue'))) sqs.put('plain-queue', 'x');
    const { code, err } = await run(resolved);
    expect(code).toBe(exitCode);
    expect(err.trim().split('\n')[0]).toMatch(pattern);
    expect(err).not.toMatch(/\n\s+at /);
  });
});
