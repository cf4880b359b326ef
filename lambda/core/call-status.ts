/**
 * `status` of a call that reached the platform (contract §5 rules 2–5; rule 1, initiation
 * failures, is in crm-payload.ts). First rule that applies:
 *   2. failed     — the platform says so: `status: "failed"` or a `metadata.error`;
 *   3. voicemail  — termination reason, the voicemail_detection tool, or every worded thing the
 *                   "contact" said was an answering machine's or carrier's greeting (voicemail
 *                   detection is off by default, so machines arrive as ordinary user turns);
 *   4. no answer  — duration 0, nobody said a word (`"..."` is the platform's "silence"), or
 *                   the termination reason says so;
 *   5. held.
 * `analysis.call_successful` is whether the agent reached its goal, never the call's status.
 */
import type { CrmStatus } from './crm-payload-schema';
import type { TranscriptionData } from './events';
import { isRecord, readText } from './read-text';

const VOICEMAIL = /voice\s*mail/i;
const NO_ANSWER = /no[\s_-]*answer/i;
const VOICEMAIL_TOOL_SUCCESS = 'voicemail_detection_success';
/** A word: at least one Unicode letter or digit. Punctuation, `"..."` and whitespace are not. */
const WORD = /[\p{L}\p{N}]/u;
/**
 * What answering machines and carriers say (contract §5 rule 3), as speech-to-text writes it:
 * any case, any run of spaces, straight or curly apostrophes, British and American spellings.
 */
const GREETING = new RegExp(
  [
    'leave\\s+(?:a|your)\\s+message',
    'after\\s+the\\s+(?:tone|beep)',
    'record\\s+your\\s+message',
    'is\\s+not\\s+available',
    "isn['’]t\\s+available",
    "(?:can['’]t|cannot|unable\\s+to)\\s+take\\s+your\\s+call",
    'mailbox',
    'voice[\\s-]*mail',
    'automated\\s+voice\\s+messaging',
    'the\\s+person\\s+you\\s+are\\s+calling',
    'the\\s+number\\s+you\\s+have\\s+dial(?:l)?ed',
  ].join('|'),
  'i',
);

/** contract §5 rules 2–5 for a transcription; `duration` is the payload's (whole seconds). */
export function transcriptionStatus(data: TranscriptionData, duration: number): CrmStatus {
  if (hasFailed(data)) return 'failed';
  const termination = data.metadata?.termination_reason ?? '';
  if (VOICEMAIL.test(termination)) return 'voicemail';

  let userSpoke: boolean;
  if (Array.isArray(data.transcript)) {
    const heard = readTurns(data.transcript);
    if (heard.voicemailTool || (heard.userSpoke && heard.onlyGreetings)) return 'voicemail';
    userSpoke = heard.userSpoke;
  } else {
    // No list of turns (absent, or another transcript format): `has_user_audio: false` is then
    // the only sign that the contact never spoke. Only then: it says whether the contact's audio
    // was *kept*, so a list of turns always wins over it.
    userSpoke = data.has_user_audio !== false;
  }
  if (duration === 0 || !userSpoke || NO_ANSWER.test(termination)) return 'no answer';
  return 'held';
}

/** contract §5 rule 2: the platform's own verdict. */
export function hasFailed(data: TranscriptionData): boolean {
  return data.status?.trim().toLowerCase() === 'failed' || data.metadata?.error != null;
}

/**
 * `"Call failed: <reason>."` with one final period: the error's `reason` or `message` (or the
 * error itself when it is a string), else the termination reason, else "unknown error".
 */
export function failedCallSummary(data: TranscriptionData): string {
  const error = data.metadata?.error;
  const reason =
    (isRecord(error) ? (readText(error.reason) ?? readText(error.message)) : readText(error)) ??
    readText(data.metadata?.termination_reason) ??
    'unknown error';
  return `Call failed: ${reason.replace(/[.\s]+$/, '') || 'unknown error'}.`;
}

interface HeardTurns {
  /** A tool result reports `voicemail_detection_success`. */
  voicemailTool: boolean;
  /** At least one user message has a word in it. */
  userSpoke: boolean;
  /** Every user message with a word in it is a greeting (vacuously true when there is none). */
  onlyGreetings: boolean;
}

/**
 * One pass over the turns; items that are not turns are skipped. Messages are read only until
 * the first worded user message that is not a greeting, so a long call costs a few regex tests;
 * the rest of the pass looks for the voicemail tool only.
 */
function readTurns(turns: readonly unknown[]): HeardTurns {
  const heard: HeardTurns = { voicemailTool: false, userSpoke: false, onlyGreetings: true };
  for (const turn of turns) {
    if (!isRecord(turn)) continue;
    if (turnReportsVoicemail(turn)) {
      heard.voicemailTool = true;
      return heard;
    }
    // Once the contact said something that is not a greeting, messages have nothing left to tell.
    if (!heard.onlyGreetings || turn.role !== 'user' || typeof turn.message !== 'string' || !WORD.test(turn.message)) continue;
    heard.userSpoke = true;
    if (!GREETING.test(turn.message)) heard.onlyGreetings = false;
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
