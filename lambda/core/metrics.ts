/**
 * Metric names, namespace and dimensions (contract §7), and every rule that decides which metric an
 * outcome moves: the receiver's (`requestMetrics`), the retry worker's (`retryMetrics`), the
 * audio worker's call check (`callCheckMetrics`), the reconciler's (`reconcileMetrics`) and the SMS
 * worker's (`smsMetrics`). The Lambda code emits with these and the CDK stack
 * builds its alarms from the same names, so the two cannot drift apart. Each rule is an
 * exhaustive switch over its typed outcome (core/outcome.ts).
 */
import type { AudioCheckOutcome } from './audio-check';
import type { CallCheckOutcome, RecordOutcome } from './call-check';
import { unreachable } from './outcome';
import type { RetryOutcome } from './process-retry';
import type { RequestFacts } from './request-facts';
import type { TextBackOutcome } from './text-back/send-text-back';
export const METRICS_NAMESPACE = 'ElevenLabsWebhook';

/** Every metric carries this dimension; `EventsReceived` is also split by `EventType`. */
export const SERVICE_DIMENSION = 'Service';
export const SERVICE_NAME = 'elevenlabs-webhook';
export const EVENT_TYPE_DIMENSION = 'EventType';

export const MetricName = {
  EventsReceived: 'EventsReceived',
  SignatureRejected: 'SignatureRejected',
  SignatureMismatchFromElevenLabs: 'SignatureMismatchFromElevenLabs',
  RequestRejected: 'RequestRejected',
  CrmForwardSucceeded: 'CrmForwardSucceeded',
  CrmForwardFailed: 'CrmForwardFailed',
  CrmForwardRetried: 'CrmForwardRetried',
  CrmForwardQueued: 'CrmForwardQueued',
  CrmForwardNotDurable: 'CrmForwardNotDurable',
  AudioStored: 'AudioStored',
  AudioBytes: 'AudioBytes',
  AudioStoreFailed: 'AudioStoreFailed',
  Deduplicated: 'Deduplicated',
  SecretUnavailable: 'SecretUnavailable',
  IdempotencyUnavailable: 'IdempotencyUnavailable',
  EventArchived: 'EventArchived',
  ArchiveFailed: 'ArchiveFailed',
  AudioCheckScheduled: 'AudioCheckScheduled',
  AudioCheckNotScheduled: 'AudioCheckNotScheduled',
  AudioAlreadyStored: 'AudioAlreadyStored',
  AudioRecovered: 'AudioRecovered',
  AudioRecoveredBytes: 'AudioRecoveredBytes',
  AudioMissing: 'AudioMissing',
  AudioUnavailable: 'AudioUnavailable',
  SmsSent: 'SmsSent',
  SmsSkipped: 'SmsSkipped',
  SmsOptedOut: 'SmsOptedOut',
  SmsFailed: 'SmsFailed',
  CallRecovered: 'CallRecovered',
  CallRecordMissing: 'CallRecordMissing',
  CallRecordUnavailable: 'CallRecordUnavailable',
  ConversationsListed: 'ConversationsListed',
  CallChecksScheduled: 'CallChecksScheduled',
  ReconcileFailed: 'ReconcileFailed',
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];

export const METRIC_UNITS: Record<MetricName, 'Count' | 'Bytes'> = {
  EventsReceived: 'Count',
  SignatureRejected: 'Count',
  SignatureMismatchFromElevenLabs: 'Count',
  RequestRejected: 'Count',
  CrmForwardSucceeded: 'Count',
  CrmForwardFailed: 'Count',
  CrmForwardRetried: 'Count',
  CrmForwardQueued: 'Count',
  CrmForwardNotDurable: 'Count',
  AudioStored: 'Count',
  AudioBytes: 'Bytes',
  AudioStoreFailed: 'Count',
  Deduplicated: 'Count',
  SecretUnavailable: 'Count',
  IdempotencyUnavailable: 'Count',
  EventArchived: 'Count',
  ArchiveFailed: 'Count',
  AudioCheckScheduled: 'Count',
  AudioCheckNotScheduled: 'Count',
  AudioAlreadyStored: 'Count',
  AudioRecovered: 'Count',
  AudioRecoveredBytes: 'Bytes',
  AudioMissing: 'Count',
  AudioUnavailable: 'Count',
  SmsSent: 'Count',
  SmsSkipped: 'Count',
  SmsOptedOut: 'Count',
  SmsFailed: 'Count',
  CallRecovered: 'Count',
  CallRecordMissing: 'Count',
  CallRecordUnavailable: 'Count',
  ConversationsListed: 'Count',
  CallChecksScheduled: 'Count',
  ReconcileFailed: 'Count',
};

