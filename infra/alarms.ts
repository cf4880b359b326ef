/**
 * The alarms of contract §11, built from one table. Each pages the alarm topic (and says when it
 * cleared) and links to its runbook entry in the README. Custom metrics come from
 * webhookMetric(), i.e. from the constants the Lambda code emits with. Alarms on metrics that
 * are only written when something happens treat missing data as "not breaching": no data means
 * nothing went wrong (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data).
 * The no-traffic alarm is the exception: there, missing data is the problem.
 *
 * What does not page: `CrmForwardFailed` on its own. A failed forward is queued and retried
 * for a day; what puts a CRM record at risk is a queue nobody drains (its oldest message's
 * age), the DLQ, or a forward that could not be queued (`CrmForwardNotDurable`).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, type IMetric, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MetricName } from '../lambda/core/metrics';
import { METRIC_PERIOD, webhookMetric } from './metrics';

/**
 * `SignatureRejected` in five minutes that counts as a spike: someone probing the URL. A wrong
 * stored secret is caught sooner and at any volume by `SignatureMismatchFromElevenLabs`.
 */
export const SIGNATURE_REJECTED_SPIKE = 10;
/** A retry-queue message older than this means the CRM has been failing for an hour, or nothing drains the queue. */
export const RETRY_QUEUE_MAX_AGE = Duration.hours(1);
/** CloudWatch: an alarm's period × evaluation periods may not exceed 7 days. */
export const MAX_NO_TRAFFIC_HOURS = 168;

export interface WebhookAlarmsProps {
  readonly topic: ITopic;
  readonly api: IHttpApi;
  readonly receiver: IFunction;
  readonly retryWorker: IFunction;
  readonly retryQueue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly audioWorker: IFunction;
  readonly audioCheckDeadLetterQueue: IQueue;
  readonly reconciler: IFunction;
  /** Where the runbook lives (a URL, or the default `docs/runbook.md`); each alarm links to its entry. */
  readonly runbookUrl: string;
  /** Page when no event arrived for this many hours (off when undefined). */
  readonly noTrafficHours?: number;
  /** contract §13, when texting is on: the SMS worker and its dead-letter queue. */
  readonly textBack?: { readonly worker: { readonly function: IFunction }; readonly deadLetterQueue: IQueue };
}

/** The alarms that exist only when texting is on (contract §13). */
export const TEXT_BACK_ALARM_IDS = ['SmsDeadLetterQueueNotEmpty', 'SmsFailed', 'SmsWorkerErrors', 'SmsWorkerThrottles'] as const;

/** Every alarm the stack can create; docs/runbook.md has one entry (heading) per id. */
export const ALARM_IDS = [
  'CrmRetryQueueOldestMessage',
  'CrmDeadLetterQueueNotEmpty',
  'CrmForwardNotDurable',
  'SignatureMismatchFromElevenLabs',
  'SignatureRejectedSpike',
  'RequestRejected',
  'SecretUnavailable',
  'AudioStoreFailed',
  'IdempotencyUnavailable',
  'AudioMissing',
  'AudioCheckDeadLetterQueueNotEmpty',
  'CallRecovered',
  'ReconcileFailed',
  'CallRecordMissing',
  'ReceiverErrors',
  'ReceiverThrottles',
  'RetryWorkerErrors',
  'RetryWorkerThrottles',
  'AudioWorkerErrors',
  'AudioWorkerThrottles',
  'ReconcilerErrors',
  'ReconcilerThrottles',
  'Api5xx',
  ...TEXT_BACK_ALARM_IDS,
  'NoTraffic',
] as const;
export type AlarmId = (typeof ALARM_IDS)[number];

/** The anchor of an alarm's runbook entry: GitHub's slug of the heading `` `<id>` ``. */
export function runbookAnchor(id: AlarmId): string {
  return id.toLowerCase();
}

interface AlarmSpec {
  readonly id: AlarmId;
  readonly metric: IMetric;
  readonly threshold: number;
  readonly description: string;
  readonly comparison?: ComparisonOperator;
  readonly missingData?: TreatMissingData;
}

