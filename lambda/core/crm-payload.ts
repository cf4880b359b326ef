/**
 * Event → CRM payload (SPEC §5; seeds/crm-integration.md, "CRM Payload Format").
 * Every rule is an ordered list of candidates: the first usable one wins. Each rule has one
 * table test in test/unit/crm-payload.test.ts.
 */
import type { FailureData, FailureEvent, TranscriptionData, TranscriptionEvent } from './events';
import { NumberLikeSchema } from './events';

export const CRM_STATUSES = ['held', 'no answer', 'voicemail', 'failed'] as const;
export type CrmStatus = (typeof CRM_STATUSES)[number];

/** Exactly the CRM's contract: these seven fields, nothing else. */
export interface CrmPayload {
  type: 'conversationAICall';
  subject: string;
  to: string;
  name: string;
  summary: string;
  status: CrmStatus;
  duration: number;
}

export interface CrmMappingConfig {
  defaultSubject: string;
  subjectsByAgent: Readonly<Record<string, string>>;
}

export const UNKNOWN = 'Unknown';
export const NO_SUMMARY = 'No summary available.';

type Variables = Record<string, unknown>;
type CrmSourceEvent = TranscriptionEvent | FailureEvent;

export function toCrmPayload(event: CrmSourceEvent, config: CrmMappingConfig): CrmPayload {
  const common = {
    type: 'conversationAICall',
    subject: callSubject(event, config),
    to: contactNumber(event),
    name: contactName(event),
  } as const;
  if (event.type === 'call_initiation_failure') {
    return { ...common, summary: failureSummary(event.data), status: failureStatus(event.data), duration: 0 };
  }
  const duration = callDuration(event.data);
  return {
    ...common,
    summary: text(event.data.analysis?.transcript_summary) ?? NO_SUMMARY,
    status: transcriptionStatus(event.data, duration),
    duration,
  };
}

