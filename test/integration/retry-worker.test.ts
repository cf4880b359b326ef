/**
 * The retry worker (SPEC §5) and the DLQ re-drive against the CRM server and the SQS fake.
 */
import { spawn } from 'node:child_process';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRetryWorker } from '../../lambda/create-retry-worker';
import type { RetryQueueMessage } from '../../lambda/core/ports';
import { redrive } from '../../scripts/lib/redrive';
import { type LocalAws, startLocalAws } from '../helpers/local-aws';

let local: LocalAws;
const logs: string[] = [];
const ROOT = new URL('../..', import.meta.url).pathname;

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
    crmPayload: { type: 'conversationAICall', subject: `Subject ${n}`, to: '+61413052898', name: 'Jane Citizen', summary: 'A private summary.', status: 'held', duration: 60 + n },
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
    const result = await worker()({ Records: [record('a', JSON.stringify(message(1))), record('b', JSON.stringify(message(2)))] } as SQSEvent);
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
      Records: [record('ok-1', JSON.stringify(message(1))), record('bad-2', JSON.stringify(message(2))), record('ok-3', JSON.stringify(message(3)))],
    } as SQSEvent);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad-2' }] });
    expect(logs.map((l) => JSON.parse(l)).find((l) => l.messageId === 'bad-2')).toMatchObject({ outcome: 'retry', CrmForwardFailed: 1, CrmForwardRetried: 1 });
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
    expect(await handler({ Records: [record('x', JSON.stringify(message(6)))] } as SQSEvent)).toEqual({ batchItemFailures: [{ itemIdentifier: 'x' }] });
    expect(JSON.parse(logs[0]!)).toMatchObject({ level: 'error', message: 'invalid configuration' });
  });

  it('never logs the name, the summary or the full number', async () => {
    local.crm.respond({ status: 503 });
    await worker()({ Records: [record('p', JSON.stringify(message(7)))] } as SQSEvent);
    const log = logs.join('\n');
    for (const text of ['Jane', 'private summary', '+61413052898']) expect(log).not.toContain(text);
  });
});

describe('DLQ re-drive', () => {
  const client = () => new SQSClient({});

  it('dry run: lists each message masked, moves nothing, leaves them visible', async () => {
    const dlq = 'redrive-dry-dlq';
    const dlqUrl = local.aws.queueUrl(dlq);
    const queueUrl = local.aws.queueUrl('redrive-dry-queue');
    local.aws.put(dlq, JSON.stringify(message(10)));
    local.aws.put(dlq, 'garbage');
    const lines: string[] = [];
    const result = await redrive({ dlqUrl, queueUrl, dryRun: true, client: client(), print: (l) => lines.push(l) });
    expect(result).toEqual({ listed: 2, moved: 0 });
    expect(local.aws.messages(dlq)).toHaveLength(2);
    expect(local.aws.messages('redrive-dry-queue')).toHaveLength(0);
    expect(lines.join('\n')).toMatch(/would move .*post_call_transcription .*conversation=conv_retry_10 .*to=\+\*{8}898 .*attempts=3/);
    expect(lines.join('\n')).toMatch(/unreadable message \(7 bytes\)/);
    for (const text of ['Jane', 'private summary', '+61413052898']) expect(lines.join('\n')).not.toContain(text);
    // Visible again at once: a real run right after sees them.
    const again = await redrive({ dlqUrl, queueUrl, dryRun: true, client: client(), print: () => undefined });
    expect(again.listed).toBe(2);
  });

  it('moves every message back to the retry queue unchanged and empties the DLQ', async () => {
    const dlq = 'redrive-dlq';
    const dlqUrl = local.aws.queueUrl(dlq);
    const queueUrl = local.aws.queueUrl('redrive-queue');
    const bodies = Array.from({ length: 23 }, (_, i) => JSON.stringify(message(100 + i)));
    for (const body of bodies) local.aws.put(dlq, body);
    const result = await redrive({ dlqUrl, queueUrl, dryRun: false, client: client(), print: () => undefined });
    expect(result).toEqual({ listed: 23, moved: 23 });
    expect(local.aws.messages(dlq)).toEqual([]);
    expect(local.aws.messages('redrive-queue').sort()).toEqual([...bodies].sort());
  });

  it('stops after --max messages', async () => {
    const dlq = 'redrive-max-dlq';
    const dlqUrl = local.aws.queueUrl(dlq);
    for (let i = 0; i < 5; i++) local.aws.put(dlq, JSON.stringify(message(200 + i)));
    const result = await redrive({ dlqUrl, queueUrl: local.aws.queueUrl('redrive-max-queue'), dryRun: false, max: 3, client: client(), print: () => undefined });
    expect(result).toEqual({ listed: 3, moved: 3 });
    expect(local.aws.messages(dlq)).toHaveLength(2);
  });

  it('runs as `npm run redrive -- --dlq ... --queue ... --dry-run`', async () => {
    const dlq = 'redrive-cli-dlq';
    const dlqUrl = local.aws.queueUrl(dlq);
    local.aws.put(dlq, JSON.stringify(message(300)));
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/redrive.ts', '--dlq', dlqUrl, '--queue', local.aws.queueUrl('redrive-cli-queue'), '--dry-run'], {
      cwd: ROOT,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(out).toContain('dry run: 1 message(s) would be moved; nothing changed');
    expect(code).toBe(0);
    expect(local.aws.messages(dlq)).toHaveLength(1);
  });
});