/** The table: what pages, at what threshold, and why it matters (in the order the dashboard lists them). */
function alarmSpecs(props: WebhookAlarmsProps): AlarmSpec[] {
  const { retryQueue, deadLetterQueue, audioCheckDeadLetterQueue } = props;
  const queueMax = { period: METRIC_PERIOD, statistic: Stats.MAXIMUM };
  return [
    {
      id: 'CrmRetryQueueOldestMessage',
      metric: retryQueue.metricApproximateAgeOfOldestMessage(queueMax),
      threshold: RETRY_QUEUE_MAX_AGE.toSeconds(),
      description: 'A CRM payload has waited in the retry queue for over an hour: the CRM keeps failing, or nothing drains the queue.',
    },
    {
      id: 'CrmDeadLetterQueueNotEmpty',
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible(queueMax),
      threshold: 1,
      description:
        'CRM payloads gave up retrying (a day of failures, or a permanent 4xx) and wait in the dead-letter queue for a re-drive.',
    },
    ...CUSTOM_METRIC_ALARMS.map(([id, name, threshold, description, period]) => ({
      id,
      metric: webhookMetric(name, period === undefined ? {} : { period }),
      threshold,
      description,
    })),
    {
      id: 'AudioCheckDeadLetterQueueNotEmpty',
      metric: audioCheckDeadLetterQueue.metricApproximateNumberOfMessagesVisible(queueMax),
      threshold: 1,
      description:
        'Audio checks gave up (a day of ElevenLabs API or S3 failures, or an unreadable message): those recordings may not be in the bucket.',
    },
    ...functionAlarms(props),
    ...(props.textBack ? textBackAlarms(props.textBack) : []),
    ...(props.noTrafficHours === undefined ? [] : [noTrafficAlarm(props.noTrafficHours)]),
  ];
}

/**
 * Alarms on the receiver's and workers' own metrics (lambda/core/metrics.ts): any datapoint pages.
 * The fifth entry is the period when it is not the stack's five minutes.
 */
const CUSTOM_METRIC_ALARMS: readonly (readonly [AlarmId, MetricName, number, string, Duration?])[] = [
  [
    'CrmForwardNotDurable',
    MetricName.CrmForwardNotDurable,
    1,
    'A CRM forward failed and the retry queue refused it: the receiver answered 5xx and the record exists only if ElevenLabs retries.',
  ],
  [
    'SignatureMismatchFromElevenLabs',
    MetricName.SignatureMismatchFromElevenLabs,
    1,
    "A webhook from one of ElevenLabs' own IPs failed its signature: the stored secret is wrong or stale, and every event is being refused.",
  ],
  [
    'SignatureRejectedSpike',
    MetricName.SignatureRejected,
    SIGNATURE_REJECTED_SPIKE,
    `${SIGNATURE_REJECTED_SPIKE}+ requests in five minutes failed authentication: someone is probing the URL, or a sender's clock is far off.`,
  ],
  [
    'RequestRejected',
    MetricName.RequestRejected,
    1,
    'A request was refused as malformed (400), from a source not allowed (403) or too large (413). A signed event answered 400 is a call record ElevenLabs will not resend.',
  ],
  [
    'SecretUnavailable',
    MetricName.SecretUnavailable,
    1,
    'The webhook secret is missing, still the placeholder, or Secrets Manager is unreachable: webhooks are refused with 500.',
  ],
  ['AudioStoreFailed', MetricName.AudioStoreFailed, 1, 'A recording could not be written to S3; ElevenLabs does not resend audio.'],
  [
    'IdempotencyUnavailable',
    MetricName.IdempotencyUnavailable,
    1,
    'The idempotency table could not be used; webhooks are still processed, but a re-delivery may reach the CRM twice.',
  ],
  [
    'AudioMissing',
    MetricName.AudioMissing,
    1,
    "A call's recording is not in the bucket and could not be recovered: no ElevenLabs API key is configured, or ElevenLabs rejected it.",
  ],
  [
    'CallRecovered',
    MetricName.CallRecovered,
    1,
    "A call's CRM record was recovered from the ElevenLabs API because its webhook never arrived: the receiver was down past ElevenLabs' retries, the webhook is disabled, or its URL or secret is wrong. Records are safe; find out which.",
    Duration.hours(1),
  ],
  [
    'ReconcileFailed',
    MetricName.ReconcileFailed,
    1,
    'A reconciler run could not list or check its window (API key rejected, API down, an incomplete listing, invalid configuration): calls whose webhook never arrived may go unseen until a run succeeds.',
  ],
  [
    'CallRecordMissing',
    MetricName.CallRecordMissing,
    1,
    "A call's CRM record is missing and cannot be recovered: no ElevenLabs API key is configured, or ElevenLabs rejected it.",
  ],
];

