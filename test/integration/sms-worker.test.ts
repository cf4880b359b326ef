/**
 * The SMS worker (contract §13) with its real adapters: the real End User Messaging SMS client
 * against the wire-protocol stand-in (support/stand-ins/sms.ts), the real DynamoDB client against
 * dynalite for the once-per-number claims, and the SQS stand-in for the queue, its backoff, its
 * quiet-hours waits and its dead-letter queue. The test plays Lambda's event source: it receives
 * from the SQS stand-in, invokes the worker, and deletes what the worker did not hand back.
 *
 * A virtual clock a few days ahead drives the worker, the claims and the queue alike, so a day
 * (or a night of quiet hours) passes in milliseconds; it stays within days of the real clock
 * because the SDK's abort timers measure real time.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDynamoIdempotencyStore } from '../../lambda/adapters/idempotency-store';
import { retryDelaySeconds } from '../../lambda/core/retry-schedule';
import { localMinuteOfDay } from '../../lambda/core/text-back/quiet-hours';
import type { SmsQueueMessage } from '../../lambda/core/text-back/sms-message';
import { createSmsWorker, MAX_QUIET_WAIT_SECONDS } from '../../lambda/create-sms-worker';
import type { SqsWorkerHandler } from '../../lambda/sqs-worker';
import { type AwsFake, startAwsFake } from '../../support/stand-ins/aws-json';
import { type DynamoStandIn, startDynamo } from '../../support/stand-ins/dynamo';
import { type SmsErrorName, type SmsStandIn, startSmsStandIn } from '../../support/stand-ins/sms';
import { captureStdout, jsonLines } from '../helpers/capture-stdout';
import { sqsEventOf } from '../helpers/sqs-event';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ZONE = 'Australia/Sydney';
const IDENTITY = 'phone-0123456789abcdef0123456789abcdef';
const TEMPLATE = 'Hi {name}, Coastal Dental tried to call you about {subject}. Call 02 5550 9876. Reply STOP to opt out.';
const NAME = 'Priya Raman';
const SUBJECT = 'your check-up booking';

/** The next instant after `from` at which Sydney's clock reads `hour`:00. */
function nextLocal(from: number, hour: number): number {
  const start = from - (from % MINUTE) + MINUTE;
  const wait = (hour * 60 - localMinuteOfDay(start, ZONE) + 24 * 60) % (24 * 60);
  let at = start + wait * MINUTE;
  // A daylight-saving change on the way moves the wall clock by up to an hour.
  while (localMinuteOfDay(at, ZONE) !== hour * 60) at += localMinuteOfDay(at, ZONE) > hour * 60 ? -30 * MINUTE : 30 * MINUTE;
  return at;
}

let clock = nextLocal(Date.now() + 2 * 24 * HOUR, 12);
let aws: AwsFake;
let sms: SmsStandIn;
let dynamo: DynamoStandIn;
let sqs: SQSClient;
let queueUrl: string;
let dlqUrl: string;
const logs: Record<string, unknown>[] = [];
/** Every line any worker wrote in this file: checked at the end for personal data. */
const allLines: string[] = [];

beforeAll(async () => {
  [aws, sms, dynamo] = await Promise.all([startAwsFake({ now: () => clock }), startSmsStandIn(), startDynamo({ table: 'idempotency' })]);
  // The SDK clients are built once per process, on first use: point them here before any is.
  Object.assign(process.env, sms.env, dynamo.env, { AWS_ENDPOINT_URL_SQS: aws.endpoint });
  queueUrl = aws.queueUrl('sms', { deadLetter: { name: 'sms-dlq', maxReceiveCount: 13 }, visibilityTimeoutSeconds: 300 });
  dlqUrl = aws.queueUrl('sms-dlq');
  sqs = new SQSClient({ region: 'ap-southeast-2', endpoint: aws.endpoint });
});
afterAll(async () => {
  sqs.destroy();
  await Promise.all([aws.close(), sms.close(), dynamo.close()]);
});
beforeEach(() => {
  logs.length = 0;
  sms.respond({ accept: true });
  aws.failWith(undefined);
});

