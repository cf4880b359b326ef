/**
 * contract §8, §13: the text-back settings. The SMS worker's whole configuration, and the
 * trigger's part that the receiver and the call check spread into their own schemas. Invalid
 * configuration names the variable and never repeats its value.
 */
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { parseEnv } from '../../../lambda/config/env-fields';
import { loadSmsWorkerConfig, MAX_SMS_MIN_HOURS_BETWEEN } from '../../../lambda/config/sms-worker-config';
import { requireSmsQueueWhenTexting, TextBackTriggerEnvShape, textBackTriggerSettings } from '../../../lambda/config/text-back-fields';
import { ConfigurationError } from '../../../lambda/core/errors';

const QUEUE = 'https://sqs.ap-southeast-2.amazonaws.com/123456789012/sms';
const TEMPLATE = 'Hi {name}, Coastal Dental tried to call you about {subject}. Reply STOP to opt out.';
const worker = {
  SMS_ORIGINATION_IDENTITY: 'phone-0123456789abcdef0123456789abcdef',
  SMS_TEMPLATE: TEMPLATE,
  IDEMPOTENCY_TABLE: 'idempotency',
};

function problemOf(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as ConfigurationError).detail;
  }
  throw new Error('expected a configuration error');
}

describe('loadSmsWorkerConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadSmsWorkerConfig(worker);
    expect(config).toEqual({
      settings: {
        template: { text: TEMPLATE },
        onStatuses: ['no answer', 'voicemail'],
        minHoursBetween: 24,
        quietHours: { startMinute: 21 * 60, endMinute: 8 * 60, timeZone: 'Australia/Sydney' },
      },
      originationIdentity: worker.SMS_ORIGINATION_IDENTITY,
      idempotencyTable: 'idempotency',
      smsQueueUrl: undefined,
      deadLetterQueueUrl: undefined,
    });
  });

  it('reads every variable', () => {
    const config = loadSmsWorkerConfig({
      ...worker,
      SMS_ORIGINATION_IDENTITY: 'arn:aws:sms-voice:ap-southeast-2:123456789012:sender-id/COASTAL/AU',
      SMS_QUEUE_URL: QUEUE,
      SMS_DEAD_LETTER_QUEUE_URL: `${QUEUE}-dlq`,
      SMS_ON_STATUSES: ' Voicemail ,',
      SMS_MIN_HOURS_BETWEEN: '72',
      SMS_QUIET_HOURS: '20:30-09:00',
      SMS_TIMEZONE: 'Pacific/Auckland',
      SMS_CONFIGURATION_SET: 'text-back',
      AWS_LAMBDA_FUNCTION_NAME: 'sms-worker',
    });
    expect(config).toMatchObject({
      settings: {
        onStatuses: ['voicemail'],
        minHoursBetween: 72,
        quietHours: { startMinute: 20 * 60 + 30, endMinute: 9 * 60, timeZone: 'Pacific/Auckland' },
      },
      originationIdentity: 'arn:aws:sms-voice:ap-southeast-2:123456789012:sender-id/COASTAL/AU',
      configurationSet: 'text-back',
      smsQueueUrl: QUEUE,
      deadLetterQueueUrl: `${QUEUE}-dlq`,
    });
  });

  it.each([
    ['SMS_ON_STATUSES', 'no-answer,NO_ANSWER,voicemail', ['no answer', 'voicemail']],
    ['SMS_ON_STATUSES', 'no answer', ['no answer']],
  ])('%s=%j reads as %j', (name, value, statuses) => {
    expect(loadSmsWorkerConfig({ ...worker, [name]: value }).settings.onStatuses).toEqual(statuses);
  });

  it.each([
    ['SMS_ORIGINATION_IDENTITY', { ...worker, SMS_ORIGINATION_IDENTITY: undefined }, /SMS_ORIGINATION_IDENTITY is required/],
    ['SMS_TEMPLATE', { ...worker, SMS_TEMPLATE: undefined }, /SMS_TEMPLATE is required/],
    ['IDEMPOTENCY_TABLE', { ...worker, IDEMPOTENCY_TABLE: ' ' }, /IDEMPOTENCY_TABLE is required/],
    ['SMS_TEMPLATE', { ...worker, SMS_TEMPLATE: 'Hi {name}, we called about {subject}.' }, /SMS_TEMPLATE must say how to opt out/],
    ['SMS_TEMPLATE', { ...worker, SMS_TEMPLATE: `${'x'.repeat(100_000)} STOP` }, /SMS_TEMPLATE must be at most 480/],
    ['SMS_TEMPLATE', { ...worker, SMS_TEMPLATE: 'Hi {firstname}. STOP' }, /SMS_TEMPLATE may use only/],
    ['SMS_ON_STATUSES', { ...worker, SMS_ON_STATUSES: 'held' }, /SMS_ON_STATUSES may name only/],
    ['SMS_ON_STATUSES', { ...worker, SMS_ON_STATUSES: 'no answer,failed' }, /SMS_ON_STATUSES may name only/],
    ['SMS_ON_STATUSES', { ...worker, SMS_ON_STATUSES: ',,' }, /SMS_ON_STATUSES must name/],
    ['SMS_MIN_HOURS_BETWEEN', { ...worker, SMS_MIN_HOURS_BETWEEN: '0' }, /SMS_MIN_HOURS_BETWEEN must be at least 1/],
    [
      'SMS_MIN_HOURS_BETWEEN',
      { ...worker, SMS_MIN_HOURS_BETWEEN: String(MAX_SMS_MIN_HOURS_BETWEEN + 1) },
      /SMS_MIN_HOURS_BETWEEN must be at most/,
    ],
    ['SMS_MIN_HOURS_BETWEEN', { ...worker, SMS_MIN_HOURS_BETWEEN: '1e3' }, /SMS_MIN_HOURS_BETWEEN must be a whole number/],
    ['SMS_QUIET_HOURS', { ...worker, SMS_QUIET_HOURS: '9pm-8am' }, /SMS_QUIET_HOURS must be two 24-hour times/],
    ['SMS_TIMEZONE', { ...worker, SMS_TIMEZONE: 'Australia/Atlantis' }, /SMS_TIMEZONE must be an IANA time zone/],
    ['SMS_TIMEZONE', { ...worker, SMS_TIMEZONE: 'x'.repeat(1_000_000) }, /SMS_TIMEZONE must be an IANA time zone/],
    ['SMS_ORIGINATION_IDENTITY', { ...worker, SMS_ORIGINATION_IDENTITY: 'phone id with spaces' }, /SMS_ORIGINATION_IDENTITY must be/],
    ['SMS_ORIGINATION_IDENTITY', { ...worker, SMS_ORIGINATION_IDENTITY: `pool-${'a'.repeat(300)}` }, /SMS_ORIGINATION_IDENTITY must be/],
    ['SMS_CONFIGURATION_SET', { ...worker, SMS_CONFIGURATION_SET: 'set;DROP' }, /SMS_CONFIGURATION_SET must be/],
    ['SMS_QUEUE_URL', { ...worker, SMS_QUEUE_URL: 'not a url' }, /SMS_QUEUE_URL must be an SQS queue URL/],
    ['SMS_QUEUE_URL', { ...worker, AWS_LAMBDA_FUNCTION_NAME: 'sms-worker' }, /SMS_QUEUE_URL is required on Lambda/],
    [
      'SMS_DEAD_LETTER_QUEUE_URL',
      { ...worker, AWS_LAMBDA_FUNCTION_NAME: 'w', SMS_QUEUE_URL: QUEUE, SMS_DEAD_LETTER_QUEUE_URL: 'file:///tmp/dlq' },
      /SMS_DEAD_LETTER_QUEUE_URL is a file: folder queue/,
    ],
  ])('refuses a bad %s', (_name, env, problem) => {
    expect(problemOf(() => loadSmsWorkerConfig(env))).toMatch(problem);
  });

  it('names every bad variable at once', () => {
    const detail = problemOf(() => loadSmsWorkerConfig({ SMS_QUIET_HOURS: 'x', SMS_TIMEZONE: 'y' }));
    for (const name of ['SMS_ORIGINATION_IDENTITY', 'SMS_TEMPLATE', 'IDEMPOTENCY_TABLE', 'SMS_QUIET_HOURS', 'SMS_TIMEZONE']) {
      expect(detail).toContain(name);
    }
  });

  it.each([
    ['SMS_TEMPLATE', 'Call wsec_leak_1234 now {name}'],
    ['SMS_TIMEZONE', 'wsec_leak_1234'],
    ['SMS_QUIET_HOURS', 'wsec_leak_1234'],
    ['SMS_ON_STATUSES', 'wsec_leak_1234'],
    ['SMS_ORIGINATION_IDENTITY', 'wsec leak 1234'],
    ['SMS_CONFIGURATION_SET', 'wsec leak 1234'],
  ])('never echoes %s in its error', (name, value) => {
    expect(problemOf(() => loadSmsWorkerConfig({ ...worker, [name]: value }))).not.toContain('wsec');
  });
});

