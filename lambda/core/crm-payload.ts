/**
 * Event → CRM payload (contract §5, the CRM's own payload format).
 * Every rule is an ordered list of candidates: the first usable one wins. Each rule has one
 * table test in test/unit/crm-payload.test.ts. The status rules of a connected call are in
 * call-status.ts, the name rule in contact-name.ts, number normalisation in phone-number.ts.
 *
 * Pure: no clock, no environment. What comes out always fits `CrmPayloadSchema` (text cut to
 * its bound, duration clamped), so the CRM and the retry worker accept it whatever came in.
 */
import { failedCallSummary, hasFailed, transcriptionStatus } from './call-status';
import { contactName } from './contact-name';
import { CRM_TEXT_LIMITS, type CrmPayload, type CrmStatus, fitDuration, fitText } from './crm-payload-schema';
import type { FailureData, FailureEvent, TranscriptionData, TranscriptionEvent } from './events';
import { NumberLikeSchema } from './events';
import { type CountryCode, DEFAULT_COUNTRY, normalisePhoneNumber } from './phone-number';
import { readFirstText, readText } from './read-text';

export type { CrmPayload, CrmStatus } from './crm-payload-schema';

export interface CrmMappingConfig {
  defaultSubject: string;
  subjectsByAgent: Readonly<Record<string, string>>;
  /** CRM_NAME_FIELDS: the single name fields, any spelling; default the contract §5 list. */
  nameFields?: readonly string[];
  /** CRM_DEFAULT_COUNTRY: how a number without `+` is read; default AU. */
  defaultCountry?: CountryCode;
}

const NO_SUMMARY = 'No summary available.';

type Variables = Record<string, unknown>;
type CrmSourceEvent = TranscriptionEvent | FailureEvent;

export function toCrmPayload(event: CrmSourceEvent, config: CrmMappingConfig): CrmPayload {
  const common = {
    type: 'conversationAICall',
    subject: fitText(callSubject(event, config), CRM_TEXT_LIMITS.subject),
    to: fitText(contactNumber(event, config.defaultCountry), CRM_TEXT_LIMITS.to),
    name: fitText(contactName(event, config.nameFields), CRM_TEXT_LIMITS.name),
  } as const;
  if (event.kind === 'failure') {
    return {
      ...common,
      summary: fitText(failureSummary(event.data), CRM_TEXT_LIMITS.summary),
      status: failureStatus(event.data),
      duration: 0,
    };
  }
  const duration = callDuration(event.data);
  return {
    ...common,
    summary: fitText(callSummary(event.data), CRM_TEXT_LIMITS.summary),
    status: transcriptionStatus(event.data, duration),
    duration,
  };
}

function variablesOf(data: TranscriptionData | FailureData): Variables {
  return data.conversation_initiation_client_data?.dynamic_variables ?? {};
}

function twilioBody(data: FailureData): Variables | undefined {
  return data.metadata?.type === 'twilio' ? (data.metadata.body ?? undefined) : undefined;
}

/**
 * `to`: the contact's number in E.164, or "Unknown". On an outbound call the contact was
 * called (`system__called_number`); on an inbound call the contact called us
 * (`system__caller_id`). Initiation failures are always outbound. With no direction known we
 * try the caller id first: calls without phone metadata are the inbound kind. The first
 * candidate with text is the contact's number, and it alone is normalised: one library parse
 * per event, and a value that is not a number says "Unknown" rather than picking a number
 * the platform did not give as the contact's.
 */
export function contactNumber(event: CrmSourceEvent, defaultCountry: CountryCode = DEFAULT_COUNTRY): string {
  return normalisePhoneNumber(rawContactNumber(event), defaultCountry);
}

function rawContactNumber(event: CrmSourceEvent): string | undefined {
  const vars = variablesOf(event.data);
  if (event.kind === 'failure') {
    const twilio = twilioBody(event.data);
    return readFirstText(vars.system__called_number, twilio?.To, twilio?.Called);
  }
  const phoneCall = event.data.metadata?.phone_call;
  const direction = phoneCall?.direction?.toLowerCase();
  const fromVariables =
    direction === 'outbound'
      ? readText(vars.system__called_number)
      : direction === 'inbound'
        ? readText(vars.system__caller_id)
        : readFirstText(vars.system__caller_id, vars.system__called_number);
  return readFirstText(phoneCall?.external_number, fromVariables);
}

function callSubject(event: CrmSourceEvent, config: CrmMappingConfig): string {
  const vars = variablesOf(event.data);
  const agentId = event.data.agent_id;
  const mapped = agentId != null && Object.hasOwn(config.subjectsByAgent, agentId) ? config.subjectsByAgent[agentId] : undefined;
  const agentName = event.kind === 'transcription' ? event.data.agent_name : undefined;
  return readFirstText(vars.subject, vars.campaign_name, vars.campaign, mapped, agentName, vars.agent_name) ?? config.defaultSubject;
}

/** The analysis summary; for a call the platform reports as failed, the reason instead (contract §5). */
function callSummary(data: TranscriptionData): string {
  if (hasFailed(data)) return failedCallSummary(data);
  return readText(data.analysis?.transcript_summary) ?? NO_SUMMARY;
}

/**
 * Whole seconds within 0–86,400: metadata, then the older top-level field, then the system
 * variable; a negative value is not a duration, so the next candidate is tried.
 */
function callDuration(data: TranscriptionData): number {
  const candidates: unknown[] = [data.metadata?.call_duration_secs, data.call_duration_secs, variablesOf(data).system__call_duration_secs];
  for (const candidate of candidates) {
    const parsed = NumberLikeSchema.safeParse(candidate);
    if (parsed.success && parsed.data >= 0) return fitDuration(parsed.data);
  }
  return 0;
}

/** `failure_reason` (or Twilio's CallStatus), normalised: "no-answer" → "no answer". */
function failureReason(data: FailureData): string {
  const raw = readFirstText(data.failure_reason, twilioBody(data)?.CallStatus) ?? 'unknown';
  return raw.toLowerCase().replace(/[\s_-]+/g, ' ');
}

/** contract §5 rule 1: an initiation failure. */
function failureStatus(data: FailureData): CrmStatus {
  const reason = failureReason(data);
  return reason === 'busy' || reason === 'no answer' ? 'no answer' : 'failed';
}

/** e.g. "Call not connected: busy (SIP 486 Busy here)." */
function failureSummary(data: FailureData): string {
  const body = data.metadata?.body ?? {};
  const sipCode = readFirstText(body.sip_status_code, body.SipResponseCode);
  const sipText = readText(body.sip_status);
  const detail = sipCode ? ` (SIP ${[sipCode, sipText].filter(Boolean).join(' ')})` : '';
  return `Call not connected: ${failureReason(data)}${detail}.`;
}
