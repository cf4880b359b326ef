/**
 * SPEC §5, the CRM's contract: one table row per rule, in the order the spec lists them.
 */
import { describe, expect, it } from 'vitest';
import { type CrmMappingConfig, toCrmPayload } from '../../lambda/core/crm-payload';
import { type FailureEvent, parseEvent, type TranscriptionEvent } from '../../lambda/core/events';
import { clone, SEED_EVENTS } from '../fixtures/samples';

const config: CrmMappingConfig = {
  defaultSubject: 'Conversational AI call',
  subjectsByAgent: { agent_mapped: 'Mapped subject' },
};

const userTurn = { role: 'user', message: 'Hello?' };
const agentTurn = { role: 'agent', message: 'Hi, this is Acme.' };

/** A connected call that maps to "held" unless a row changes it. */
function transcription(data: Record<string, unknown> = {}): TranscriptionEvent {
  return parseEvent({
    type: 'post_call_transcription',
    data: {
      conversation_id: 'conv_1',
      agent_id: 'agent_1',
      transcript: [agentTurn, userTurn],
      metadata: { call_duration_secs: 30, termination_reason: '' },
      ...data,
    },
  }) as TranscriptionEvent;
}

function failure(data: Record<string, unknown>): FailureEvent {
  return parseEvent({ type: 'call_initiation_failure', data: { conversation_id: 'conv_1', agent_id: 'agent_1', ...data } }) as FailureEvent;
}

const vars = (dynamic_variables: Record<string, unknown>) => ({ conversation_initiation_client_data: { dynamic_variables } });
const phone = (phone_call: unknown, extra: Record<string, unknown> = {}) => ({ metadata: { call_duration_secs: 30, phone_call, ...extra } });
const twilio = (body: Record<string, unknown>) => ({ metadata: { type: 'twilio', body } });
const sip = (body: Record<string, unknown>) => ({ metadata: { type: 'sip', body } });

describe('the payload shape', () => {
  it('has exactly the seven CRM fields', () => {
    for (const event of [transcription(), failure({ failure_reason: 'busy' })]) {
      expect(Object.keys(toCrmPayload(event, config)).sort()).toEqual(['duration', 'name', 'status', 'subject', 'summary', 'to', 'type']);
      expect(toCrmPayload(event, config).type).toBe('conversationAICall');
    }
  });

  it('maps the ElevenLabs docs example as expected', () => {
    expect(toCrmPayload(parseEvent(clone(SEED_EVENTS.transcription)) as TranscriptionEvent, config)).toEqual({
      type: 'conversationAICall',
      subject: 'Conversational AI call',
      to: 'Unknown',
      name: 'angelo',
      summary: SEED_EVENTS.transcription.data.analysis.transcript_summary,
      status: 'held',
      duration: 22,
    });
  });

  it('maps the production receiver example as expected', () => {
    expect(toCrmPayload(parseEvent(clone(SEED_EVENTS.tetherTranscription)) as TranscriptionEvent, config)).toMatchObject({
      to: '+14165550100',
      status: 'held',
      duration: 42,
      summary: 'Caller asked to update their shipping address.',
    });
  });

  it('maps the docs SIP failure example to the spec sentence', () => {
    expect(toCrmPayload(parseEvent(clone(SEED_EVENTS.failureSip)) as FailureEvent, config)).toEqual({
      type: 'conversationAICall',
      subject: 'Conversational AI call',
      to: 'Unknown',
      name: 'Unknown',
      summary: 'Call not connected: busy (SIP 486 Busy here).',
      status: 'no answer',
      duration: 0,
    });
  });
});

describe('to: the contact number', () => {
  it.each<[string, TranscriptionEvent | FailureEvent, string]>([
    ['metadata.phone_call.external_number first', transcription({ ...phone({ direction: 'outbound', external_number: '+61413052898' }), ...vars({ system__called_number: '+61999' }) }), '+61413052898'],
    ['outbound: system__called_number', transcription({ ...phone({ direction: 'outbound', external_number: '' }), ...vars({ system__called_number: '+61411', system__caller_id: '+61200' }) }), '+61411'],
    ['inbound: system__caller_id', transcription({ ...phone({ direction: 'inbound', external_number: ' ' }), ...vars({ system__called_number: '+61200', system__caller_id: '+61422' }) }), '+61422'],
    ['no direction: system__caller_id before system__called_number', transcription({ ...phone(null), ...vars({ system__called_number: '+61200', system__caller_id: '+61433' }) }), '+61433'],
    ['no direction, only system__called_number', transcription({ ...phone(null), ...vars({ system__called_number: '+61444' }) }), '+61444'],
    ['nothing known: "Unknown"', transcription({ ...phone(null) }), 'Unknown'],
    ['failure: system__called_number', failure({ ...vars({ system__called_number: '+61455' }), ...twilio({ To: '+61466' }) }), '+61455'],
    ['failure: Twilio To', failure({ failure_reason: 'busy', ...twilio({ To: '+441111111111', Called: '+442' }) }), '+441111111111'],
    ['failure: Twilio Called when To is empty', failure({ failure_reason: 'busy', ...twilio({ To: '', Called: '+442222' }) }), '+442222'],
    ['failure over SIP: "Unknown"', failure({ failure_reason: 'busy', ...sip({ sip_status_code: 486 }) }), 'Unknown'],
  ])('%s', (_rule, event, expected) => {
    expect(toCrmPayload(event, config).to).toBe(expected);
  });
});