describe('the trigger settings the receiver and the call check spread into their schemas', () => {
  const ReceiverLike = z
    .object({ ...TextBackTriggerEnvShape, OTHER: z.string().optional() })
    .superRefine(requireSmsQueueWhenTexting)
    .transform(textBackTriggerSettings);
  const load = (env: Record<string, string | undefined>) => parseEnv(ReceiverLike, env);

  it('is off without SMS_ORIGINATION_IDENTITY, whatever else is set', () => {
    expect(load({})).toBeUndefined();
    expect(load({ SMS_QUEUE_URL: QUEUE, SMS_ON_STATUSES: 'voicemail' })).toBeUndefined();
  });

  it('is on with an identity and a queue, both statuses by default', () => {
    expect(load({ SMS_ORIGINATION_IDENTITY: 'pool-0123456789abcdef0123456789abcdef', SMS_QUEUE_URL: QUEUE })).toEqual({
      queueUrl: QUEUE,
      onStatuses: ['no answer', 'voicemail'],
    });
  });

  it('refuses texting on without the queue, naming SMS_QUEUE_URL', () => {
    expect(problemOf(() => load({ SMS_ORIGINATION_IDENTITY: 'phone-1' }))).toMatch(
      /SMS_QUEUE_URL is required when SMS_ORIGINATION_IDENTITY is set/,
    );
  });

  it('refuses held or failed in SMS_ON_STATUSES even with texting off (a typo should not wait for the day it is turned on)', () => {
    expect(problemOf(() => load({ SMS_ON_STATUSES: 'held' }))).toMatch(/SMS_ON_STATUSES/);
  });
});
