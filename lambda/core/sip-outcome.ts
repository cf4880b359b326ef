/**
 * Unanswered SIP outcomes (contract §5 status rules 1 and 2): a SIP final response saying that
 * nobody picked up, as opposed to a fault. Real rejected outbound calls arrive as failed
 * transcriptions with `metadata.error = {"code": 603, "reason": "SIP status: 603. Network
 * Blocked"}`; initiation failures carry the SIP body's `sip_status_code` or Twilio's
 * `SipResponseCode`.
 */
import { isRecord, readText } from './read-text';

/**
 * RFC 3261 §21: 408 Request Timeout, 480 Temporarily Unavailable, 486 Busy Here, 487 Request
 * Terminated (cancelled), 600 Busy Everywhere, 603 Decline.
 */
const UNANSWERED_SIP_CODES: ReadonlySet<number> = new Set([408, 480, 486, 487, 600, 603]);

const SIP_CODE = /^\d{3}$/;
/**
 * `SIP status: 603`, `sip status: 486:`, `SIP 486`, `SIP: 480` in free text. Written so that no
 * two quantifiers compete for the same characters: the scan stays linear in the text's length
 * even for a reason of megabytes.
 */
const SIP_CODE_IN_TEXT = /\bsip(?:\s+status)?(?::\s*|\s+)(\d{3})(?!\d)/gi;

/** A SIP status code as a number, from a JSON number or a numeric string (`"487"`); else undefined. */
function readSipCode(value: unknown): number | undefined {
  const text = readText(value);
  return text !== undefined && SIP_CODE.test(text) ? Number(text) : undefined;
}

/** The SIP codes named in an error text, in order. */
function sipCodesInText(value: unknown): number[] {
  const text = readText(value);
  if (text === undefined) return [];
  return Array.from(text.matchAll(SIP_CODE_IN_TEXT), (match) => Number(match[1]));
}

export function isUnansweredSipCode(code: number | undefined): boolean {
  return code !== undefined && UNANSWERED_SIP_CODES.has(code);
}

/**
 * The SIP codes an initiation failure's provider body reports, most specific first: the SIP
 * body's `sip_status_code`, Twilio's `SipResponseCode`, then any `SIP <n>` in `error_reason`.
 */
export function failureSipCodes(body: Record<string, unknown> | undefined): number[] {
  if (body === undefined) return [];
  const codes = [readSipCode(body.sip_status_code), readSipCode(body.SipResponseCode)].filter((code) => code !== undefined);
  return [...codes, ...sipCodesInText(body.error_reason)];
}

/**
 * Whether a failed transcription's `metadata.error` is an unanswered SIP outcome: its `code`, or
 * `SIP <n>` in its `reason` or `message` (or in the error itself when it is a string).
 */
export function isUnansweredError(error: unknown): boolean {
  if (!isRecord(error)) return sipCodesInText(error).some(isUnansweredSipCode);
  if (isUnansweredSipCode(readSipCode(error.code))) return true;
  return [...sipCodesInText(error.reason), ...sipCodesInText(error.message)].some(isUnansweredSipCode);
}
