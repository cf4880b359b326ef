/**
 * Every outcome of a request, in one table: its HTTP status, its log level and the metrics it
 * moves (contract §2 "Status codes", §7). The response, the log line and the metrics are derived
 * from the outcome by core/outcome.ts and core/metrics.ts; this table pins the whole mapping.
 */
import { describe, expect, it } from 'vitest';
import {
  AudioStoreError,
  ConfigurationError,
  DuplicateInProgressError,
  ForwardNotDurableError,
  InvalidAudioError,
  InvalidEventError,
  InvalidJsonError,
  PayloadTooLargeError,
  SecretUnavailableError,
  SignatureError,
  SourceNotAllowedError,
  toErrorResponse,
  type WebhookError,
} from '../../lambda/core/errors';
import { requestMetrics } from '../../lambda/core/metrics';
import { levelOf, OUTCOME_KINDS, type OutcomeKind, statusOf } from '../../lambda/core/outcome';

/**
 * The whole mapping, one row per kind. A `Record` over the union: a new outcome kind does not
 * compile until it has its row here (and its cases in core/outcome.ts and core/metrics.ts).
 */
const TABLE: Record<OutcomeKind, [status: number, level: string, metrics: string[]]> = {
  forwarded: [200, 'info', ['CrmForwardSucceeded']],
  queued: [200, 'info', ['CrmForwardFailed', 'CrmForwardQueued']],
  audio_stored: [200, 'info', ['AudioStored', 'AudioBytes']],
  deduplicated: [200, 'info', ['Deduplicated']],
  skipped: [200, 'info', []],
  invalid_json: [400, 'warn', ['RequestRejected']],
  invalid_event: [400, 'warn', ['RequestRejected']],
  invalid_audio: [400, 'warn', ['RequestRejected']],
  signature_rejected: [401, 'warn', ['SignatureRejected']],
  source_not_allowed: [403, 'warn', ['RequestRejected']],
  payload_too_large: [413, 'warn', ['RequestRejected']],
  duplicate_in_progress: [429, 'warn', []],
  secret_unavailable: [500, 'error', ['SecretUnavailable']],
  audio_store_failed: [500, 'error', ['AudioStoreFailed']],
  forward_not_durable: [500, 'error', ['CrmForwardFailed', 'CrmForwardNotDurable']],
  misconfigured: [500, 'error', []],
  internal_error: [500, 'error', []],
};

describe('outcome → status → level → metrics', () => {
  it.each(Object.entries(TABLE) as [OutcomeKind, [number, string, string[]]][])('%s → %j', (kind, [status, level, metrics]) => {
    expect(statusOf(kind)).toBe(status);
    expect(levelOf(kind)).toBe(level);
    expect(Object.keys(requestMetrics({ outcome: kind })).sort()).toEqual([...metrics].sort());
  });

  it('OUTCOME_KINDS lists exactly the kinds of the union', () => {
    expect(Object.keys(TABLE).sort()).toEqual([...OUTCOME_KINDS].sort());
    expect(new Set(OUTCOME_KINDS).size).toBe(OUTCOME_KINDS.length);
  });

  it('adds the facts-driven metrics to any outcome: event count, retries, idempotency, archive, audio check', () => {
    expect(
      requestMetrics({
        outcome: 'forwarded',
        type: 'post_call_transcription',
        crmAttempts: 3,
        idempotencyError: 'x',
        archive: 'failed',
        audioCheck: 'not_scheduled',
      }),
    ).toEqual({
      EventsReceived: 1,
      CrmForwardRetried: 2,
      IdempotencyUnavailable: 1,
      ArchiveFailed: 1,
      AudioCheckNotScheduled: 1,
      CrmForwardSucceeded: 1,
    });
    expect(requestMetrics({ outcome: 'signature_rejected', mismatchFromElevenLabs: true })).toEqual({
      SignatureRejected: 1,
      SignatureMismatchFromElevenLabs: 1,
    });
  });
});

describe('each error type ends a request with its kind', () => {
  it.each<[string, WebhookError, OutcomeKind, string]>([
    ['SignatureError', new SignatureError('signature mismatch'), 'signature_rejected', 'signature mismatch'],
    ['SourceNotAllowedError', new SourceNotAllowedError(), 'source_not_allowed', 'source not allowed'],
    ['InvalidJsonError', new InvalidJsonError(), 'invalid_json', 'invalid JSON'],
    [
      'InvalidEventError',
      new InvalidEventError('data.conversation_id: required'),
      'invalid_event',
      'invalid event: data.conversation_id: required',
    ],
    ['InvalidAudioError', new InvalidAudioError('empty'), 'invalid_audio', 'invalid audio'],
    ['PayloadTooLargeError', new PayloadTooLargeError(), 'payload_too_large', 'payload too large'],
    ['DuplicateInProgressError', new DuplicateInProgressError(), 'duplicate_in_progress', 'duplicate delivery in progress'],
    ['SecretUnavailableError', new SecretUnavailableError('stalled'), 'secret_unavailable', 'webhook secret unavailable'],
    ['AudioStoreError', new AudioStoreError('S3 down'), 'audio_store_failed', 'audio could not be stored'],
    ['ForwardNotDurableError', new ForwardNotDurableError('queue down'), 'forward_not_durable', 'event could not be forwarded or queued'],
    ['ConfigurationError', new ConfigurationError('CRM_WEBHOOK_URL is required'), 'misconfigured', 'receiver misconfigured'],
  ])('%s → %s → {"error": %j}', (_name, error, kind, message) => {
    expect(error.kind).toBe(kind);
    const response = toErrorResponse(error);
    expect(response.statusCode).toBe(statusOf(kind));
    expect(response.body).toEqual({ error: message });
  });

  it('an unknown throwable is an internal error: 500, no detail', () => {
    expect(toErrorResponse(new TypeError('x is undefined'))).toEqual({ statusCode: 500, body: { error: 'internal error' } });
  });

  it('only the in-flight duplicate carries a header: Retry-After', () => {
    expect(toErrorResponse(new DuplicateInProgressError()).headers).toEqual({ 'retry-after': '30' });
    expect(toErrorResponse(new InvalidJsonError()).headers).toBeUndefined();
  });
});
