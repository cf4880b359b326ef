/**
 * Event → CRM payload (contract §5, the CRM's own payload format).
 * Every rule is an ordered list of candidates: the first usable one wins. Each rule has one
 * table test in test/unit/crm-payload.test.ts (and test/unit/crm-records-2026.test.ts for the
 * 2026 traffic). The status rules are in call-status.ts (with sip-outcome.ts and the greeting
 * matcher, speech-phrases.ts), the name rule in contact-name.ts, the number rule in
 * contact-number.ts, number normalisation in phone-number.ts.
 *
 * Pure: no clock, no environment. What comes out always fits `CrmPayloadSchema` (text cut to
 * its bound, duration clamped), so the CRM and the retry worker accept it whatever came in.
 */
import { failedInitiation, failedTranscription, transcriptionStatus } from './call-status';
import { contactName } from './contact-name';
import { contactNumber } from './contact-number';
import { CRM_TEXT_LIMITS, type CrmPayload, fitDuration, fitText } from './crm-payload-schema';
import type { FailureEvent, TranscriptionData, TranscriptionEvent } from './events';
import { NumberLikeSchema } from './events';
import type { CountryCode } from './phone-number';
import { readFirstText, readText } from './read-text';
import { speechClassifier } from './speech-phrases';

export type { CrmPayload, CrmStatus } from './crm-payload-schema';

export interface CrmMappingConfig {
  defaultSubject: string;
  subjectsByAgent: Readonly<Record<string, string>>;
  /** CRM_NAME_FIELDS: the single name fields, any spelling; default the contract §5 list. */
  nameFields?: readonly string[];
  /** CRM_NUMBER_FIELDS: the number fields, any spelling; default the contract §5 list. */
  numberFields?: readonly string[];
  /** CRM_VOICEMAIL_PHRASES: greeting phrases added to the built-in ones (matched once compiled, per list). */
  voicemailPhrases?: readonly string[];
  /** CRM_DEFAULT_COUNTRY: how a number without `+` is read; default AU. */
  defaultCountry?: CountryCode;
}

const NO_SUMMARY = 'No summary available.';

type CrmSourceEvent = TranscriptionEvent | FailureEvent;

export function toCrmPayload(event: CrmSourceEvent, config: CrmMappingConfig): CrmPayload {
  const common = {
    type: 'conversationAICall',
    subject: fitText(callSubject(event, config), CRM_TEXT_LIMITS.subject),
    to: fitText(contactNumber(event, config), CRM_TEXT_LIMITS.to),
    name: fitText(contactName(event, config.nameFields), CRM_TEXT_LIMITS.name),
  } as const;
  if (event.kind === 'failure') {
    const failed = failedInitiation(event.data);
    return { ...common, summary: fitText(failed.summary, CRM_TEXT_LIMITS.summary), status: failed.status, duration: 0 };
  }
  const duration = callDuration(event.data);
  // contract §5 rule 2: a failed call's reason replaces the analysis summary.
  const failed = failedTranscription(event.data);
  return {
    ...common,
    summary: fitText(failed?.summary ?? readText(event.data.analysis?.transcript_summary) ?? NO_SUMMARY, CRM_TEXT_LIMITS.summary),
    status: failed?.status ?? transcriptionStatus(event.data, duration, speechClassifier(config.voicemailPhrases)),
    duration,
  };
}

function callSubject(event: CrmSourceEvent, config: CrmMappingConfig): string {
  const vars = event.data.conversation_initiation_client_data?.dynamic_variables ?? {};
  const agentId = event.data.agent_id;
  const mapped = agentId != null && Object.hasOwn(config.subjectsByAgent, agentId) ? config.subjectsByAgent[agentId] : undefined;
  const agentName = event.kind === 'transcription' ? event.data.agent_name : undefined;
  return readFirstText(vars.subject, vars.campaign_name, vars.campaign, mapped, agentName, vars.agent_name) ?? config.defaultSubject;
}

/**
 * Whole seconds within 0–86,400: metadata, then the older top-level field, then the system
 * variable; a negative value is not a duration, so the next candidate is tried.
 */
function callDuration(data: TranscriptionData): number {
  const vars = data.conversation_initiation_client_data?.dynamic_variables ?? {};
  const candidates: unknown[] = [data.metadata?.call_duration_secs, data.call_duration_secs, vars.system__call_duration_secs];
  for (const candidate of candidates) {
    const parsed = NumberLikeSchema.safeParse(candidate);
    if (parsed.success && parsed.data >= 0) return fitDuration(parsed.data);
  }
  return 0;
}
