/**
 * What happened to one request, collected by the pipeline and turned into the one log
 * line and the metrics of SPEC §7. Holds no personal data: the contact number is masked
 * before it gets here.
 */
import type { CrmStatus } from './crm-payload-schema';
import { EVENT_TYPES } from './events';
import { MetricName, type MetricValues } from './metrics';

export interface RequestFacts {
  /** `forwarded`, `queued`, `audio_stored`, `deduplicated`, `skipped`, or an error kind. */
  outcome: string;
  type?: string;
  conversationId?: string;
  agentId?: string;
  authenticatedBy?: 'hmac' | 'bearer';
  crmStatus?: CrmStatus;
  /** The contact number, masked (SPEC §7). */
  crmTo?: string;
  crmAttempts?: number;
  audioKey?: string;
  audioBytes?: number;
  skipReason?: string;
  /** Set when deduplication was wanted but its table could not be reached. */
  idempotencyError?: string;
  /** A signature mismatch from one of ElevenLabs' published egress IPs (SPEC §3). */
  mismatchFromElevenLabs?: boolean;
  /** Why the secret cache could not be refreshed while the last verified secret is in use. */
  secretStale?: string;
  /** SPEC §10: the event archive and the audio check, and why one failed or was skipped. */
  archive?: 'archived' | 'failed' | 'skipped';
  archiveError?: string;
  audioCheck?: 'scheduled' | 'not_scheduled' | 'skipped';
  audioCheckError?: string;
  /** Log-safe description of the failure, when there was one. */
  error?: string;
}

/** Which metric the outcome of a request moves (SPEC §7). */
export function metricValuesFor(facts: RequestFacts): MetricValues {
  const values: MetricValues = {};
  const add = (name: MetricName, value = 1) => {
    values[name] = (values[name] ?? 0) + value;
  };
  // `type` is set once the event parsed, so refused and unreadable requests are not events.
  if (facts.type !== undefined) add(MetricName.EventsReceived);
  if (facts.crmAttempts !== undefined && facts.crmAttempts > 1) add(MetricName.CrmForwardRetried, facts.crmAttempts - 1);
  if (facts.idempotencyError !== undefined) add(MetricName.IdempotencyUnavailable);
  if (facts.archive === 'archived') add(MetricName.EventArchived);
  if (facts.archive === 'failed') add(MetricName.ArchiveFailed);
  if (facts.audioCheck === 'scheduled') add(MetricName.AudioCheckScheduled);
  if (facts.audioCheck === 'not_scheduled') add(MetricName.AudioCheckNotScheduled);
  switch (facts.outcome) {
    case 'signature_rejected':
      add(MetricName.SignatureRejected);
      if (facts.mismatchFromElevenLabs) add(MetricName.SignatureMismatchFromElevenLabs);
      break;
    // The caller's faults other than authentication (SPEC §7): 400, 403, 413. A 400 comes after
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
  }
  return values;
}

/** The `EventType` dimension value: a known type, or `other` so a sender cannot mint dimensions. */
export function eventTypeDimension(type: string | undefined): string {
  return type !== undefined && (EVENT_TYPES as readonly string[]).includes(type) ? type : 'other';
}