const env = (overrides: Record<string, string> = {}) => ({
  SMS_ORIGINATION_IDENTITY: IDENTITY,
  SMS_TEMPLATE: TEMPLATE,
  SMS_QUEUE_URL: queueUrl,
  SMS_DEAD_LETTER_QUEUE_URL: dlqUrl,
  SMS_TIMEZONE: ZONE,
  SMS_CONFIGURATION_SET: 'text-back',
  IDEMPOTENCY_TABLE: 'idempotency',
  AWS_LAMBDA_FUNCTION_NAME: 'sms-worker',
  ...overrides,
});

const write = (line: string) => {
  allLines.push(line);
  logs.push(JSON.parse(line));
};
const worker = (overrides: Record<string, string> = {}) => createSmsWorker(env(overrides), { write, deps: { now: () => clock } });

let numbers = 0;
/** A fresh fictional number per test (ACMA's drama range, 0491 570 xxx), so claims never collide across tests. */
const freshNumber = () => `+61491570${String(100 + numbers++).padStart(3, '0')}`;
const message = (to: string, overrides: Partial<SmsQueueMessage> = {}): SmsQueueMessage => ({
  to,
  name: NAME,
  subject: SUBJECT,
  conversationId: `conv_sms_${numbers}_${Math.random().toString(36).slice(2, 8)}`,
  status: 'no answer',
  ...overrides,
});

function enqueue(...bodies: (SmsQueueMessage | string)[]) {
  for (const body of bodies) aws.put('sms', typeof body === 'string' ? body : JSON.stringify(body));
}

/** One receive of whatever is visible now, handed to the worker as Lambda's event source would. */
async function deliver(handler = worker(), remainingMs = 30_000): Promise<SQSBatchResponse & { received: number }> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
  );
  const event = sqsEventOf(Messages);
  const result = await handler(event, { getRemainingTimeInMillis: () => remainingMs });
  const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
  for (const m of Messages.filter((m) => !failed.has(m.MessageId!))) {
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
  }
  return { ...result, received: Messages.length };
}

const textsTo = (to: string) => sms.sent.filter((t) => t.destination === to);

/** What the worker logged for a record, by the conversation it names. */
const lineFor = (conversationId: string) => logs.filter((l) => l.conversationId === conversationId);

