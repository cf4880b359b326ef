/**
 * One CRM record per queued message when SQS delivers it more than once (contract §5): a CRM
 * that accepts slowly while the message's visibility runs out and SQS hands it to a second
 * invocation. Against the SQS stand-in (virtual clock for visibility), dynalite for the
 * idempotency table and the CRM stand-in; the worker is the real handler with the real clients,
 * and this file plays the Lambda event source (receive, invoke, delete what did not fail).
 */
import { DeleteMessageCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRetryWorker, type RetryWorkerHandler } from '../../lambda/create-retry-worker';
import { type AwsFake, startAwsFake } from '../../support/stand-ins/aws-json';
import { type CrmStandIn, startCrmStandIn } from '../../support/stand-ins/crm';
import { type DynamoStandIn, startDynamo } from '../../support/stand-ins/dynamo';
import { sqsEventOf } from '../helpers/sqs-event';

const TABLE = 'idempotency-redelivery';
const VISIBILITY_SECONDS = 30;
let clock = Date.parse('2026-12-04T00:00:00Z');
let aws: AwsFake;
let crm: CrmStandIn;
let dynamo: DynamoStandIn;
let sqs: SQSClient;
const logs: Record<string, unknown>[] = [];

beforeAll(async () => {
  [aws, crm, dynamo] = await Promise.all([startAwsFake({ now: () => clock }), startCrmStandIn(), startDynamo({ table: TABLE })]);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  sqs = new SQSClient({ region: 'ap-southeast-2', endpoint: aws.endpoint });
});
afterAll(async () => {
  sqs.destroy();
  await Promise.all([aws.close(), crm.close(), dynamo.close()]);
});

const body = JSON.stringify({
  crmPayload: {
    type: 'conversationAICall',
    subject: 'Renewal',
    to: '+61491570156',
    name: 'Avery Quinn',
    summary: 'Summary.',
    status: 'held',
    duration: 42,
  },
  eventType: 'post_call_transcription',
  conversationId: 'conv_redelivered',
  attempts: 3,
  lastError: 'HTTP 503',
  firstAttemptAt: '2026-12-04T00:00:00.000Z',
});

function worker(queueUrl: string): RetryWorkerHandler {
  return createRetryWorker(
    { CRM_WEBHOOK_URL: crm.url, CRM_MAX_ATTEMPTS: '1', CRM_TIMEOUT_MS: '12000', CRM_RETRY_QUEUE_URL: queueUrl, IDEMPOTENCY_TABLE: TABLE },
    { write: (line) => logs.push(JSON.parse(line)) },
  );
}

/** One poll of the event source: receive what is visible, invoke, delete what the worker did not hand back. */
async function poll(queueUrl: string, handler: RetryWorkerHandler): Promise<{ received: Message[]; failed: string[] }> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
  );
  if (Messages.length === 0) return { received: [], failed: [] };
  const event = sqsEventOf(Messages);
  const { batchItemFailures } = await handler(event, { getRemainingTimeInMillis: () => 30_000 });
  const failed = batchItemFailures.map((f) => f.itemIdentifier);
  for (const m of Messages.filter((m) => !failed.includes(m.MessageId!))) {
    // A receipt handle from before a redelivery is no longer valid (as in SQS): that delete fails.
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle })).catch(() => undefined);
  }
  return { received: Messages, failed };
}

describe('SQS redelivers while the CRM accepts slowly', () => {
  it('the CRM gets one record: the second delivery comes back while the first is in flight, the third is deduplicated', async () => {
    const queueUrl = aws.queueUrl('retry-redelivery', { visibilityTimeoutSeconds: VISIBILITY_SECONDS });
    aws.put('retry-redelivery', body);
    let accept!: () => void;
    crm.respond({ status: 200, until: new Promise<void>((resolve) => (accept = resolve)) });
    const before = crm.accepted.length;

    // Invocation 1 receives the message and waits on the slow CRM.
    const first = poll(queueUrl, worker(queueUrl));
    await waitUntil(() => crm.stats.requests > 0);
    // The visibility timeout runs out before the CRM answers: SQS hands the same message to invocation 2.
    clock += (VISIBILITY_SECONDS + 1) * 1000;
    const second = await poll(queueUrl, worker(queueUrl));
    expect(second.received.map((m) => m.Attributes?.ApproximateReceiveCount)).toEqual(['2']);
    expect(second.failed).toEqual([second.received[0]!.MessageId]);
    expect(crm.stats.requests).toBe(1);

    // The CRM answers invocation 1: delivered. Its delete fails (its receipt is stale), so SQS delivers a third time…
    accept();
    expect((await first).failed).toEqual([]);
    clock = aws.nextVisibleAt('retry-redelivery')!;
    const third = await poll(queueUrl, worker(queueUrl));
    expect(third.failed).toEqual([]);
    // …and that delivery is acknowledged without a second record.
    expect(crm.accepted.slice(before)).toHaveLength(1);
    expect(crm.stats.requests).toBe(1);
    expect(aws.messages('retry-redelivery')).toEqual([]);
    expect(logs.map((l) => [l.outcome, l.Deduplicated ?? 0])).toEqual([
      ['retry', 0],
      ['delivered', 0],
      ['deduplicated', 1],
    ]);
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