export type MetricValues = Partial<Record<MetricName, number>>;

function counter() {
  const values: MetricValues = {};
  const add = (name: MetricName, value = 1) => {
    values[name] = (values[name] ?? 0) + value;
  };
  return { values, add };
}

/** The receiver: which metrics one request moves (its log line carries them as EMF). */
export function requestMetrics(facts: RequestFacts): MetricValues {
  const { values, add } = counter();
  // `type` is set once the event parsed, so refused and unreadable requests are not events.
  if (facts.type !== undefined) add(MetricName.EventsReceived);
  if (facts.crmAttempts !== undefined && facts.crmAttempts > 1) add(MetricName.CrmForwardRetried, facts.crmAttempts - 1);
  if (facts.idempotencyError !== undefined) add(MetricName.IdempotencyUnavailable);
  if (facts.archive === 'archived') add(MetricName.EventArchived);
  // A withdrawal that failed leaves the ledger saying "delivered" for an event that was not: as bad as no archive.
  if (facts.archive === 'failed' || facts.archive === 'withdraw_failed') add(MetricName.ArchiveFailed);
  if (facts.audioCheck === 'scheduled') add(MetricName.AudioCheckScheduled);
  if (facts.audioCheck === 'not_scheduled') add(MetricName.AudioCheckNotScheduled);
  // A text-back the SMS queue refused will never be sent (contract §13).
  if (facts.textBack === 'not_queued') add(MetricName.SmsFailed);
  switch (facts.outcome) {
    case 'signature_rejected':
      add(MetricName.SignatureRejected);
      if (facts.mismatchFromElevenLabs) add(MetricName.SignatureMismatchFromElevenLabs);
      break;
    // The caller's faults other than authentication (contract §7): 400, 403, 413. A 400 comes after
    // a valid signature, so it is an ElevenLabs event we could not read: a call record at risk.
    case 'invalid_json':
    case 'invalid_event':
    case 'invalid_audio':
    case 'source_not_allowed':
    case 'payload_too_large':
      add(MetricName.RequestRejected);
      break;
    case 'forwarded':
      add(MetricName.CrmForwardSucceeded);
      break;
    case 'queued':
      add(MetricName.CrmForwardFailed);
      add(MetricName.CrmForwardQueued);
      break;
    case 'forward_not_durable':
      add(MetricName.CrmForwardFailed);
      add(MetricName.CrmForwardNotDurable);
      break;
    case 'audio_stored':
      add(MetricName.AudioStored);
      add(MetricName.AudioBytes, facts.audioBytes ?? 0);
      break;
    case 'audio_store_failed':
      add(MetricName.AudioStoreFailed);
      break;
    case 'deduplicated':
      add(MetricName.Deduplicated);
      break;
    case 'secret_unavailable':
      add(MetricName.SecretUnavailable);
      break;
    // Visible in the log line and in Lambda's own Errors/5xx alarms; no metric of their own.
    case 'skipped':
    case 'duplicate_in_progress':
    case 'misconfigured':
    case 'internal_error':
      break;
    default:
      unreachable(facts.outcome);
  }
  return values;
}

/** The retry worker: a delivered payload, or a failed attempt at one (contract §5). */
export function retryMetrics({ verdict, facts }: RetryOutcome): MetricValues {
  const { values, add } = counter();
  if (facts.crmAttempts !== undefined && facts.crmAttempts > 1) add(MetricName.CrmForwardRetried, facts.crmAttempts - 1);
  if (facts.idempotencyError !== undefined) add(MetricName.IdempotencyUnavailable);
  switch (verdict) {
    case 'delivered':
      add(MetricName.CrmForwardSucceeded);
      break;
    case 'deduplicated':
      add(MetricName.Deduplicated);
      break;
    case 'retry':
    case 'dead_letter':
      // An unreadable message never reached the CRM: nothing failed there.
      if (facts.crmAttempts !== undefined) add(MetricName.CrmForwardFailed);
      break;
    default:
      unreachable(verdict);
  }
  return values;
}

