/**
 * contract §7 "Alarms use exactly the emitted dimensions". The EMF documents are produced by the
 * real telemetry code (receiver: requestMetrics + createTelemetry; worker: the real handler
 * with a failing CRM) and parsed the way CloudWatch does, so an alarm on a metric name,
 * namespace or dimension set the code does not write fails here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import type { SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ALARM_IDS,
  type AlarmId,
  RETRY_QUEUE_MAX_AGE,
  runbookAnchor,
  SIGNATURE_REJECTED_SPIKE,
  TEXT_BACK_ALARM_IDS,
} from '../../infra/alarms';
import { EVENT_TYPE_VALUES } from '../../infra/metrics';
import { createTelemetry } from '../../lambda/adapters/telemetry';
import type { AudioCheckOutcome } from '../../lambda/core/audio-check';
import type { RecordOutcome } from '../../lambda/core/call-check';
import {
  AudioStoreError,
  ForwardNotDurableError,
  InvalidJsonError,
  SecretUnavailableError,
  SignatureError,
  SourceNotAllowedError,
} from '../../lambda/core/errors';
import { EVENT_TYPE_NAMES } from '../../lambda/core/events';
import {
  callCheckMetrics,
  METRICS_NAMESPACE,
  MetricName,
  reconcileMetrics,
  requestMetrics,
  SERVICE_DIMENSION,
  SERVICE_NAME,
  smsMetrics,
} from '../../lambda/core/metrics';
import { eventTypeDimension, type RequestFacts } from '../../lambda/core/request-facts';
import type { TextBackOutcome } from '../../lambda/core/text-back/send-text-back';
import { createRetryWorker } from '../../lambda/create-retry-worker';
import { githubSlug } from '../helpers/markdown';

import { REPO_ROOT, resourcesOf, TEXTING_ON, templateOf } from './stack-fixture';

interface Dimension {
  Name: string;
  Value: unknown;
}
interface AlarmProps {
  AlarmName: string;
  AlarmDescription: string;
  EvaluationPeriods: number;
  Namespace?: string;
  MetricName?: string;
  Dimensions?: Dimension[];
  Statistic?: string;
  Period?: number;
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData: string;
  AlarmActions: unknown[];
  OKActions?: unknown[];
}

/** `namespace|metric|Name=Value,...` with dimensions sorted: one CloudWatch metric identity. */
function identity(namespace: string, metric: string, dimensions: Record<string, unknown>): string {
  const dims = Object.entries(dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',');
  return `${namespace}|${metric}|${dims}`;
}

/** Every metric identity an EMF line defines (Embedded Metric Format specification). */
function emfIdentities(line: string): string[] {
  const doc = JSON.parse(line) as Record<string, unknown> & {
    _aws?: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  };
  return (doc._aws?.CloudWatchMetrics ?? []).flatMap((directive) =>
    directive.Metrics.flatMap((m) =>
      directive.Dimensions.map((set) => identity(directive.Namespace, m.Name, Object.fromEntries(set.map((d) => [d, doc[d]])))),
    ),
  );
}

/** What the receiver emits for each outcome it can have (outcome strings taken from the code). */
function receiverIdentities(): Set<string> {
  const lines: string[] = [];
  const telemetry = createTelemetry((line) => lines.push(line));
  const outcomes: RequestFacts[] = [
    { outcome: 'forwarded', type: 'post_call_transcription', crmAttempts: 2 },
    { outcome: 'forwarded', type: 'post_call_transcription_otel' },
    { outcome: 'queued', type: 'call_initiation_failure', crmAttempts: 3 },
    { outcome: new ForwardNotDurableError('queue down').kind, type: 'post_call_transcription', crmAttempts: 3 },
    { outcome: 'audio_stored', type: 'post_call_audio', audioBytes: 1234 },
    { outcome: new AudioStoreError('S3 down').kind, type: 'post_call_audio' },
    { outcome: 'deduplicated', type: 'post_call_transcription', idempotencyError: 'table down' },
    { outcome: new SecretUnavailableError('no secret').kind },
    { outcome: new SignatureError('signature mismatch').kind },
    { outcome: new SignatureError('signature mismatch').kind, mismatchFromElevenLabs: true },
    { outcome: new InvalidJsonError().kind },
    { outcome: new SourceNotAllowedError().kind },
    { outcome: 'skipped', type: 'some_future_type' },
    { outcome: 'forwarded', type: 'post_call_transcription', archive: 'archived', audioCheck: 'scheduled' },
    { outcome: 'forwarded', type: 'post_call_transcription', archive: 'failed', audioCheck: 'not_scheduled' },
  ];
  for (const facts of outcomes) {
    telemetry.logWithMetrics('info', 'webhook request', {}, requestMetrics(facts), eventTypeDimension(facts.type));
  }
  return new Set(lines.flatMap(emfIdentities));
}

