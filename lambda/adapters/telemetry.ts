/**
 * One JSON line per request (contract §7) that is at the same time a CloudWatch Embedded Metric
 * Format document (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
 * Logs Insights can query its fields and CloudWatch extracts the metrics from it, with no
 * PutMetricData call and no second line.
 */
import {
  EVENT_TYPE_DIMENSION,
  METRIC_UNITS,
  METRICS_NAMESPACE,
  type MetricName,
  type MetricValues,
  SERVICE_DIMENSION,
  SERVICE_NAME,
} from '../core/metrics';

import type { LogLevel } from '../core/outcome';

export type { LogLevel };
export type LogFields = Record<string, string | number | boolean | null | undefined>;
export type LineWriter = (line: string) => void;

export interface Telemetry {
  /** A plain structured log line (no metrics). */
  log(level: LogLevel, message: string, fields?: LogFields): void;
  /** A log line that also carries metrics; `eventType` adds the EventType split of EventsReceived. */
  logWithMetrics(level: LogLevel, message: string, fields: LogFields, metrics: MetricValues, eventType?: string): void;
}

const stdoutWriter: LineWriter = (line) => {
  process.stdout.write(`${line}\n`);
};

type Directive = { Namespace: string; Dimensions: string[][]; Metrics: { Name: MetricName; Unit: string }[] };

export function createTelemetry(write: LineWriter = stdoutWriter, now: () => number = Date.now): Telemetry {
  const line = (level: LogLevel, message: string, fields: LogFields | undefined, extra?: object) =>
    write(JSON.stringify(Object.assign({ level, message, timestamp: new Date(now()).toISOString() }, fields, extra)));
  /** A request has one of a handful of metric sets; each set's directives are built once. */
  const directiveCache = new Map<string, Directive[]>();

  return {
    log: (level, message, fields) => line(level, message, fields),
    logWithMetrics(level, message, fields, metrics, eventType) {
      const names = Object.keys(metrics) as MetricName[];
      if (names.length === 0) return line(level, message, fields);
      const split = eventType !== undefined && names.includes('EventsReceived');
      const cacheKey = `${split}:${names.join(',')}`;
      let directives = directiveCache.get(cacheKey);
      if (!directives) {
        directives = buildDirectives(names, split);
        directiveCache.set(cacheKey, directives);
      }
      line(level, message, fields, {
        _aws: { Timestamp: now(), CloudWatchMetrics: directives },
        [SERVICE_DIMENSION]: SERVICE_NAME,
        ...(split ? { [EVENT_TYPE_DIMENSION]: eventType } : {}),
        ...metrics,
      });
    },
  };
}

/** EMF directives: every metric by Service; EventsReceived also by Service and EventType. */
function buildDirectives(names: MetricName[], split: boolean): Directive[] {
  const definitions = (list: MetricName[]) => list.map((name) => ({ Name: name, Unit: METRIC_UNITS[name] }));
  return [
    {
      Namespace: METRICS_NAMESPACE,
      Dimensions: [[SERVICE_DIMENSION]],
      Metrics: definitions(split ? names.filter((n) => n !== 'EventsReceived') : names),
    },
    ...(split
      ? [
          {
            Namespace: METRICS_NAMESPACE,
            Dimensions: [[SERVICE_DIMENSION], [SERVICE_DIMENSION, EVENT_TYPE_DIMENSION]],
            Metrics: definitions(['EventsReceived']),
          },
        ]
      : []),
  ].filter((d) => d.Metrics.length > 0);
}