describe('name: the contact name', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['dynamic variable name', vars({ name: 'Ann', user_name: 'Bob' }), 'Ann'],
    ['then user_name', vars({ name: '', user_name: 'Bob', contact_name: 'Cy' }), 'Bob'],
    ['then contact_name', vars({ contact_name: 'Cy', customer_name: 'Di' }), 'Cy'],
    ['then customer_name', vars({ customer_name: 'Di', first_name: 'Ed' }), 'Di'],
    ['then first_name + last_name', vars({ first_name: 'Ed', last_name: 'Fox' }), 'Ed Fox'],
    ['first_name alone', vars({ first_name: 'Ed' }), 'Ed'],
    ['last_name alone', vars({ last_name: 'Fox' }), 'Fox'],
    ['blank variables are skipped', vars({ name: '   ', user_name: 'Gil' }), 'Gil'],
    ['then the data-collection result "name"', { analysis: { data_collection_results: { name: { data_collection_id: 'name', value: 'Hal', rationale: 'said so' } } } }, 'Hal'],
    ['then the data-collection result "contact_name"', { analysis: { data_collection_results: { contact_name: { value: 'Ivy' } } } }, 'Ivy'],
    ['a data-collection result with no value is skipped', { analysis: { data_collection_results: { name: { value: null }, contact_name: { value: 'Jo' } } } }, 'Jo'],
    ['variables win over data collection', { ...vars({ user_name: 'Kim' }), analysis: { data_collection_results: { name: { value: 'Lee' } } } }, 'Kim'],
    ['nothing known: "Unknown"', {}, 'Unknown'],
  ])('%s', (_rule, data, expected) => {
    expect(toCrmPayload(transcription(data), config).name).toBe(expected);
  });
});

describe('subject', () => {
  it.each<[string, Record<string, unknown>, CrmMappingConfig, string]>([
    ['dynamic variable subject', vars({ subject: 'Invitation to re-trial', campaign_name: 'C' }), config, 'Invitation to re-trial'],
    ['then campaign_name', vars({ campaign_name: 'Spring promo', campaign: 'x' }), config, 'Spring promo'],
    ['then campaign', vars({ campaign: 'Winter promo' }), config, 'Winter promo'],
    ['then CRM_SUBJECTS_BY_AGENT[agent_id]', { agent_id: 'agent_mapped', agent_name: 'Agent Smith' }, config, 'Mapped subject'],
    ['then agent_name', { agent_id: 'agent_other', agent_name: 'Renewals agent' }, config, 'Renewals agent'],
    ['then CRM_DEFAULT_SUBJECT', {}, config, 'Conversational AI call'],
    ['a custom default', {}, { ...config, defaultSubject: 'Outbound call' }, 'Outbound call'],
    ['an agent id that is an Object.prototype key is not a mapping', { agent_id: 'constructor' }, config, 'Conversational AI call'],
  ])('%s', (_rule, data, mapping, expected) => {
    expect(toCrmPayload(transcription(data), mapping).subject).toBe(expected);
  });

  it('applies to failures too', () => {
    expect(toCrmPayload(failure({ agent_id: 'agent_mapped', failure_reason: 'busy' }), config).subject).toBe('Mapped subject');
  });
});

describe('summary', () => {
  it.each<[string, TranscriptionEvent | FailureEvent, string]>([
    ['analysis.transcript_summary', transcription({ analysis: { transcript_summary: 'They talked.' } }), 'They talked.'],
    ['no analysis', transcription({}), 'No summary available.'],
    ['an empty summary', transcription({ analysis: { transcript_summary: '' } }), 'No summary available.'],
    ['failure over SIP: reason and SIP status', failure({ failure_reason: 'busy', ...sip({ sip_status_code: 486, sip_status: 'Busy here', error_reason: 'x' }) }), 'Call not connected: busy (SIP 486 Busy here).'],
    ['failure over SIP without status text', failure({ failure_reason: 'unknown', ...sip({ sip_status_code: 503 }) }), 'Call not connected: unknown (SIP 503).'],
    ['failure over Twilio: SipResponseCode', failure({ failure_reason: 'busy', ...twilio({ CallStatus: 'busy', SipResponseCode: '487' }) }), 'Call not connected: busy (SIP 487).'],
    ['failure "no-answer" reads as words', failure({ failure_reason: 'no-answer' }), 'Call not connected: no answer.'],
    ['failure with no reason at all', failure({}), 'Call not connected: unknown.'],
  ])('%s', (_rule, event, expected) => {
    expect(toCrmPayload(event, config).summary).toBe(expected);
  });
});

