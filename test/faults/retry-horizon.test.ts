/**
 * The retry horizon (contract §5): during a CRM outage the retry worker hides each failed record
 * for longer on every receive, so a queued payload keeps trying for at least 24 hours before
 * SQS moves it to the dead-letter queue. Run against the SQS stand-in with a virtual clock
 * (a day passes in milliseconds) and the redrive policy the stack deploys; the worker is the
 * real handler with the real SQS client and CRM client.
 */
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RETRY_VISIBILITY_TIMEOUT } from '../../infra/webhook-stack';
import { RETRY_MAX_RECEIVES, retryDelaySeconds, retryHorizonSeconds } from '../../lambda/core/retry-schedule';
import { createRetryWorker } from '../../lambda/create-retry-worker';
import { type AwsFake, startAwsFake } from '../../support/stand-ins/aws-json';
import { type CrmStandIn, startCrmStandIn } from '../../support/stand-ins/crm';
import { sqsEventOf } from '../helpers/sqs-event';

const HOUR = 3_600_000;
let clock = Date.parse('2026-11-22T00:00:00Z');
let aws: AwsFake;
let crm: CrmStandIn;
let sqs: SQSClient;

beforeAll(async () => {
  aws = await startAwsFake({ now: () => clock });
  crm = await startCrmStandIn();
  // Plays the Lambda event source: polls the stand-in as SQS itself would be polled.
  sqs = new SQSClient({ region: 'ap-southeast-2', endpoint: aws.endpoint });
});
afterAll(async () => {
  sqs.destroy();
  await Promise.all([aws.close(), crm.close()]);
});

const message = (n: number) =>
  JSON.stringify({
    crmPayload: {
      type: 'conversationAICall',
      subject: 'Renewal',
      to: '+61413052898',
      name: 'Jane Citizen',
      summary: 'Summary.',
      status: 'held',
      duration: 42,
    },
    eventType: 'post_call_transcription',
    conversationId: `conv_horizon_${n}`,
    attempts: 3,
    lastError: 'HTTP 503',
    firstAttemptAt: new Date(clock).toISOString(),
  });

const toEvent = sqsEventOf;

/**
 * Plays the Lambda event source: whenever a message is visible, receive it, invoke the worker,
 * delete what the worker did not report as failed. `crmUpAt` is when the CRM comes back.
 */
async function drain(queue: string, dlq: string, crmUpAt: number) {
  const queueUrl = aws.queueUrl(queue, {
    deadLetter: { name: dlq, maxReceiveCount: RETRY_MAX_RECEIVES },
    visibilityTimeoutSeconds: RETRY_VISIBILITY_TIMEOUT.toSeconds(),
  });
  const worker = createRetryWorker(
    { CRM_WEBHOOK_URL: crm.url, CRM_MAX_ATTEMPTS: '1', CRM_RETRY_QUEUE_URL: queueUrl },
    { write: () => undefined },
  );
  const receives: number[] = [];
  for (;;) {
    const next = aws.nextVisibleAt(queue);
    if (next === undefined) break;
    clock = Math.max(clock, next);
    crm.respond({ status: clock >= crmUpAt ? 200 : 503 });
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
    );
    if (Messages.length === 0) continue; // moved to the DLQ by this receive
    receives.push(clock);
    const { batchItemFailures } = await worker(toEvent(Messages), { getRemainingTimeInMillis: () => 30_000 });
    const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
    for (const m of Messages.filter((m) => !failed.has(m.MessageId!))) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  return { receives, deadLettered: aws.messages(dlq), changes: aws.visibilityChanges.filter((c) => c.queue === queue) };
}

describe('the retry horizon', () => {
  it('the schedule itself: 1 minute doubling to a 6-hour cap, 13 receives, the last more than 24 hours after the first', () => {
    expect([1, 2, 3, 9, 10, 13, 50].map(retryDelaySeconds)).toEqual([60, 120, 240, 15_360, 21_600, 21_600, 21_600]);
    expect([0, -1, Number.NaN, 1.5].map(retryDelaySeconds)).toEqual([60, 60, 60, 60]);
    expect(retryHorizonSeconds()).toBeGreaterThanOrEqual(24 * 3600);
    // SQS caps a visibility timeout at 12 hours.
    expect(retryDelaySeconds(RETRY_MAX_RECEIVES)).toBeLessThanOrEqual(12 * 3600);
  });

  it('a CRM outage of 30 hours: the worker backs off receive by receive, and only then does SQS dead-letter the payload', async () => {
    const body = message(1);
    aws.put('retry-a', body);
    const start = clock;
    const { receives, deadLettered, changes } = await drain('retry-a', 'dlq-a', start + 30 * HOUR);
    expect(receives).toHaveLength(RETRY_MAX_RECEIVES);
    expect(changes.map((c) => c.seconds)).toEqual(Array.from({ length: RETRY_MAX_RECEIVES }, (_, i) => retryDelaySeconds(i + 1)));
    // Receives are spaced exactly by the schedule.
    for (let i = 1; i < receives.length; i++) expect(receives[i]! - receives[i - 1]!).toBe(retryDelaySeconds(i) * 1000);
    // The last delivery attempt comes more than a day after the first.
    expect(receives.at(-1)! - receives[0]!).toBe(retryHorizonSeconds() * 1000);
    expect(receives.at(-1)! - receives[0]!).toBeGreaterThanOrEqual(24 * HOUR);
    expect(deadLettered).toEqual([body]);
  });

  it('a CRM outage of 24 hours: the payload is delivered once when the CRM is back, and nothing is dead-lettered', async () => {
    const body = message(2);
    aws.put('retry-b', body);
    const before = crm.accepted.length;
    const { deadLettered, receives } = await drain('retry-b', 'dlq-b', clock + 24 * HOUR);
    expect(deadLettered).toEqual([]);
    expect(crm.accepted.slice(before)).toEqual([JSON.parse(body).crmPayload]);
    expect(receives.length).toBeLessThanOrEqual(RETRY_MAX_RECEIVES);
  });
});
