/**
 * One CloudWatch dashboard for the infra team: what arrives, what reaches the CRM, what waits
 * in the queues, how long it takes, how much audio is stored, the calls recovered and the texts
 * sent, next to the alarm states.
 */
import { Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { type Alarm, AlarmStatusWidget, Dashboard, GraphWidget, type IMetric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MetricName } from '../lambda/core/metrics';
import { EVENT_TYPE_VALUES, METRIC_PERIOD, webhookMetric } from './metrics';

export interface WebhookDashboardProps {
  readonly api: HttpApi;
  readonly receiver: IFunction;
  readonly retryWorker: IFunction;
  readonly retryQueue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly alarms: readonly Alarm[];
}

export class WebhookDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: WebhookDashboardProps) {
    super(scope, id);
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${Stack.of(this).stackName}-overview`,
    });
    this.dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 3 }));
    this.dashboard.addWidgets(...trafficWidgets());
    this.dashboard.addWidgets(...queueAndLatencyWidgets(props));
    this.dashboard.addWidgets(...callAndErrorWidgets(props));
  }
}

const period = METRIC_PERIOD;

function graph(title: string, left: IMetric[], right: IMetric[] = []): GraphWidget {
  return new GraphWidget({ title, left, right, width: 12, height: 6, period });
}

/** What arrives and what the CRM got. */
function trafficWidgets(): GraphWidget[] {
  return [
    graph(
      'Events by type',
      EVENT_TYPE_VALUES.map((eventType) => webhookMetric(MetricName.EventsReceived, { eventType, label: eventType })),
      [
        webhookMetric(MetricName.SignatureRejected, { label: 'signature rejected' }),
        webhookMetric(MetricName.SignatureMismatchFromElevenLabs, { label: 'mismatch from ElevenLabs IPs' }),
        webhookMetric(MetricName.RequestRejected, { label: 'rejected (400/403/413)' }),
        webhookMetric(MetricName.Deduplicated, { label: 'deduplicated' }),
      ],
    ),
    graph('CRM forwards', [
      webhookMetric(MetricName.CrmForwardSucceeded, { label: 'succeeded' }),
      webhookMetric(MetricName.CrmForwardFailed, { label: 'failed' }),
      webhookMetric(MetricName.CrmForwardRetried, { label: 'retried (extra attempts)' }),
      webhookMetric(MetricName.CrmForwardQueued, { label: 'queued for retry' }),
      webhookMetric(MetricName.CrmForwardNotDurable, { label: 'not durable (5xx)' }),
    ]),
  ];
}

function queueAndLatencyWidgets({ api, receiver, retryWorker, retryQueue, deadLetterQueue }: WebhookDashboardProps): GraphWidget[] {
  return [
    graph(
      'Retry queue and dead-letter queue',
      [
        retryQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: Stats.MAXIMUM, label: 'retry queue visible' }),
        retryQueue.metricApproximateNumberOfMessagesNotVisible({ period, statistic: Stats.MAXIMUM, label: 'retry queue in flight' }),
        deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: Stats.MAXIMUM, label: 'DLQ visible' }),
      ],
      [retryQueue.metricApproximateAgeOfOldestMessage({ period, statistic: Stats.MAXIMUM, label: 'oldest retry (s)' })],
    ),
    graph('Latency (ms)', [
      api.metricLatency({ period, statistic: Stats.p(50), label: 'API p50' }),
      api.metricLatency({ period, statistic: Stats.p(99), label: 'API p99' }),
      receiver.metricDuration({ period, statistic: Stats.p(99), label: 'receiver p99' }),
      retryWorker.metricDuration({ period, statistic: Stats.p(99), label: 'retry worker p99' }),
    ]),
  ];
}

/** contract §10 (every call kept) and the functions' own failures. */
function callAndErrorWidgets({ api, receiver, retryWorker }: WebhookDashboardProps): GraphWidget[] {
  return [
    graph(
      'Audio',
      [
        webhookMetric(MetricName.AudioBytes, { label: 'bytes stored from webhooks' }),
        webhookMetric(MetricName.AudioRecoveredBytes, { label: 'bytes recovered from the API' }),
      ],
      [
        webhookMetric(MetricName.AudioStored, { label: 'recordings stored (webhook)' }),
        webhookMetric(MetricName.AudioStoreFailed, { label: 'store failed' }),
        webhookMetric(MetricName.AudioRecovered, { label: 'recovered (API)' }),
        webhookMetric(MetricName.AudioAlreadyStored, { label: 'check: already stored' }),
        webhookMetric(MetricName.AudioUnavailable, { label: 'check: ElevenLabs has none' }),
        webhookMetric(MetricName.AudioMissing, { label: 'check: missing' }),
      ],
    ),
    graph('Every call kept', [
      webhookMetric(MetricName.EventArchived, { label: 'events archived' }),
      webhookMetric(MetricName.ArchiveFailed, { label: 'archive failed' }),
      webhookMetric(MetricName.AudioCheckScheduled, { label: 'audio checks scheduled' }),
      webhookMetric(MetricName.AudioCheckNotScheduled, { label: 'audio checks not scheduled' }),
    ]),
    // contract §12: calls whose webhook never came, recovered by the call check and the reconciler.
    graph(
      'Every call reaches the CRM',
      [
        webhookMetric(MetricName.CallRecovered, { label: 'records recovered from the API' }),
        webhookMetric(MetricName.CallRecordMissing, { label: 'record missing (alarmed)' }),
        webhookMetric(MetricName.CallRecordUnavailable, { label: 'ElevenLabs has no record' }),
        webhookMetric(MetricName.ReconcileFailed, { label: 'reconciler runs failed' }),
      ],
      [
        webhookMetric(MetricName.ConversationsListed, { label: 'conversations listed' }),
        webhookMetric(MetricName.CallChecksScheduled, { label: 'call checks sent by the reconciler' }),
      ],
    ),
    // contract §13: missed-call text-back (flat when it is off).
    graph('Missed-call texts', [
      webhookMetric(MetricName.SmsSent, { label: 'sent' }),
      webhookMetric(MetricName.SmsSkipped, { label: 'skipped (rules)' }),
      webhookMetric(MetricName.SmsOptedOut, { label: 'opted out' }),
      webhookMetric(MetricName.SmsFailed, { label: 'failed' }),
    ]),
    graph(
      'Lambda errors and throttles',
      [
        receiver.metricErrors({ period, statistic: Stats.SUM, label: 'receiver errors' }),
        receiver.metricThrottles({ period, statistic: Stats.SUM, label: 'receiver throttles' }),
        retryWorker.metricErrors({ period, statistic: Stats.SUM, label: 'worker errors' }),
        retryWorker.metricThrottles({ period, statistic: Stats.SUM, label: 'worker throttles' }),
      ],
      [
        api.metricServerError({ period, statistic: Stats.SUM, label: 'API 5xx' }),
        api.metricClientError({ period, statistic: Stats.SUM, label: 'API 4xx' }),
      ],
    ),
  ];
}