describe('the SMS worker', () => {
  it('sends one TRANSACTIONAL text from the identity, with the configuration set and the filled template', async () => {
    const to = freshNumber();
    const m = message(to);
    enqueue(m);
    expect(await deliver()).toMatchObject({ batchItemFailures: [], received: 1 });
    expect(textsTo(to)).toEqual([
      {
        messageId: expect.any(String),
        destination: to,
        originationIdentity: IDENTITY,
        messageType: 'TRANSACTIONAL',
        configurationSetName: 'text-back',
        body: `Hi ${NAME}, Coastal Dental tried to call you about ${SUBJECT}. Call 02 5550 9876. Reply STOP to opt out.`,
      },
    ]);
    const [line] = lineFor(m.conversationId);
    expect(line).toMatchObject({ level: 'info', message: 'text back', outcome: 'sent', SmsSent: 1, status: 'no answer' });
    expect(line!.to).toBe(`+********${to.slice(-3)}`);
    expect(line!.smsMessageId).toBe(textsTo(to)[0]!.messageId);
    expect(aws.messages('sms')).toEqual([]);
  });

  it('sends without a configuration set when none is named', async () => {
    const to = freshNumber();
    enqueue(message(to));
    await deliver(createSmsWorker({ ...env(), SMS_CONFIGURATION_SET: '' }, { write, deps: { now: () => clock } }));
    expect(textsTo(to)).toHaveLength(1);
    expect(textsTo(to)[0]).not.toHaveProperty('configurationSetName');
  });

  it('texts a number once per SMS_MIN_HOURS_BETWEEN, whatever the number of calls, and again after', async () => {
    const to = freshNumber();
    const other = freshNumber();
    const first = message(to);
    const second = message(to, { status: 'voicemail' });
    enqueue(first, second, message(other));
    expect(await deliver()).toMatchObject({ batchItemFailures: [], received: 3 });
    expect(textsTo(to)).toHaveLength(1);
    expect(textsTo(other)).toHaveLength(1);
    expect(lineFor(second.conversationId)).toEqual([
      expect.objectContaining({ outcome: 'skipped', reason: 'recently_texted', SmsSkipped: 1 }),
    ]);

    clock += 23 * HOUR;
    enqueue(message(to));
    await deliver(worker());
    expect(textsTo(to)).toHaveLength(1);

    clock += 2 * HOUR;
    enqueue(message(to));
    await deliver(worker());
    expect(textsTo(to)).toHaveLength(2);
    clock = nextLocal(clock, 12);
  });

  it('honours a shorter window', async () => {
    const to = freshNumber();
    enqueue(message(to));
    await deliver(worker({ SMS_MIN_HOURS_BETWEEN: '2' }));
    clock += 3 * HOUR;
    enqueue(message(to));
    await deliver(worker({ SMS_MIN_HOURS_BETWEEN: '2' }));
    expect(textsTo(to)).toHaveLength(2);
    clock = nextLocal(clock, 12);
  });

  it('in quiet hours the text waits on the queue until they end, then goes', async () => {
    const to = freshNumber();
    clock = nextLocal(clock, 23);
    const m = message(to);
    enqueue(m);
    const changesBefore = aws.visibilityChanges.length;
    expect(await deliver()).toMatchObject({ batchItemFailures: [{ itemIdentifier: expect.any(String) }], received: 1 });
    expect(textsTo(to)).toEqual([]);
    const morning = nextLocal(clock, 8);
    expect(aws.visibilityChanges.slice(changesBefore)).toEqual([{ queue: 'sms', seconds: (morning - clock) / 1000, at: clock }]);
    expect(lineFor(m.conversationId)).toEqual([
      expect.objectContaining({ outcome: 'deferred', reason: 'quiet_hours', quietUntil: new Date(morning).toISOString() }),
    ]);
    expect(lineFor(m.conversationId)[0]).not.toHaveProperty('SmsSkipped');

    // Nothing is visible until 08:00; then the same message comes back and is sent.
    clock = morning - MINUTE;
    expect((await deliver()).received).toBe(0);
    clock = aws.nextVisibleAt('sms')!;
    expect(clock).toBe(morning);
    expect(await deliver()).toMatchObject({ batchItemFailures: [], received: 1 });
    expect(textsTo(to)).toHaveLength(1);
    clock = nextLocal(clock, 12);
  });

  it('quiet hours longer than SQS allows a message to hide: the longest wait, then another', async () => {
    const to = freshNumber();
    const long = worker({ SMS_QUIET_HOURS: '18:00-09:00' });
    clock = nextLocal(clock, 18);
    enqueue(message(to));
    const changesBefore = aws.visibilityChanges.length;
    await deliver(long);
    expect(aws.visibilityChanges.slice(changesBefore).map((c) => c.seconds)).toEqual([MAX_QUIET_WAIT_SECONDS]);
    expect(MAX_QUIET_WAIT_SECONDS).toBeLessThanOrEqual(12 * 3600);
    clock = aws.nextVisibleAt('sms')!;
    await deliver(long);
    clock = aws.nextVisibleAt('sms')!;
    expect(localMinuteOfDay(clock, ZONE)).toBe(9 * 60);
    await deliver(long);
    expect(textsTo(to)).toHaveLength(1);
    clock = nextLocal(clock, 12);
  });

  it('an opted-out number: SmsOptedOut, acknowledged, not dead-lettered, not tried again in the window', async () => {
    const to = freshNumber();
    sms.optedOut.add(to);
    const m = message(to);
    enqueue(m);
    const dlqBefore = aws.messages('sms-dlq').length;
    expect(await deliver()).toMatchObject({ batchItemFailures: [], received: 1 });
    expect(textsTo(to)).toEqual([]);
    expect(aws.messages('sms-dlq')).toHaveLength(dlqBefore);
    expect(lineFor(m.conversationId)).toEqual([expect.objectContaining({ outcome: 'opted_out', SmsOptedOut: 1, level: 'info' })]);
    const requests = sms.requests.length;
    enqueue(message(to));
    await deliver();
    expect(sms.requests.length).toBe(requests);
  });

  it.each<[SmsErrorName]>([['ThrottlingException'], ['InternalServerException']])(
    '%s: the text comes back with backoff (the claim released), and is sent once when End User Messaging recovers',
    async (error) => {
      const to = freshNumber();
      const m = message(to);
      enqueue(m);
      sms.respond({ error });
      const requests = sms.requests.length;
      const changesBefore = aws.visibilityChanges.length;
      expect(await deliver()).toMatchObject({ batchItemFailures: [{ itemIdentifier: expect.any(String) }] });
      // The SDK tried twice (SDK_ATTEMPTS.sms), then the queue took over.
      expect(sms.requests.length - requests).toBe(2);
      expect(aws.visibilityChanges.slice(changesBefore)).toEqual([{ queue: 'sms', seconds: retryDelaySeconds(1), at: clock }]);
      expect(lineFor(m.conversationId)).toEqual([
        expect.objectContaining({ outcome: 'retry', level: 'warn', reason: 'sms_unavailable', retryInSeconds: 60 }),
      ]);
      expect(lineFor(m.conversationId)[0]!.error).toMatch(new RegExp(`^SMS: ${error} \\(HTTP (400|500)\\)$`));

      sms.respond({ accept: true });
      clock = aws.nextVisibleAt('sms')!;
      expect(await deliver()).toMatchObject({ batchItemFailures: [], received: 1 });
      expect(textsTo(to)).toHaveLength(1);
      expect(lineFor(m.conversationId).at(-1)).toMatchObject({ outcome: 'sent', receiveCount: 2 });
    },
  );

  it.each<[SmsErrorName, string]>([
    ['ValidationException', 'FIELD_VALIDATION_FAILED'],
    ['AccessDeniedException', 'ACCOUNT_DISABLED'],
    ['ServiceQuotaExceededException', 'MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT'],
  ])('%s: SmsFailed, and the message goes to the dead-letter queue at once', async (error, reason) => {
    const to = freshNumber();
    const m = message(to);
    enqueue(m);
    sms.respond({ error });
    expect(await deliver()).toMatchObject({ batchItemFailures: [], received: 1 });
    expect(aws.messages('sms-dlq').at(-1)).toBe(JSON.stringify(m));
    expect(lineFor(m.conversationId)).toEqual([
      expect.objectContaining({ outcome: 'failed', level: 'error', SmsFailed: 1, error: `SMS: ${error} (${reason}, HTTP 400)` }),
    ]);
    // The claim was released: once the cause is fixed, a re-driven message is sent.
    sms.respond({ accept: true });
    enqueue(m);
    await deliver();
    expect(textsTo(to)).toHaveLength(1);
  });

  it('a refused text whose dead-letter queue refuses it too comes back rather than vanish', async () => {
    const m = message(freshNumber());
    enqueue(m);
    sms.respond({ error: 'ValidationException' });
    aws.failWith(500, 'AmazonSQS.SendMessage');
    expect(await deliver()).toMatchObject({ batchItemFailures: [{ itemIdentifier: expect.any(String) }] });
    expect(lineFor(m.conversationId)[0]).toMatchObject({ outcome: 'failed', SmsFailed: 1, retryInSeconds: 60 });
    expect(lineFor(m.conversationId)[0]!.error).toContain('dead-letter queue refused');
    aws.failWith(undefined);
    clock = aws.nextVisibleAt('sms')!;
    sms.respond({ accept: true });
    await deliver();
    expect(aws.messages('sms')).toEqual([]);
  });

  it.each([
    ['not JSON', 'hello'],
    ['not a text-back', JSON.stringify({ crmPayload: {} })],
    ['a field out of bounds', JSON.stringify({ ...message('+61491570999'), name: 'x'.repeat(201) })],
  ])('an unreadable message (%s) goes to the dead-letter queue, SmsFailed', async (_label, body) => {
    enqueue(body);
    const requests = sms.requests.length;
    expect(await deliver()).toMatchObject({ batchItemFailures: [], received: 1 });
    expect(sms.requests.length).toBe(requests);
    expect(aws.messages('sms-dlq').at(-1)).toBe(body);
    expect(logs.at(-1)).toMatchObject({ outcome: 'failed', reason: 'unreadable', SmsFailed: 1 });
  });

  it.each<[string, Partial<SmsQueueMessage>, string]>([
    ['a held call', { status: 'held' }, 'status'],
    ['a failed call', { status: 'failed' }, 'status'],
    ['"Unknown"', { to: 'Unknown' }, 'no_number'],
    ['a number that is not E.164', { to: '0491 570 156' }, 'no_number'],
  ])('never texts %s (a message an earlier release queued): SmsSkipped with the reason', async (_label, overrides, reason) => {
    const m = message(freshNumber(), overrides);
    enqueue(m);
    const requests = sms.requests.length;
    expect(await deliver()).toMatchObject({ batchItemFailures: [], received: 1 });
    expect(sms.requests.length).toBe(requests);
    expect(lineFor(m.conversationId)).toEqual([expect.objectContaining({ outcome: 'skipped', reason, SmsSkipped: 1 })]);
  });

  it('skips a status SMS_ON_STATUSES leaves out', async () => {
    const m = message(freshNumber(), { status: 'voicemail' });
    enqueue(m);
    await deliver(worker({ SMS_ON_STATUSES: 'no answer' }));
    expect(lineFor(m.conversationId)).toEqual([expect.objectContaining({ outcome: 'skipped', reason: 'status' })]);
  });

  it('without a working idempotency table nothing is sent: the text comes back', async () => {
    const to = freshNumber();
    const m = message(to);
    enqueue(m);
    await deliver(worker({ IDEMPOTENCY_TABLE: 'no-such-table' }));
    expect(textsTo(to)).toEqual([]);
    expect(lineFor(m.conversationId)).toEqual([expect.objectContaining({ outcome: 'retry', reason: 'idempotency_unavailable' })]);
    clock = aws.nextVisibleAt('sms')!;
    await deliver();
    expect(textsTo(to)).toHaveLength(1);
  });

  it('hands every record back, and says why once, when its configuration is invalid', async () => {
    enqueue(message(freshNumber()), message(freshNumber()));
    const handler = createSmsWorker(env({ SMS_TEMPLATE: 'Hi {name}, we called.' }), { write, deps: { now: () => clock } });
    expect(logs).toEqual([
      expect.objectContaining({
        level: 'error',
        message: 'invalid configuration',
        error: expect.stringMatching(/^SMS_TEMPLATE must say how to opt out/),
      }),
    ]);
    expect((await deliver(handler)).batchItemFailures).toHaveLength(2);
    clock = aws.nextVisibleAt('sms')!;
    await deliver();
  });

  it('a stalled End User Messaging endpoint is aborted before the worker must answer', async () => {
    const to = freshNumber();
    const m = message(to);
    enqueue(m);
    sms.respond({ stall: true });
    // The real clock here: the abort timers measure real time. Quiet hours never, for this worker.
    const handler = createSmsWorker(env({ SMS_QUIET_HOURS: quietWindowAwayFrom(Date.now()) }), { write });
    const result = await deliver(handler, 7_000);
    expect(result.batchItemFailures).toHaveLength(1);
    expect(sms.requests.at(-1)!.body.DestinationPhoneNumber).toBe(to);
    expect(lineFor(m.conversationId)).toEqual([expect.objectContaining({ outcome: 'retry', reason: 'sms_unavailable' })]);
    expect(String(lineFor(m.conversationId)[0]!.error)).toMatch(/Abort|Timeout/);
    sms.respond({ accept: true });
    clock = aws.nextVisibleAt('sms')!;
    await deliver();
  });

  it('hands back, untried, the records it has no time left for', async () => {
    enqueue(message(freshNumber()));
    const requests = sms.requests.length;
    const result = await deliver(worker(), 5_000);
    expect(result.batchItemFailures).toHaveLength(1);
    expect(sms.requests.length).toBe(requests);
    clock = aws.nextVisibleAt('sms')!;
    await deliver();
  });
});