/** The audio worker: what one call check found and did (contract §10, §12). */
export function callCheckMetrics({ record, recording, idempotencyError }: CallCheckOutcome): MetricValues {
  const values: MetricValues = { ...(record ? recordMetrics(record) : {}), ...(recording ? audioCheckMetrics(recording) : {}) };
  if (idempotencyError !== undefined) values[MetricName.IdempotencyUnavailable] = 1;
  return values;
}

/** The record half (contract §12), with the forward's and the archive's own metrics, as the receiver counts them. */
function recordMetrics(outcome: RecordOutcome): MetricValues {
  const { values, add } = counter();
  switch (outcome.kind) {
    case 'recovered':
      add(MetricName.CallRecovered);
      if (outcome.attempts > 1) add(MetricName.CrmForwardRetried, outcome.attempts - 1);
      if (outcome.delivery === 'forwarded') add(MetricName.CrmForwardSucceeded);
      else {
        add(MetricName.CrmForwardFailed);
        add(MetricName.CrmForwardQueued);
      }
      add(outcome.archive === 'archived' ? MetricName.EventArchived : MetricName.ArchiveFailed);
      if (outcome.textBack === 'not_queued') add(MetricName.SmsFailed);
      break;
    case 'missing':
      add(MetricName.CallRecordMissing);
      break;
    case 'unavailable':
      add(MetricName.CallRecordUnavailable);
      break;
    case 'retry':
      // The CRM failed and the retry queue refused: the record is not durable (alarmed), and the check comes back.
      if (outcome.notDurable) {
        add(MetricName.CrmForwardFailed);
        add(MetricName.CrmForwardNotDurable);
      }
      break;
    // Nothing to count: present, a webhook delivers it, or the call has not ended yet.
    case 'present':
    case 'delivered_by_webhook':
    case 'not_ended':
      break;
    default:
      unreachable(outcome);
  }
  return values;
}

/** The reconciler's run (contract §12): how many conversations it listed and how many checks it sent, or that it failed. */
export function reconcileMetrics(run: { listed: number; scheduled: number; failed: boolean }): MetricValues {
  return {
    [MetricName.ConversationsListed]: run.listed,
    [MetricName.CallChecksScheduled]: run.scheduled,
    ...(run.failed ? { [MetricName.ReconcileFailed]: 1 } : {}),
  };
}

/** The recording half: what one audio check found (contract §10). A retry moves none: SQS brings it back, its DLQ is alarmed. */
function audioCheckMetrics(outcome: AudioCheckOutcome): MetricValues {
  switch (outcome.kind) {
    case 'already_stored':
      return { [MetricName.AudioAlreadyStored]: 1 };
    case 'recovered':
      return { [MetricName.AudioRecovered]: 1, [MetricName.AudioRecoveredBytes]: outcome.bytes };
    case 'unavailable':
      return { [MetricName.AudioUnavailable]: 1 };
    case 'missing':
      return { [MetricName.AudioMissing]: 1 };
    case 'retry':
      return {};
    default:
      return unreachable(outcome);
  }
}

/**
 * The SMS worker: what became of one text-back (contract §13). A deferral (quiet hours) or a
 * retry moves none: the message comes back, and its dead-letter queue is alarmed.
 */
export function smsMetrics(outcome: TextBackOutcome): MetricValues {
  switch (outcome.kind) {
    case 'sent':
      return { [MetricName.SmsSent]: 1 };
    case 'skipped':
      return { [MetricName.SmsSkipped]: 1 };
    case 'opted_out':
      return { [MetricName.SmsOptedOut]: 1 };
    case 'failed':
      return { [MetricName.SmsFailed]: 1 };
    case 'deferred':
    case 'retry':
      return {};
    default:
      return unreachable(outcome);
  }
}
