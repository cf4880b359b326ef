/**
 * How a failed SendTextMessage is treated (contract §13), from the facts of the error the SDK
 * threw (AWS End User Messaging SMS and Voice v2 API reference, SendTextMessage "Errors"):
 * - `ConflictException` with Reason `DESTINATION_PHONE_NUMBER_OPTED_OUT`: the recipient opted
 *   out (replied STOP): nothing to retry, nothing to alarm on.
 * - throttling (`ThrottlingException`, HTTP 429), server faults (5xx, `InternalServerException`)
 *   and anything that never got an HTTP answer (a network error, a timeout, an abort): may pass,
 *   so the text comes back with backoff.
 * - every other answer (`ValidationException`, `AccessDeniedException`, `ResourceNotFoundException`,
 *   `ServiceQuotaExceededException` such as a spending limit, another `ConflictException`): will
 *   not change by itself; the text goes to the dead-letter queue, which is alarmed.
 */

const OPTED_OUT_REASON = 'DESTINATION_PHONE_NUMBER_OPTED_OUT';

export interface SmsErrorFacts {
  /** The error's name (`ThrottlingException`, `TimeoutError`, …). */
  name: string;
  /** The HTTP status of the answer, when there was one. */
  httpStatus?: number;
  /** The modelled `Reason` field, when the error has one. */
  reason?: string;
  /** The SDK marks throttling errors (`$retryable.throttling`). */
  throttling?: boolean;
}

export type SmsErrorKind = 'opted_out' | 'refused' | 'unavailable';

export function classifySmsError({ name, httpStatus, reason, throttling }: SmsErrorFacts): SmsErrorKind {
  if (name === 'ConflictException' && reason === OPTED_OUT_REASON) return 'opted_out';
  if (throttling || name === 'ThrottlingException' || httpStatus === 429) return 'unavailable';
  if (httpStatus === undefined || httpStatus >= 500) return 'unavailable';
  return 'refused';
}

/** A log-safe description: name, reason and status only (an API message may repeat the number). */
export function describeSmsError({ name, httpStatus, reason }: SmsErrorFacts): string {
  const detail = [reason, httpStatus === undefined ? undefined : `HTTP ${httpStatus}`].filter(Boolean).join(', ');
  return detail ? `${name} (${detail})` : name;
}