describe('dist/sms-worker/index.mjs', () => {
  it('is built (npm run build), exports the handler and sends a text', async () => {
    const file = new URL('../../dist/sms-worker/index.mjs', import.meta.url);
    expect(existsSync(file), 'dist/sms-worker/index.mjs exists (run npm run build)').toBe(true);
    const saved = { ...process.env };
    Object.assign(process.env, env({ SMS_QUIET_HOURS: quietWindowAwayFrom(Date.now()) }));
    let handler: SqsWorkerHandler;
    try {
      handler = (await import(`${pathToFileURL(file.pathname).href}?fresh=${Math.random()}`)).handler;
    } finally {
      process.env = saved;
    }
    // The bundle's clients are its own and cold, and it runs on the real clock, so its first
    // claim is bounded by the real 2 s: on a loaded machine a cold one can take longer. Warm them
    // with a number already texted in the window (a claim and no text), as often as that takes.
    const warm = freshNumber();
    const store = createDynamoIdempotencyStore('idempotency');
    await store.claim(`sms#${warm}`, { nowMs: Date.now(), holdUntilMs: Date.now(), deadlineMs: Date.now() + 10_000 });
    await store.complete(`sms#${warm}`, Date.now(), Date.now() + 10_000);
    enqueue(message(warm));
    for (let attempt = 0; attempt < 5 && aws.messages('sms').length > 0; attempt++) {
      clock = Math.max(clock, aws.nextVisibleAt('sms')!);
      await captureStdout(() => deliver(handler));
    }
    const to = freshNumber();
    enqueue(message(to));
    const { lines } = await captureStdout(() => deliver(handler));
    expect(textsTo(warm)).toEqual([]);
    expect(textsTo(to), lines.join('\n')).toHaveLength(1);
    // Only the worker's JSON lines: under load the test runner itself may write to stdout meanwhile.
    const own = lines.filter((line) => line.startsWith('{"level"'));
    expect(jsonLines(own)).toEqual([expect.objectContaining({ message: 'text back', outcome: 'sent', SmsSent: 1 })]);
    allLines.push(...own);
  });
});

describe('every log line of this file', () => {
  it('holds no phone number, name or text body (contract §7, §13)', () => {
    expect(allLines.length).toBeGreaterThan(20);
    const text = allLines.join('\n');
    expect(text).not.toMatch(/\+?61491570\d{3}/);
    expect(text).not.toContain(NAME);
    expect(text).not.toContain(SUBJECT);
    expect(text).not.toContain('Coastal Dental');
    expect(text).not.toContain('tried to call you');
    expect(text).not.toContain('5550 9876');
    for (const to of sms.sent.map((t) => t.destination)) expect(text).not.toContain(to.slice(1));
  });
});

/** A one-hour quiet window twelve hours away from `now` in Sydney: never in force during the test. */
function quietWindowAwayFrom(now: number): string {
  const minute = (localMinuteOfDay(now, ZONE) + 12 * 60) % (24 * 60);
  const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  return `${hhmm(minute)}-${hhmm((minute + 60) % (24 * 60))}`;
}
