/**
 * `status` and, for calls that failed, `summary` (contract §5). First rule that applies:
 *   1. initiation failure — busy / no answer / an unanswered SIP outcome → no answer, else failed;
 *   2. the platform says the call failed (`status: "failed"` or a `metadata.error`) → no answer
 *      when the error is an unanswered SIP outcome (a rejected outbound call), else failed;
 *   3. voicemail  — termination reason, the voicemail_detection tool, or at least one greeting
 *                   and nothing else worded but greetings and screening prompts (voicemail
 *                   detection is off by default, so machines arrive as ordinary user turns);
 *   4. no answer  — duration 0, no worded user message other than screening prompts (`"..."`
 *                   is the platform's "silence"), or the termination reason says so;
 *   5. held.
 * `analysis.call_successful` is whether the agent reached its goal, never the call's status.
 */
import type { CrmStatus } from './crm-payload-schema';
import type { FailureData, TranscriptionData } from './events';
import { isRecord, readFirstText, readText } from './read-text';
import { failureSipCodes, isUnansweredError, isUnansweredSipCode } from './sip-outcome';
import type { ClassifySpeech } from './speech-phrases';

const VOICEMAIL = /voice\s*mail/i;
const NO_ANSWER = /no[\s_-]*answer/i;
const VOICEMAIL_TOOL_SUCCESS = 'voicemail_detection_success';
/** What the reason loses at its end before the one final period (contract §5). */
const TRAILING = /[\s.:;,]/;

/** The status of a call that failed, with the summary that replaces the analysis one. */
export interface FailedCall {
  status: CrmStatus;
  summary: string;
}

/**
 * contract §5 rule 1: an initiation failure, e.g. `"Call not connected: busy (SIP 486 Busy here)."`.
 * The SIP detail is the first code the provider's body gives, with its status text if any.
 */
export function failedInitiation(data: FailureData): FailedCall {
  const body = data.metadata?.body ?? undefined;
  const twilioStatus = data.metadata?.type === 'twilio' ? body?.CallStatus : undefined;
  const raw = trimReason(readText(data.failure_reason)) ?? trimReason(readText(twilioStatus)) ?? 'unknown';
  const reason = raw.toLowerCase().replace(/[\s_-]+/g, ' ');
  const codes = failureSipCodes(body);
  const unanswered = reason === 'busy' || reason === 'no answer' || codes.some(isUnansweredSipCode);
  const sipCode = readFirstText(body?.sip_status_code, body?.SipResponseCode) ?? codes[0];
  const sipText = readText(body?.sip_status);
  const detail = sipCode !== undefined ? ` (SIP ${[sipCode, sipText].filter(Boolean).join(' ')})` : '';
  return { status: unanswered ? 'no answer' : 'failed', summary: `Call not connected: ${reason}${detail}.` };
}

/**
 * contract §5 rule 2: the platform's own verdict, or undefined when it did not report a failure.
 * The reason is the error's `reason` or `message` (or the error itself when it is a string),
 * else the termination reason, else "unknown error"; a reason empty after trimming is absent.
 */
export function failedTranscription(data: TranscriptionData): FailedCall | undefined {
  const error = data.metadata?.error;
  if (data.status?.trim().toLowerCase() !== 'failed' && error == null) return undefined;
  const reason =
    (isRecord(error) ? (trimReason(readText(error.reason)) ?? trimReason(readText(error.message))) : trimReason(readText(error))) ??
    trimReason(readText(data.metadata?.termination_reason)) ??
    'unknown error';
  return isUnansweredError(error)
    ? { status: 'no answer', summary: `Call not connected: ${reason}.` }
    : { status: 'failed', summary: `Call failed: ${reason}.` };
}

/**
 * The reason without its trailing run of whitespace, `.`, `:`, `;` and `,` (so the summary ends
 * in exactly one period: `"LLM Cascade Error: "` → `"LLM Cascade Error"`); undefined when
 * nothing is left. A loop, not `/[\s.:;,]+$/`, whose backtracking is quadratic on a long run
 * of those characters followed by anything else.
 */
function trimReason(reason: string | undefined): string | undefined {
  if (reason === undefined) return undefined;
  let end = reason.length;
  while (end > 0 && TRAILING.test(reason.charAt(end - 1))) end -= 1;
  return end === 0 ? undefined : reason.slice(0, end);
}

/**
 * contract §5 rules 3–5 for a transcription the platform did not report as failed; `duration`
 * is the payload's (whole seconds), `classify` the greeting and screening-prompt matcher.
 */
export function transcriptionStatus(data: TranscriptionData, duration: number, classify: ClassifySpeech): CrmStatus {
  const termination = data.metadata?.termination_reason ?? '';
  if (VOICEMAIL.test(termination)) return 'voicemail';

  let userSpoke: boolean;
  if (Array.isArray(data.transcript)) {
    const heard = readTurns(data.transcript, classify);
    if (heard.voicemailTool || (heard.greeted && !heard.contactSpoke)) return 'voicemail';
    userSpoke = heard.greeted || heard.contactSpoke;
  } else {
    // No list of turns (absent, or another transcript format): `has_user_audio: false` is then
    // the only sign that the contact never spoke. Only then: it says whether the contact's audio
    // was *kept*, so a list of turns always wins over it.
    userSpoke = data.has_user_audio !== false;
  }
  if (duration === 0 || !userSpoke || NO_ANSWER.test(termination)) return 'no answer';
  return 'held';
}

interface HeardTurns {
  /** A tool result reports `voicemail_detection_success`. */
  voicemailTool: boolean;
  /** A user message is a greeting (and not a screening prompt). */
  greeted: boolean;
  /** A worded user message is neither a greeting nor a screening prompt: the contact's own words. */
  contactSpoke: boolean;
}

/**
 * One pass over the turns; items that are not turns are skipped. Each user message is
 * classified (normalised once) only until the contact's own words are heard: after that rules 3
 * and 4 are settled by the messages, and the rest of the pass looks for the voicemail tool only.
 */
function readTurns(turns: readonly unknown[], classify: ClassifySpeech): HeardTurns {
  const heard: HeardTurns = { voicemailTool: false, greeted: false, contactSpoke: false };
  for (const turn of turns) {
    if (!isRecord(turn)) continue;
    if (turnReportsVoicemail(turn)) {
      heard.voicemailTool = true;
      return heard;
    }
    if (heard.contactSpoke || turn.role !== 'user' || typeof turn.message !== 'string') continue;
    const kind = classify(turn.message);
    if (kind === 'greeting') heard.greeted = true;
    else if (kind === 'words') heard.contactSpoke = true;
  }
  return heard;
}

/**
 * The voicemail_detection system tool reports `result.result_type: "voicemail_detection_success"`
 * (ElevenLabs API, ConversationHistoryTranscriptSystemToolResultCommonModel); older transcripts
 * carry the same marker inside the `result_value` string.
 */
function turnReportsVoicemail(turn: Record<string, unknown>): boolean {
  if (!Array.isArray(turn.tool_results)) return false;
  return turn.tool_results.some((result: unknown) => {
    if (!isRecord(result)) return false;
    if (isRecord(result.result) && result.result.result_type === VOICEMAIL_TOOL_SUCCESS) return true;
    return typeof result.result_value === 'string' && result.result_value.includes(VOICEMAIL_TOOL_SUCCESS);
  });
}
