/**
 * contract §13 "Stack": with texting off nothing of the text-back exists; with it on, the SMS queue
 * and DLQ, the SMS worker (Node.js 24, arm64), its alarms, and `sms-voice:SendTextMessage` on the
 * one origination identity (and configuration set) only. The options are checked with the SMS
 * worker's own parsers, plus what IAM can grant.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import type { SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEXT_BACK_ALARM_IDS } from '../../infra/alarms';
import { settingsFromContext } from '../../infra/context';
import { MAX_RECEIVE_COUNT, QUEUE_RETENTION } from '../../infra/queues';
import type { WebhookStackProps } from '../../infra/webhook-stack';
import { createTelemetry } from '../../lambda/adapters/telemetry';
import { loadSmsWorkerConfig } from '../../lambda/config/sms-worker-config';
import { METRICS_NAMESPACE, MetricName, SERVICE_DIMENSION, SERVICE_NAME, smsMetrics } from '../../lambda/core/metrics';
import { createSmsWorker } from '../../lambda/create-sms-worker';
import { buildStack, logicalId, resourcesOf, TEXTING_ON, templateOf } from './stack-fixture';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}
type Env = Record<string, unknown>;

const IDENTITY_ARN = 'arn:aws:sms-voice:ap-southeast-2:123456789012:sender-id/COASTAL/AU';
let off: Template;
let on: Template;
let full: Template;

beforeAll(() => {
  off = templateOf();
  on = templateOf(TEXTING_ON);
  full = templateOf({
    ...TEXTING_ON,
    smsOriginationIdentity: IDENTITY_ARN,
    smsConfigurationSet: 'text-back',
    smsTimezone: 'Pacific/Auckland',
    smsQuietHours: '20:00-09:30',
  });
});

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const functionNamed = (t: Template, prefix: string) =>
  resourcesOf(t, 'AWS::Lambda::Function')[logicalId(t, 'AWS::Lambda::Function', prefix)]!;
const envOf = (t: Template, prefix: string) =>
  ((functionNamed(t, prefix).Properties!.Environment as { Variables: Env }).Variables ?? {}) as Env;

function permissions(t: Template, rolePrefix: string): Record<string, unknown[]> {
  const role = logicalId(t, 'AWS::IAM::Role', rolePrefix);
  const result: Record<string, unknown[]> = {};
  for (const policy of Object.values(resourcesOf(t, 'AWS::IAM::Policy'))) {
    if (!(policy.Properties!.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: role }))) continue;
    for (const s of (policy.Properties!.PolicyDocument as { Statement: Statement[] }).Statement) {
      expect(s.Effect).toBe('Allow');
      for (const action of list(s.Action)) result[action] = [...(result[action] ?? []), ...list(s.Resource)];
    }
  }
  return result;
}

describe('texting off (the default)', () => {
  it('creates no SMS queue, no SMS worker, no SMS alarm and no SMS grant', () => {
    expect(Object.keys(resourcesOf(off, 'AWS::SQS::Queue')).filter((id) => id.includes('Sms'))).toEqual([]);
    expect(Object.keys(resourcesOf(off, 'AWS::Lambda::Function')).filter((id) => id.includes('Sms'))).toEqual([]);
    const alarms = Object.values(resourcesOf(off, 'AWS::CloudWatch::Alarm')).map((a) => String(a.Properties!.AlarmName));
    for (const id of TEXT_BACK_ALARM_IDS) expect(alarms).not.toContain(`TestWebhook-${id}`);
    expect(JSON.stringify(off.toJSON())).not.toContain('sms-voice');
    for (const fn of ['Receiver', 'AudioWorker']) expect(Object.keys(envOf(off, fn)).filter((k) => k.startsWith('SMS_'))).toEqual([]);
  });
});

describe('texting on', () => {
  it('adds the SMS queue and its DLQ with the settings of the other queues', () => {
    const queue = resourcesOf(on, 'AWS::SQS::Queue')[logicalId(on, 'AWS::SQS::Queue', 'TextBackSmsQueue')]!;
    const dlqId = logicalId(on, 'AWS::SQS::Queue', 'TextBackSmsDeadLetterQueue');
    const dlq = (on.toJSON().Resources as Record<string, { DeletionPolicy?: string; Properties: Env }>)[dlqId]!;
    expect(queue.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: QUEUE_RETENTION.toSeconds(),
      RedrivePolicy: { deadLetterTargetArn: arnOf(dlqId), maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    expect(dlq.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: QUEUE_RETENTION.toSeconds() });
    expect(dlq.DeletionPolicy).toBe('Retain');
    // TLS only, on both.
    const policies = JSON.stringify(resourcesOf(on, 'AWS::SQS::QueuePolicy'));
    for (const id of [logicalId(on, 'AWS::SQS::Queue', 'TextBackSmsQueue'), dlqId]) expect(policies).toContain(id);
    expect(policies).toContain('aws:SecureTransport');
  });

  it('adds the SMS worker: Node.js 24, arm64, its queue as an event source reporting batch item failures', () => {
    expect(functionNamed(on, 'TextBackSmsWorker').Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
    });
    const mappings = Object.values(resourcesOf(on, 'AWS::Lambda::EventSourceMapping')).filter((m) =>
      JSON.stringify(m.Properties!.FunctionName).includes('TextBackSmsWorker'),
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0]!.Properties).toMatchObject({
      EventSourceArn: arnOf(logicalId(on, 'AWS::SQS::Queue', 'TextBackSmsQueue')),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('gives the worker the environment its config reads, which its own parser accepts', () => {
    const env = envOf(full, 'TextBackSmsWorker');
    expect(env).toMatchObject({
      SMS_ORIGINATION_IDENTITY: IDENTITY_ARN,
      SMS_CONFIGURATION_SET: 'text-back',
      SMS_TEMPLATE: TEXTING_ON.smsTemplate,
      SMS_TIMEZONE: 'Pacific/Auckland',
      SMS_QUIET_HOURS: '20:00-09:30',
      SMS_ON_STATUSES: 'no answer,voicemail',
      IDEMPOTENCY_TABLE: { Ref: logicalId(full, 'AWS::DynamoDB::Table', 'IdempotencyTable') },
      SMS_QUEUE_URL: { Ref: logicalId(full, 'AWS::SQS::Queue', 'TextBackSmsQueue') },
      SMS_DEAD_LETTER_QUEUE_URL: { Ref: logicalId(full, 'AWS::SQS::Queue', 'TextBackSmsDeadLetterQueue') },
    });
    const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, typeof v === 'string' ? v : `https://sqs.example/${k}`]));
    expect(loadSmsWorkerConfig({ ...resolved, AWS_LAMBDA_FUNCTION_NAME: 'sms-worker' }).settings.quietHours).toEqual({
      startMinute: 20 * 60,
      endMinute: 9 * 60 + 30,
      timeZone: 'Pacific/Auckland',
    });
  });

  it('lets the worker send from that one identity only, and nothing else outside its own queue, table and logs', () => {
    const grants = permissions(on, 'TextBackSmsWorkerRole');
    expect(grants['sms-voice:SendTextMessage']).toEqual([
      'arn:aws:sms-voice:ap-southeast-2:123456789012:phone-number/phone-0123456789abcdef0123456789abcdef',
    ]);
    expect(Object.keys(grants).sort()).toEqual(
      [
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sms-voice:SendTextMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
        'sqs:SendMessage',
      ].sort(),
    );
    expect(grants['sqs:SendMessage']).toEqual([arnOf(logicalId(on, 'AWS::SQS::Queue', 'TextBackSmsDeadLetterQueue'))]);
    expect(JSON.stringify(grants)).not.toMatch(/"\*"/);
  });

  it('with an identity ARN and a configuration set: exactly those two', () => {
    expect(permissions(full, 'TextBackSmsWorkerRole')['sms-voice:SendTextMessage']?.sort()).toEqual([
      'arn:aws:sms-voice:ap-southeast-2:123456789012:configuration-set/text-back',
      IDENTITY_ARN,
    ]);
  });

  it('no role but the worker may send texts', () => {
    for (const role of ['ReceiverRole', 'RetryWorkerRole', 'AudioWorkerRole']) {
      expect(JSON.stringify(permissions(on, role)), role).not.toContain('sms-voice');
    }
  });

  it.each(['Receiver', 'AudioWorker'])(
    'the %s may queue text-backs: texting on, the SMS queue, the statuses, sqs:SendMessage on it',
    (fn) => {
      const queue = logicalId(on, 'AWS::SQS::Queue', 'TextBackSmsQueue');
      expect(envOf(on, fn)).toMatchObject({
        SMS_ORIGINATION_IDENTITY: TEXTING_ON.smsOriginationIdentity,
        SMS_QUEUE_URL: { Ref: queue },
        SMS_ON_STATUSES: 'no answer,voicemail',
      });
      expect(permissions(on, `${fn}Role`)['sqs:SendMessage']).toContainEqual(arnOf(queue));
      expect(envOf(on, fn)).not.toHaveProperty('SMS_TEMPLATE');
    },
  );

  it('outputs the SMS DLQ and the worker log group', () => {
    const outputs = Object.keys(on.toJSON().Outputs as object);
    expect(outputs).toEqual(expect.arrayContaining(['SmsDlqUrl', 'SmsWorkerLogGroup']));
    expect(Object.keys(off.toJSON().Outputs as object)).not.toContain('SmsDlqUrl');
  });
});

describe('the text-back alarms', () => {
  const alarmsOf = (t: Template) =>
    Object.fromEntries(
      Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')).map((a) => [String(a.Properties!.AlarmName), a.Properties!]),
    );

  it.each<[string, Env]>([
    ['SmsDeadLetterQueueNotEmpty', { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Statistic: 'Maximum' }],
    ['SmsFailed', { Namespace: METRICS_NAMESPACE, MetricName: MetricName.SmsFailed, Statistic: 'Sum' }],
    ['SmsWorkerErrors', { Namespace: 'AWS/Lambda', MetricName: 'Errors' }],
    ['SmsWorkerThrottles', { Namespace: 'AWS/Lambda', MetricName: 'Throttles' }],
  ])('%s pages at 1 with texting on', (id, expected) => {
    expect(alarmsOf(on)[`TestWebhook-${id}`]).toMatchObject({
      ...expected,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('SmsFailed watches exactly the metric identity the SMS worker emits', async () => {
    const lines: string[] = [];
    const handler = createSmsWorker(
      { SMS_ORIGINATION_IDENTITY: 'phone-1', SMS_TEMPLATE: 'x STOP', IDEMPOTENCY_TABLE: 't' },
      { write: (line) => lines.push(line), deps: { deadLetter: async () => undefined } },
    );
    await handler({
      Records: [{ messageId: 'm', body: 'not a text-back', attributes: { ApproximateReceiveCount: '1' } }],
    } as unknown as SQSEvent);
    const emf = JSON.parse(lines.at(-1)!) as Env & {
      _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
    };
    expect(emf._aws.CloudWatchMetrics).toEqual([
      { Namespace: METRICS_NAMESPACE, Dimensions: [[SERVICE_DIMENSION]], Metrics: [{ Name: 'SmsFailed', Unit: 'Count' }] },
    ]);
    expect(emf[SERVICE_DIMENSION]).toBe(SERVICE_NAME);
    expect(alarmsOf(on)['TestWebhook-SmsFailed']).toMatchObject({ Dimensions: [{ Name: SERVICE_DIMENSION, Value: SERVICE_NAME }] });
    // And the telemetry adapter writes the same for the outcome itself.
    const direct: string[] = [];
    createTelemetry((l) => direct.push(l)).logWithMetrics(
      'error',
      'text back',
      {},
      smsMetrics({ kind: 'failed', deadLettered: true, facts: {} }),
    );
    expect(JSON.parse(direct[0]!)._aws.CloudWatchMetrics).toEqual(emf._aws.CloudWatchMetrics);
  });

  it('watch this stack’s SMS DLQ and SMS worker', () => {
    const alarms = alarmsOf(on);
    expect(JSON.stringify(alarms['TestWebhook-SmsDeadLetterQueueNotEmpty']!.Dimensions)).toContain('TextBackSmsDeadLetterQueue');
    expect(JSON.stringify(alarms['TestWebhook-SmsWorkerErrors']!.Dimensions)).toContain('TextBackSmsWorker');
  });
});

describe('the text-back options', () => {
  it.each<[string, WebhookStackProps, RegExp]>([
    ['a template without STOP', { ...TEXTING_ON, smsTemplate: 'Hi {name}, we called.' }, /^smsTemplate must say how to opt out/],
    ['no template', { smsOriginationIdentity: TEXTING_ON.smsOriginationIdentity }, /^smsTemplate is required with smsOriginationIdentity/],
    ['a template without the identity', { smsTemplate: TEXTING_ON.smsTemplate }, /^smsTemplate needs smsOriginationIdentity/],
    ['quiet hours without the identity', { smsQuietHours: '21:00-08:00' }, /^smsQuietHours needs smsOriginationIdentity/],
    ['a bare number', { ...TEXTING_ON, smsOriginationIdentity: '+61491570156' }, /^smsOriginationIdentity must be a phone number id/],
    ['a bare sender id', { ...TEXTING_ON, smsOriginationIdentity: 'COASTAL' }, /^smsOriginationIdentity must be a phone number id/],
    [
      'an ARN of another service',
      { ...TEXTING_ON, smsOriginationIdentity: 'arn:aws:sns:ap-southeast-2:123456789012:topic' },
      /^smsOriginationIdentity must be/,
    ],
    [
      'a sender id ARN without its country',
      { ...TEXTING_ON, smsOriginationIdentity: 'arn:aws:sms-voice:ap-southeast-2:123456789012:sender-id/COASTAL' },
      /^smsOriginationIdentity must be/,
    ],
    [
      'an identity with spaces',
      { ...TEXTING_ON, smsOriginationIdentity: 'phone 1' },
      /^smsOriginationIdentity must be an End User Messaging/,
    ],
    [
      'an identity in another region',
      {
        ...TEXTING_ON,
        smsOriginationIdentity: 'arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-0123456789abcdef0123456789abcdef',
      },
      /^smsOriginationIdentity is in us-east-1, but the stack deploys to ap-southeast-2/,
    ],
    ['a bad time zone', { ...TEXTING_ON, smsTimezone: 'Sydney' }, /^smsTimezone must be an IANA time zone/],
    ['bad quiet hours', { ...TEXTING_ON, smsQuietHours: '9pm-8am' }, /^smsQuietHours must be two 24-hour times/],
    ['a bad configuration set', { ...TEXTING_ON, smsConfigurationSet: 'a b' }, /^smsConfigurationSet must be/],
  ])('refuse %s at synth, naming the option', (_label, props, message) => {
    expect(() => buildStack(props)).toThrow(message);
  });

  it('are read from context, trimmed', () => {
    const context: Record<string, unknown> = {
      smsOriginationIdentity: ' pool-0123456789abcdef0123456789abcdef ',
      smsTemplate: TEXTING_ON.smsTemplate,
      smsTimezone: 'Australia/Perth',
      smsQuietHours: '21:30-07:30',
      smsConfigurationSet: 'text-back',
    };
    expect(settingsFromContext((key) => context[key], {}).props).toEqual({
      smsOriginationIdentity: 'pool-0123456789abcdef0123456789abcdef',
      smsTemplate: TEXTING_ON.smsTemplate,
      smsTimezone: 'Australia/Perth',
      smsQuietHours: '21:30-07:30',
      smsConfigurationSet: 'text-back',
    });
  });

  it('a pool id is granted as a pool', () => {
    const t = templateOf({ ...TEXTING_ON, smsOriginationIdentity: 'pool-0123456789abcdef0123456789abcdef' });
    expect(JSON.stringify(permissions(t, 'TextBackSmsWorkerRole')['sms-voice:SendTextMessage'])).toContain(
      ':sms-voice:ap-southeast-2:123456789012:pool/pool-0123456789abcdef0123456789abcdef',
    );
  });
});