/** What the retry worker emits when a retry fails and when it succeeds. */
async function workerIdentities(): Promise<Set<string>> {
  const lines: string[] = [];
  const results = [
    { ok: false as const, attempts: 3, lastError: 'HTTP 503', permanent: false },
    { ok: true as const, attempts: 2 },
  ];
  const worker = createRetryWorker(
    { CRM_WEBHOOK_URL: 'http://127.0.0.1:9/crm' },
    { write: (line) => lines.push(line), deps: { crm: { forward: async () => results.shift()! } } },
  );
  const body = JSON.stringify({
    crmPayload: { type: 'conversationAICall', subject: 's', to: '+61400000000', name: 'n', summary: 's', status: 'held', duration: 1 },
    eventType: 'post_call_transcription',
    conversationId: 'conv_1',
    attempts: 3,
    lastError: 'HTTP 503',
    firstAttemptAt: '2026-11-22T10:00:00Z',
  });
  for (const messageId of ['m1', 'm2']) {
    await worker({ Records: [{ messageId, body, attributes: { ApproximateReceiveCount: '1' } }] } as unknown as SQSEvent);
  }
  return new Set(lines.flatMap(emfIdentities));
}

/** What the audio worker emits for each outcome of a call check (its one mapping, callCheckMetrics), and the reconciler for its runs. */
function audioWorkerIdentities(): Set<string> {
  const lines: string[] = [];
  const telemetry = createTelemetry((line) => lines.push(line));
  const recordings: AudioCheckOutcome[] = [
    { kind: 'already_stored', key: 'k' },
    { kind: 'recovered', key: 'k', bytes: 10, sha256: '0'.repeat(64) },
    { kind: 'unavailable', key: 'k' },
    { kind: 'missing', key: 'k', reason: 'no key' },
  ];
  const records: RecordOutcome[] = [
    { kind: 'recovered', delivery: 'queued', attempts: 2, crmStatus: 'held', crmTo: 'Unknown', archive: 'archived' },
    { kind: 'recovered', delivery: 'forwarded', attempts: 1, crmStatus: 'held', crmTo: 'Unknown', archive: 'failed' },
    { kind: 'missing', reason: 'no key' },
    { kind: 'unavailable' },
    { kind: 'retry', reason: 'down', notDurable: true },
  ];
  for (const recording of recordings) telemetry.logWithMetrics('info', 'call check', {}, callCheckMetrics({ recording }));
  for (const record of records) telemetry.logWithMetrics('info', 'call check', {}, callCheckMetrics({ record, idempotencyError: 'x' }));
  telemetry.logWithMetrics('error', 'reconcile run', {}, reconcileMetrics({ listed: 3, scheduled: 1, failed: true }));
  // The SMS worker, for every outcome of a text-back (its one mapping, smsMetrics).
  const facts = { conversationId: 'conv_1', to: '+********156', status: 'no answer' };
  const texts: TextBackOutcome[] = [
    { kind: 'sent', facts },
    { kind: 'skipped', reason: 'recently_texted', facts },
    { kind: 'opted_out', facts },
    { kind: 'failed', deadLettered: true, facts },
  ];
  for (const text of texts) telemetry.logWithMetrics('info', 'text-back', {}, smsMetrics(text));
  return new Set(lines.flatMap(emfIdentities));
}

let template: Template;
let alarms: AlarmProps[];
let emitted: Set<string>;
let workerEmitted: Set<string>;
beforeAll(async () => {
  template = templateOf();
  alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties as unknown as AlarmProps);
  workerEmitted = await workerIdentities();
  emitted = new Set([...receiverIdentities(), ...workerEmitted, ...audioWorkerIdentities()]);
});

const customAlarms = () => alarms.filter((a) => a.Namespace === METRICS_NAMESPACE);
const alarmNamed = (id: string) => {
  const alarm = alarms.find((a) => a.AlarmName === `TestWebhook-${id}`);
  if (!alarm) throw new Error(`no alarm ${id}`);
  return alarm;
};

describe('the emitted metrics (sanity of the harness)', () => {
  it('sees the receiver and worker EMF lines', () => {
    const service = { [SERVICE_DIMENSION]: SERVICE_NAME };
    // The worker's failed retry feeds the same CrmForwardFailed alarm as the receiver's.
    expect([...workerEmitted].sort()).toEqual(
      [MetricName.CrmForwardFailed, MetricName.CrmForwardRetried, MetricName.CrmForwardSucceeded]
        .map((name) => identity(METRICS_NAMESPACE, name, service))
        .sort(),
    );
    expect(emitted).toContain(identity(METRICS_NAMESPACE, MetricName.SecretUnavailable, service));
    expect(emitted).toContain(
      identity(METRICS_NAMESPACE, MetricName.EventsReceived, { [SERVICE_DIMENSION]: SERVICE_NAME, EventType: 'post_call_audio' }),
    );
  });
});