/** A non-empty trimmed string; finite numbers count too (dynamic variables may be numbers). */
function text(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function firstText(...values: unknown[]): string | undefined {
  for (const value of values) {
    const found = text(value);
    if (found !== undefined) return found;
  }
  return undefined;
}

function variablesOf(data: TranscriptionData | FailureData): Variables {
  return data.conversation_initiation_client_data?.dynamic_variables ?? {};
}

function twilioBody(data: FailureData): Variables | undefined {
  return data.metadata?.type === 'twilio' ? (data.metadata.body ?? undefined) : undefined;
}

/**
 * `to`: the contact's number. On an outbound call the contact was called
 * (`system__called_number`); on an inbound call the contact called us (`system__caller_id`).
 * Initiation failures are always outbound. With no direction known we try the caller id
 * first: calls without phone metadata are the inbound kind.
 */
export function contactNumber(event: CrmSourceEvent): string {
  const vars = variablesOf(event.data);
  if (event.type === 'call_initiation_failure') {
    const twilio = twilioBody(event.data);
    return firstText(vars.system__called_number, twilio?.To, twilio?.Called) ?? UNKNOWN;
  }
  const phoneCall = event.data.metadata?.phone_call;
  const direction = phoneCall?.direction?.toLowerCase();
  const fromVariables =
    direction === 'outbound'
      ? text(vars.system__called_number)
      : direction === 'inbound'
        ? text(vars.system__caller_id)
        : firstText(vars.system__caller_id, vars.system__called_number);
  return firstText(phoneCall?.external_number, fromVariables) ?? UNKNOWN;
}

export function contactName(event: CrmSourceEvent): string {
  const vars = variablesOf(event.data);
  const fullName = [text(vars.first_name), text(vars.last_name)].filter(Boolean).join(' ');
  const collected = event.type === 'post_call_transcription' ? (event.data.analysis?.data_collection_results ?? {}) : {};
  return (
    firstText(
      vars.name,
      vars.user_name,
      vars.contact_name,
      vars.customer_name,
      fullName,
      collectedValue(collected.name),
      collectedValue(collected.contact_name),
    ) ?? UNKNOWN
  );
}

/** A data-collection result is `{data_collection_id, value, rationale}`; we want its value. */
function collectedValue(result: unknown): unknown {
  return typeof result === 'object' && result !== null ? (result as { value?: unknown }).value : undefined;
}

export function callSubject(event: CrmSourceEvent, config: CrmMappingConfig): string {
  const vars = variablesOf(event.data);
  const agentId = event.data.agent_id;
  const mapped =
    agentId != null && Object.hasOwn(config.subjectsByAgent, agentId) ? config.subjectsByAgent[agentId] : undefined;
  const agentName = event.type === 'post_call_transcription' ? event.data.agent_name : undefined;
  return firstText(vars.subject, vars.campaign_name, vars.campaign, mapped, agentName, vars.agent_name) ?? config.defaultSubject;
}

/** Integer seconds: metadata, then the older top-level field, then the system variable. */
export function callDuration(data: TranscriptionData): number {
  const candidates: unknown[] = [
    data.metadata?.call_duration_secs,
    data.call_duration_secs,
    variablesOf(data).system__call_duration_secs,
  ];
  for (const candidate of candidates) {
    const parsed = NumberLikeSchema.safeParse(candidate);
    if (parsed.success && parsed.data >= 0) return Math.round(parsed.data);
  }
  return 0;
}

const VOICEMAIL = /voice\s*mail/i;
const NO_ANSWER = /no[\s_-]*answer/i;
const VOICEMAIL_TOOL_SUCCESS = 'voicemail_detection_success';

/** SPEC §5 status rules for a call that connected, first match wins. */
export function transcriptionStatus(data: TranscriptionData, duration: number): CrmStatus {
  const termination = data.metadata?.termination_reason ?? '';
  const transcript = data.transcript ?? [];
  if (VOICEMAIL.test(termination) || transcript.some(turnReportsVoicemail)) return 'voicemail';
  if (duration === 0 || !transcript.some(isUserSpeech) || NO_ANSWER.test(termination)) return 'no answer';
  // analysis.call_successful is about the agent's goal, never the call status (SPEC §5).
  return 'held';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A transcript turn (`{role, message, tool_results, ...}`) in which the contact said something. */
function isUserSpeech(turn: unknown): boolean {
  return isRecord(turn) && turn.role === 'user' && text(turn.message) !== undefined;
}

/**
 * The voicemail_detection system tool reports `result.result_type: "voicemail_detection_success"`
 * (ElevenLabs API, ConversationHistoryTranscriptSystemToolResultCommonModel); older transcripts
 * carry the same marker inside the `result_value` string.
 */
function turnReportsVoicemail(turn: unknown): boolean {
  if (!isRecord(turn) || !Array.isArray(turn.tool_results)) return false;
  return turn.tool_results.some((result: unknown) => {
    if (!isRecord(result)) return false;
    if (isRecord(result.result) && result.result.result_type === VOICEMAIL_TOOL_SUCCESS) return true;
    return typeof result.result_value === 'string' && result.result_value.includes(VOICEMAIL_TOOL_SUCCESS);
  });
}

/** `failure_reason` (or Twilio's CallStatus), normalised: "no-answer" → "no answer". */
function failureReason(data: FailureData): string {
  const raw = firstText(data.failure_reason, twilioBody(data)?.CallStatus) ?? 'unknown';
  return raw.toLowerCase().replace(/[\s_-]+/g, ' ');
}

export function failureStatus(data: FailureData): CrmStatus {
  const reason = failureReason(data);
  return reason === 'busy' || reason === 'no answer' ? 'no answer' : 'failed';
}

/** e.g. "Call not connected: busy (SIP 486 Busy here)." */
export function failureSummary(data: FailureData): string {
  const body = data.metadata?.body ?? {};
  const sipCode = firstText(body.sip_status_code, body.SipResponseCode);
  const sipText = text(body.sip_status);
  const detail = sipCode ? ` (SIP ${[sipCode, sipText].filter(Boolean).join(' ')})` : '';
  return `Call not connected: ${failureReason(data)}${detail}.`;
}