describe('duration', () => {
  it.each<[string, Record<string, unknown>, number]>([
    ['metadata.call_duration_secs', { metadata: { call_duration_secs: 65 }, call_duration_secs: 10 }, 65],
    ['then call_duration_secs', { metadata: {}, call_duration_secs: 42 }, 42],
    ['then system__call_duration_secs', { metadata: {}, ...vars({ system__call_duration_secs: 17 }) }, 17],
    ['a numeric string', { metadata: { call_duration_secs: '42' } }, 42],
    ['rounded to whole seconds', { metadata: { call_duration_secs: 22.6 } }, 23],
    ['a negative value is skipped', { metadata: { call_duration_secs: -5 }, call_duration_secs: 8 }, 8],
    ['nothing known: 0', { metadata: {} }, 0],
  ])('%s', (_rule, data, expected) => {
    expect(toCrmPayload(transcription(data), config).duration).toBe(expected);
  });

  it('is 0 for failures', () => {
    expect(toCrmPayload(failure({ failure_reason: 'busy', ...twilio({ CallDuration: '12' }) }), config).duration).toBe(0);
  });
});

describe('status, first rule that applies', () => {
  const voicemailTool = { role: 'agent', message: null, tool_results: [{ tool_name: 'voicemail_detection', result: { result_type: 'voicemail_detection_success', status: 'success' } }] };
  const voicemailToolText = { role: 'agent', message: '', tool_results: [{ tool_name: 'voicemail_detection', result_value: '{"result_type":"voicemail_detection_success"}' }] };
  const otherTool = { role: 'agent', message: 'ok', tool_results: [{ tool_name: 'end_call', result: { result_type: 'end_call_success' } }] };

  it.each<[string, TranscriptionEvent | FailureEvent, string]>([
    ['failure "busy" → no answer', failure({ failure_reason: 'busy' }), 'no answer'],
    ['failure "no-answer" → no answer', failure({ failure_reason: 'no-answer' }), 'no answer'],
    ['failure "NO_ANSWER" → no answer', failure({ failure_reason: 'NO_ANSWER' }), 'no answer'],
    ['failure "unknown" → failed', failure({ failure_reason: 'unknown' }), 'failed'],
    ['failure with Twilio CallStatus "no-answer" → no answer', failure({ ...twilio({ CallStatus: 'no-answer' }) }), 'no answer'],
    ['failure with Twilio CallStatus "failed" → failed', failure({ ...twilio({ CallStatus: 'failed' }) }), 'failed'],
    ['failure_reason wins over CallStatus', failure({ failure_reason: 'busy', ...twilio({ CallStatus: 'failed' }) }), 'no answer'],
    ['termination_reason mentions voicemail → voicemail', transcription({ metadata: { call_duration_secs: 30, termination_reason: 'voicemail_detection tool was called.' } }), 'voicemail'],
    ['termination_reason "Voice mail" → voicemail', transcription({ metadata: { call_duration_secs: 30, termination_reason: 'Reached Voice Mail' } }), 'voicemail'],
    ['voicemail_detection_success tool result → voicemail', transcription({ transcript: [agentTurn, userTurn, voicemailTool] }), 'voicemail'],
    ['voicemail_detection_success in result_value → voicemail', transcription({ transcript: [voicemailToolText] }), 'voicemail'],
    ['voicemail wins over a zero duration', transcription({ metadata: { call_duration_secs: 0, termination_reason: 'voicemail' } }), 'voicemail'],
    ['duration 0 → no answer', transcription({ metadata: { call_duration_secs: 0 } }), 'no answer'],
    ['no duration at all → no answer', transcription({ metadata: {} }), 'no answer'],
    ['no user turn → no answer', transcription({ transcript: [agentTurn] }), 'no answer'],
    ['only empty user turns → no answer', transcription({ transcript: [agentTurn, { role: 'user', message: '  ' }, { role: 'user', message: null }] }), 'no answer'],
    ['no transcript → no answer', transcription({ transcript: null }), 'no answer'],
    ['termination_reason "no answer - timeout" → no answer', transcription({ metadata: { call_duration_secs: 30, termination_reason: 'no answer - timeout' } }), 'no answer'],
    ['a conversation → held', transcription({}), 'held'],
    ['unreadable transcript items are skipped → held', transcription({ transcript: ['junk', 7, null, [userTurn], agentTurn, userTurn] }), 'held'],
    ['unreadable tool results are skipped', transcription({ transcript: [{ role: 'agent', tool_results: [null, 'x', { result: 'voicemail' }] }, userTurn] }), 'held'],
    ['a transcript that is not an array reads as none → no answer', transcription({ transcript: { role: 'user', message: 'hi' } }), 'no answer'],
    ['other tool results do not matter → held', transcription({ transcript: [agentTurn, userTurn, otherTool] }), 'held'],
    ['"Call ended by remote party" → held', transcription({ metadata: { call_duration_secs: 30, termination_reason: 'Call ended by remote party' } }), 'held'],
    ['call_successful "failure" never decides the status → held', transcription({ analysis: { call_successful: 'failure' } }), 'held'],
    ['call_successful "success" with no user turn → still no answer', transcription({ transcript: [agentTurn], analysis: { call_successful: 'success' } }), 'no answer'],
  ])('%s', (_rule, event, expected) => {
    expect(toCrmPayload(event, config).status).toBe(expected);
  });
});
