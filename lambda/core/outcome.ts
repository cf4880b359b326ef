/**
 * Every way a webhook request can end, as one typed union (contract §2 "Status codes"). The pipeline
 * records exactly one of these per request; the HTTP status, the log level and the metrics
 * (core/metrics.ts) are all derived from it with exhaustive switches, so a new kind that is not
 * mapped everywhere does not compile, and a renamed kind cannot leave an alarm quietly unfed.
 */

/** Handled, queued for retry, deduplicated or deliberately ignored: 200. */
export type SuccessKind = 'forwarded' | 'queued' | 'audio_stored' | 'deduplicated' | 'skipped';

/** The caller's faults, an in-flight duplicate, and the failures that make an event not durable. */
export type ErrorKind =
  | 'signature_rejected'
  | 'source_not_allowed'
  | 'invalid_json'
  | 'invalid_event'
  | 'invalid_audio'
  | 'payload_too_large'
  | 'duplicate_in_progress'
  | 'secret_unavailable'
  | 'audio_store_failed'
  | 'forward_not_durable'
  | 'misconfigured'
  | 'internal_error';

export type OutcomeKind = SuccessKind | ErrorKind;

/** Every kind, for tests and documentation (the type above is the source of truth). */
export const OUTCOME_KINDS = [
  'forwarded',
  'queued',
  'audio_stored',
  'deduplicated',
  'skipped',
  'signature_rejected',
  'source_not_allowed',
  'invalid_json',
  'invalid_event',
  'invalid_audio',
  'payload_too_large',
  'duplicate_in_progress',
  'secret_unavailable',
  'audio_store_failed',
  'forward_not_durable',
  'misconfigured',
  'internal_error',
] as const satisfies readonly OutcomeKind[];

/**
 * The HTTP status of each outcome. 5xx only where the event could not be made durable (or the
 * receiver cannot work at all): the only answers after which an ElevenLabs retry can help.
 */
export function statusOf(kind: OutcomeKind): number {
  switch (kind) {
    case 'forwarded':
    case 'queued':
    case 'audio_stored':
    case 'deduplicated':
    case 'skipped':
      return 200;
    case 'invalid_json':
    case 'invalid_event':
    case 'invalid_audio':
      return 400;
    case 'signature_rejected':
      return 401;
    case 'source_not_allowed':
      return 403;
    case 'payload_too_large':
      return 413;
    case 'duplicate_in_progress':
      // ElevenLabs retries 429, and ends its retries on 409 and every other 4xx (contract §1).
      return 429;
    case 'secret_unavailable':
    case 'audio_store_failed':
    case 'forward_not_durable':
    case 'misconfigured':
    case 'internal_error':
      return 500;
    default:
      return unreachable(kind);
  }
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The request log line's level: errors for 5xx, warnings for what the caller got wrong. */
export function levelOf(kind: OutcomeKind): LogLevel {
  const status = statusOf(kind);
  return status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
}

/** For the `default` of an exhaustive switch: compiles only when every case is handled. */
export function unreachable(value: never): never {
  throw new Error(`unhandled case: ${String(value)}`);
}
