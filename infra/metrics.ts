/**
 * CloudWatch metrics the Lambda code emits, built from the same constants it emits with
 * (lambda/core/metrics.ts). The telemetry adapter writes every metric with the dimension set
 * [Service] and `EventsReceived` also with [Service, EventType] (lambda/adapters/telemetry.ts).
 * CloudWatch treats each dimension combination as a separate metric, so an alarm must name
 * exactly one of those sets or it watches a metric that never gets data
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Dimension).
 */
import { Duration } from 'aws-cdk-lib';
import { Metric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import { EVENT_TYPE_NAMES } from '../lambda/core/events';
import { EVENT_TYPE_DIMENSION, METRICS_NAMESPACE, type MetricName, SERVICE_DIMENSION, SERVICE_NAME } from '../lambda/core/metrics';
import { eventTypeDimension } from '../lambda/core/request-facts';

/** Five minutes: the period every alarm and dashboard graph of this stack uses. */
export const METRIC_PERIOD = Duration.minutes(5);

export interface WebhookMetricOptions {
  /** Adds the EventType dimension; only `EventsReceived` is emitted with it. */
  readonly eventType?: string;
  readonly statistic?: string;
  readonly label?: string;
  /** Default: METRIC_PERIOD. */
  readonly period?: Duration;
}

/** One of the receiver's or worker's EMF metrics, with the dimensions it is emitted with. */
export function webhookMetric(name: MetricName, options: WebhookMetricOptions = {}): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: {
      [SERVICE_DIMENSION]: SERVICE_NAME,
      ...(options.eventType === undefined ? {} : { [EVENT_TYPE_DIMENSION]: options.eventType }),
    },
    statistic: options.statistic ?? Stats.SUM,
    period: options.period ?? METRIC_PERIOD,
    ...(options.label === undefined ? {} : { label: options.label }),
  });
}

/**
 * Every value the EventType dimension can take: the three known types plus the bucket that
 * unknown types are folded into, so a sender cannot mint new metrics.
 */
export const EVENT_TYPE_VALUES: readonly string[] = [...EVENT_TYPE_NAMES, eventTypeDimension(undefined)];
