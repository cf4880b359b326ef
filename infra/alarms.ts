/**
 * The alarms of SPEC §5/§7/§9, each notifying the alarm topic. Custom metrics come from
 * webhookMetric(), i.e. from the constants the Lambda code emits with. Every alarm reads a
 * five-minute Sum and treats missing data as "not breaching": these metrics are only written
 * when something happens, so no data means nothing went wrong
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data).
 */
import { Stack } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MetricName } from '../lambda/core/metrics';
import { METRIC_PERIOD, webhookMetric } from './metrics';

/**
 * `SignatureRejected` in five minutes that counts as a spike. A few rejections are normal
 * (scanners, a clock far off); a burst means the secret in Secrets Manager no longer matches
 * the one ElevenLabs signs with, or someone is probing the URL.
 */
export const SIGNATURE_REJECTED_SPIKE = 10;

export interface WebhookAlarmsProps {
  readonly topic: ITopic;
  readonly api: IHttpApi;
  readonly receiver: IFunction;
  readonly retryWorker: IFunction;
  readonly deadLetterQueue: IQueue;
}

/** What docs/deploy.md's runbook calls each alarm; the alarm name is `<stack name>-<id>`. */
export const ALARM_IDS = [
  'CrmForwardFailed',
  'CrmForwardNotDurable',
  'DeadLetterQueueNotEmpty',
  'ReceiverErrors',
  'ReceiverThrottles',
  'RetryWorkerErrors',
  'RetryWorkerThrottles',
  'Api5xx',
  'SignatureRejectedSpike',
  'AudioStoreFailed',
  'SecretUnavailable',
  'IdempotencyUnavailable',
] as const;
export type AlarmId = (typeof ALARM_IDS)[number];

export class WebhookAlarms extends Construct {
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: WebhookAlarmsProps) {
    super(scope, id);
    const { api, receiver, retryWorker, deadLetterQueue } = props;
    const action = new SnsAction(props.topic);

    const add = (alarmId: AlarmId, metric: IMetric, threshold: number, description: string) => {
      const alarm = new Alarm(this, alarmId, {
        alarmName: `${Stack.of(this).stackName}-${alarmId}`,
        alarmDescription: `${description} Runbook: docs/deploy.md, "${alarmId}".`,
        metric,
        threshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      // OK too, so whoever was paged also learns when it cleared.
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
    };

    add(
      'CrmForwardFailed',
      webhookMetric(MetricName.CrmForwardFailed),
      1,
      'A CRM forward failed after all attempts (receiver: now queued for retry; worker: a retry failed).',
    );
    add(
      'CrmForwardNotDurable',
      webhookMetric(MetricName.CrmForwardNotDurable),
      1,
      'A CRM forward failed and the retry queue refused it: the receiver answered 5xx and the record exists only if ElevenLabs retries.',
    );
    add(
      'DeadLetterQueueNotEmpty',
      deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: METRIC_PERIOD, statistic: Stats.MAXIMUM }),
      1,
      'CRM payloads gave up retrying (8 receives or a permanent 4xx) and wait in the dead-letter queue for a re-drive.',
    );
    add('ReceiverErrors', receiver.metricErrors({ period: METRIC_PERIOD, statistic: Stats.SUM }), 1, 'The receiver Lambda failed (crash, timeout or out of memory).');
    add('ReceiverThrottles', receiver.metricThrottles({ period: METRIC_PERIOD, statistic: Stats.SUM }), 1, 'The receiver Lambda was throttled: webhooks were answered with an error.');
    add('RetryWorkerErrors', retryWorker.metricErrors({ period: METRIC_PERIOD, statistic: Stats.SUM }), 1, 'The retry worker Lambda failed (crash or timeout); its batch will be received again.');
    add('RetryWorkerThrottles', retryWorker.metricThrottles({ period: METRIC_PERIOD, statistic: Stats.SUM }), 1, 'The retry worker Lambda was throttled.');
    add('Api5xx', api.metricServerError({ period: METRIC_PERIOD, statistic: Stats.SUM }), 1, 'The webhook URL answered 5xx: ElevenLabs counts it as a failed delivery and retries only transcriptions.');
    add(
      'SignatureRejectedSpike',
      webhookMetric(MetricName.SignatureRejected),
      SIGNATURE_REJECTED_SPIKE,
      `${SIGNATURE_REJECTED_SPIKE}+ webhooks in five minutes failed authentication: the stored secret may not match ElevenLabs', or someone is probing the URL.`,
    );
    add('AudioStoreFailed', webhookMetric(MetricName.AudioStoreFailed), 1, 'A recording could not be written to S3; ElevenLabs does not retry audio, so it is lost.');
    add('SecretUnavailable', webhookMetric(MetricName.SecretUnavailable), 1, 'The webhook secret is missing, still the placeholder, or Secrets Manager is unreachable: every webhook is refused with 500.');
    add(
      'IdempotencyUnavailable',
      webhookMetric(MetricName.IdempotencyUnavailable),
      1,
      'The idempotency table could not be used; webhooks are still processed, but a re-delivery may reach the CRM twice.',
    );
  }
}