/** Errors and throttles of each function, then the API's 5xx. */
function functionAlarms({ api, receiver, retryWorker, audioWorker, reconciler }: WebhookAlarmsProps): AlarmSpec[] {
  const sum = { period: METRIC_PERIOD, statistic: Stats.SUM };
  const alarm = (id: AlarmId, metric: IMetric, description: string): AlarmSpec => ({ id, metric, threshold: 1, description });
  return [
    alarm('ReceiverErrors', receiver.metricErrors(sum), 'The receiver Lambda failed (crash, timeout or out of memory).'),
    alarm('ReceiverThrottles', receiver.metricThrottles(sum), 'The receiver Lambda was throttled: webhooks were answered with an error.'),
    alarm(
      'RetryWorkerErrors',
      retryWorker.metricErrors(sum),
      'The retry worker Lambda failed (crash or timeout); its batch will be received again.',
    ),
    alarm('RetryWorkerThrottles', retryWorker.metricThrottles(sum), 'The retry worker Lambda was throttled.'),
    alarm(
      'AudioWorkerErrors',
      audioWorker.metricErrors(sum),
      'The audio worker Lambda failed (crash, timeout or out of memory); its audio check will be received again.',
    ),
    alarm(
      'AudioWorkerThrottles',
      audioWorker.metricThrottles(sum),
      'The audio worker Lambda was throttled; audio checks wait in their queue.',
    ),
    alarm(
      'ReconcilerErrors',
      reconciler.metricErrors(sum),
      'The reconciler Lambda failed (a failed run, a crash or a timeout); the next scheduled run tries its window again.',
    ),
    alarm('ReconcilerThrottles', reconciler.metricThrottles(sum), 'The reconciler Lambda was throttled: a scheduled run did not happen.'),
    alarm(
      'Api5xx',
      api.metricServerError(sum),
      'The webhook URL answered 5xx: ElevenLabs counts it as a failed delivery and retries only transcriptions.',
    ),
  ];
}

/** contract §13: texts that gave up, or were refused, and the SMS worker itself. */
function textBackAlarms({ worker, deadLetterQueue }: NonNullable<WebhookAlarmsProps['textBack']>): AlarmSpec[] {
  const sum = { period: METRIC_PERIOD, statistic: Stats.SUM };
  return [
    {
      id: 'SmsDeadLetterQueueNotEmpty',
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: METRIC_PERIOD, statistic: Stats.MAXIMUM }),
      threshold: 1,
      description:
        'Missed-call texts gave up (a day of End User Messaging failures) or were refused (validation, access, spending limit) and wait in the SMS dead-letter queue.',
    },
    {
      id: 'SmsFailed',
      metric: webhookMetric(MetricName.SmsFailed),
      threshold: 1,
      description: 'End User Messaging SMS refused a missed-call text (not an opt-out): the contact was not texted.',
    },
    {
      id: 'SmsWorkerErrors',
      metric: worker.function.metricErrors(sum),
      threshold: 1,
      description: 'The SMS worker Lambda failed (crash or timeout); its batch will be received again.',
    },
    {
      id: 'SmsWorkerThrottles',
      metric: worker.function.metricThrottles(sum),
      threshold: 1,
      description: 'The SMS worker Lambda was throttled; texts wait in their queue.',
    },
  ];
}

/** Here missing data is the problem, so it counts as breaching. */
function noTrafficAlarm(hours: number): AlarmSpec {
  return {
    id: 'NoTraffic',
    metric: webhookMetric(MetricName.EventsReceived, { period: Duration.hours(hours) }),
    threshold: 1,
    comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
    missingData: TreatMissingData.BREACHING,
    description: `No event arrived for ${hours} hours: ElevenLabs may have disabled the webhook (10+ consecutive failures), or its URL changed.`,
  };
}

export class WebhookAlarms extends Construct {
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: WebhookAlarmsProps) {
    super(scope, id);
    const action = new SnsAction(props.topic);
    for (const spec of alarmSpecs(props)) {
      const alarm = new Alarm(this, spec.id, {
        alarmName: `${Stack.of(this).stackName}-${spec.id}`,
        alarmDescription: `${spec.description} Runbook: ${props.runbookUrl}#${runbookAnchor(spec.id)}`,
        metric: spec.metric,
        threshold: spec.threshold,
        comparisonOperator: spec.comparison ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        treatMissingData: spec.missingData ?? TreatMissingData.NOT_BREACHING,
      });
      // OK too, so whoever was paged also learns when it cleared.
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
    }
  }
}