describe('custom-metric alarms', () => {
  it('use the namespace, metric names and the [Service] dimension set from lambda/core/metrics.ts', () => {
    expect(customAlarms().length).toBeGreaterThanOrEqual(7);
    for (const alarm of customAlarms()) {
      expect(Object.values(MetricName)).toContain(alarm.MetricName);
      expect(alarm.Dimensions).toEqual([{ Name: SERVICE_DIMENSION, Value: SERVICE_NAME }]);
      expect(alarm.Statistic).toBe('Sum');
    }
  });

  it('each watch a metric identity the Lambda code actually emits', () => {
    for (const alarm of customAlarms()) {
      const dims = Object.fromEntries((alarm.Dimensions ?? []).map((d) => [d.Name, d.Value]));
      expect(emitted, alarm.AlarmName).toContain(identity(alarm.Namespace!, alarm.MetricName!, dims));
    }
  });

  it.each([
    ['CrmForwardNotDurable', MetricName.CrmForwardNotDurable, 1],
    ['SignatureMismatchFromElevenLabs', MetricName.SignatureMismatchFromElevenLabs, 1],
    ['SignatureRejectedSpike', MetricName.SignatureRejected, SIGNATURE_REJECTED_SPIKE],
    ['RequestRejected', MetricName.RequestRejected, 1],
    ['AudioStoreFailed', MetricName.AudioStoreFailed, 1],
    ['SecretUnavailable', MetricName.SecretUnavailable, 1],
    ['IdempotencyUnavailable', MetricName.IdempotencyUnavailable, 1],
    ['AudioMissing', MetricName.AudioMissing, 1],
  ])('%s alarms on %s ≥ %d in five minutes', (id, metric, threshold) => {
    expect(alarmNamed(id)).toMatchObject({
      MetricName: metric,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Period: 300,
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('does not page on CrmForwardFailed alone: a failed forward is queued and retried for a day', () => {
    expect(customAlarms().map((a) => a.MetricName)).not.toContain(MetricName.CrmForwardFailed);
    expect(dashboardMetrics().some((m) => m[0] === METRICS_NAMESPACE && m[1] === MetricName.CrmForwardFailed)).toBe(true);
  });
});

describe('AWS-metric alarms', () => {
  it.each([
    [
      'CrmRetryQueueOldestMessage',
      'AWS/SQS',
      'ApproximateAgeOfOldestMessage',
      'QueueName',
      'CrmRetryQueue',
      RETRY_QUEUE_MAX_AGE.toSeconds(),
    ],
    ['CrmDeadLetterQueueNotEmpty', 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', 'CrmDeadLetterQueue', 1],
    ['AudioCheckDeadLetterQueueNotEmpty', 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', 'AudioCheckDeadLetterQueue', 1],
    ['AudioWorkerErrors', 'AWS/Lambda', 'Errors', 'FunctionName', 'AudioWorkerFunction', 1],
    ['AudioWorkerThrottles', 'AWS/Lambda', 'Throttles', 'FunctionName', 'AudioWorkerFunction', 1],
    ['ReceiverErrors', 'AWS/Lambda', 'Errors', 'FunctionName', 'ReceiverFunction', 1],
    ['ReceiverThrottles', 'AWS/Lambda', 'Throttles', 'FunctionName', 'ReceiverFunction', 1],
    ['RetryWorkerErrors', 'AWS/Lambda', 'Errors', 'FunctionName', 'RetryWorkerFunction', 1],
    ['RetryWorkerThrottles', 'AWS/Lambda', 'Throttles', 'FunctionName', 'RetryWorkerFunction', 1],
    ['Api5xx', 'AWS/ApiGateway', '5xx', 'ApiId', 'HttpApi', 1],
  ])("%s watches %s %s of this stack's %s", (id, namespace, metric, dimension, resource, threshold) => {
    const alarm = alarmNamed(id);
    expect(alarm).toMatchObject({
      Namespace: namespace,
      MetricName: metric,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(alarm.Dimensions).toHaveLength(1);
    expect(alarm.Dimensions![0]!.Name).toBe(dimension);
    expect(JSON.stringify(alarm.Dimensions![0]!.Value)).toContain(resource);
  });

  it("the retry queue's age alarm reads the oldest message (Maximum), an hour", () => {
    expect(alarmNamed('CrmRetryQueueOldestMessage')).toMatchObject({ Statistic: 'Maximum', Threshold: 3600 });
  });
});

describe('the no-traffic alarm (-c noTrafficHours=N)', () => {
  it('is off by default', () => {
    expect(alarms.map((a) => a.AlarmName)).not.toContain('TestWebhook-NoTraffic');
  });

  it.each([6, 48])('with %i hours: pages when EventsReceived stays below 1 for that long, missing data included', (hours) => {
    const t = templateOf({ noTrafficHours: hours });
    const alarm = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm'))
      .map((a) => a.Properties as unknown as AlarmProps)
      .find((a) => a.AlarmName === 'TestWebhook-NoTraffic')!;
    expect(alarm).toMatchObject({
      MetricName: MetricName.EventsReceived,
      Namespace: METRICS_NAMESPACE,
      Dimensions: [{ Name: SERVICE_DIMENSION, Value: SERVICE_NAME }],
      Statistic: 'Sum',
      Period: hours * 3600,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    const dims = Object.fromEntries(alarm.Dimensions!.map((d) => [d.Name, d.Value]));
    expect(emitted).toContain(identity(alarm.Namespace!, alarm.MetricName!, dims));
  });
});

describe('every alarm', () => {
  it("is one of the runbook's alarms and notifies the alarm topic on ALARM and OK", () => {
    const topic = Object.keys(resourcesOf(template, 'AWS::SNS::Topic'))[0]!;
    // NoTraffic needs -c noTrafficHours, the text-back alarms texting on (test/infra/text-back.test.ts).
    const optional: readonly AlarmId[] = ['NoTraffic', ...TEXT_BACK_ALARM_IDS];
    const expected = ALARM_IDS.filter((id) => !optional.includes(id));
    expect(alarms.map((a) => a.AlarmName).sort()).toEqual(expected.map((id) => `TestWebhook-${id}`).sort());
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topic }]);
      expect(alarm.OKActions).toEqual([{ Ref: topic }]);
    }
  });

  it.each(ALARM_IDS)('%s links to a runbook entry that exists in docs/runbook.md', (id: AlarmId) => {
    const runbookUrl = 'https://example.com/docs/runbook.md';
    const t =
      id === 'NoTraffic'
        ? templateOf({ noTrafficHours: 24, runbookUrl })
        : (TEXT_BACK_ALARM_IDS as readonly string[]).includes(id)
          ? templateOf({ ...TEXTING_ON, runbookUrl })
          : template;
    const alarm = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm'))
      .map((a) => a.Properties as unknown as AlarmProps)
      .find((a) => a.AlarmName === `TestWebhook-${id}`)!;
    const base = t === template ? 'docs/runbook.md' : runbookUrl;
    expect(alarm.AlarmDescription).toMatch(new RegExp(`Runbook: ${base.replace(/[.]/g, '\\.')}#${runbookAnchor(id)}$`));
    expect(runbookAnchors).toContain(runbookAnchor(id));
  });
});

const runbookAnchors = readFileSync(join(REPO_ROOT, 'docs/runbook.md'), 'utf8')
  .split('\n')
  .filter((line) => /^#{1,6} /.test(line))
  .map((line) => githubSlug(line.replace(/^#+ /, '')));

/** The dashboard's metric arrays: [namespace, name, dim, value, ..., options?] per graph line. */
function dashboardMetrics(): unknown[][] {
  const dashboard = Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard'))[0]!;
  const join = (dashboard.Properties!.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const body = JSON.parse(join.map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('')) as {
    widgets: { properties: { metrics?: unknown[][] } }[];
  };
  return body.widgets.flatMap((w) => w.properties.metrics ?? []);
}

describe('dashboard', () => {
  it('graphs only custom metrics the Lambda code emits, with their exact dimensions', () => {
    const custom = dashboardMetrics().filter((m) => m[0] === METRICS_NAMESPACE);
    expect(custom.length).toBeGreaterThanOrEqual(10);
    for (const metric of custom) {
      const [namespace, name, ...rest] = metric as [string, string, ...unknown[]];
      const pairs = rest.filter((x) => typeof x === 'string') as string[];
      const dims = Object.fromEntries(pairs.flatMap((_, i) => (i % 2 === 0 ? [[pairs[i], pairs[i + 1]]] : [])));
      expect(emitted, JSON.stringify(metric)).toContain(identity(namespace, name, dims));
    }
  });

  it('graphs EventsReceived for every EventType value the receiver can emit', () => {
    expect(EVENT_TYPE_VALUES).toEqual([...EVENT_TYPE_NAMES, eventTypeDimension('anything else')]);
    const graphed = dashboardMetrics()
      .filter((m) => m[0] === METRICS_NAMESPACE && m[1] === MetricName.EventsReceived)
      .map((m) => m[m.indexOf('EventType') + 1]);
    expect(graphed).toEqual(EVENT_TYPE_VALUES);
  });
});
