/**
 * contract §5, the CRM's contract: one table per rule, in the order the spec lists them. The rows
 * use realistic payloads (support/fixtures/real-calls.ts) where the rule is about real traffic.
 */
import { describe, expect, it } from 'vitest';
import { type CrmMappingConfig, toCrmPayload } from '../../lambda/core/crm-payload';
import { CRM_TEXT_LIMITS, CrmPayloadSchema, MAX_CALL_DURATION_SECS } from '../../lambda/core/crm-payload-schema';
import { type FailureEvent, parseEvent, type TranscriptionEvent } from '../../lambda/core/events';
import {
  answeringMachineCall,
  collected,
  FICTIONAL_NUMBERS,
  failedCall,
  GREETINGS,
  type Json,
  longCall,
  otelTranscriptCall,
  type RealCallOptions,
  realCall,
  realInitiationFailure,
  silentCall,
  turn,
} from '../../support/fixtures/real-calls';
import { clone, SEED_EVENTS } from '../../support/fixtures/samples';

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
const phone = (phone_call: unknown, extra: Record<string, unknown> = {}) => ({
  metadata: { call_duration_secs: 30, phone_call, ...extra },
});
const twilio = (body: Record<string, unknown>) => ({ metadata: { type: 'twilio', body } });
const sip = (body: Record<string, unknown>) => ({ metadata: { type: 'sip', body } });

/** A realistic event (real-calls.ts builders) parsed as the receiver parses it. */
const real = <T extends TranscriptionEvent | FailureEvent = TranscriptionEvent>(body: Json) => parseEvent(clone(body)) as T;
const realWith = (options: RealCallOptions, patch?: (data: Json) => void) => real(realCall(options, patch));
const N = FICTIONAL_NUMBERS;

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
      // A fictional 555-01xx number: it fits the North American plan, so it is a valid number.
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

  it('maps a real completed call: name from data collection, number in E.164', () => {
    expect(toCrmPayload(real(realCall()), { ...config, subjectsByAgent: { agent_7f3c21d0e9b84a5c: 'Check-up reminders' } })).toEqual({
      type: 'conversationAICall',
      subject: 'Check-up reminders',
      to: '+61491570156',
      name: 'Priya Raman',
      summary: realCall().data.analysis.transcript_summary,
      status: 'held',
      duration: 32,
    });
  });
});

describe('to: which value is the contact number', () => {
  it.each<[string, TranscriptionEvent | FailureEvent, string]>([
    [
      'metadata.phone_call.external_number first',
      transcription({ ...phone({ direction: 'outbound', external_number: N.mobile }), ...vars({ system__called_number: N.otherMobile }) }),
      N.mobile,
    ],
    [
      'outbound: system__called_number',
      transcription({
        ...phone({ direction: 'outbound', external_number: '' }),
        ...vars({ system__called_number: '+61491570006', system__caller_id: N.agentLine }),
      }),
      '+61491570006',
    ],
    [
      'inbound: system__caller_id',
      transcription({
        ...phone({ direction: 'inbound', external_number: ' ' }),
        ...vars({ system__called_number: N.agentLine, system__caller_id: '+61491570110' }),
      }),
      '+61491570110',
    ],
    [
      'no direction: system__caller_id before system__called_number',
      transcription({ ...phone(null), ...vars({ system__called_number: N.agentLine, system__caller_id: '+61491570313' }) }),
      '+61491570313',
    ],
    [
      'no direction, only system__called_number',
      transcription({ ...phone(null), ...vars({ system__called_number: '+61491570737' }) }),
      '+61491570737',
    ],
    ['a real inbound call: the caller', realWith({ direction: 'inbound', contactNumber: N.otherMobile }), N.otherMobile],
    ['nothing known: "Unknown"', transcription({ ...phone(null) }), 'Unknown'],
    [
      'failure: system__called_number',
      failure({ ...vars({ system__called_number: '+61491571266' }), ...twilio({ To: N.mobile }) }),
      '+61491571266',
    ],
    [
      'failure: Twilio To',
      failure({ failure_reason: 'busy', ...twilio({ To: '+442079460000', Called: '+442079460001' }) }),
      '+442079460000',
    ],
    [
      'failure: Twilio Called when To is empty',
      failure({ failure_reason: 'busy', ...twilio({ To: '', Called: '+442079460001' }) }),
      '+442079460001',
    ],
    ['failure over SIP: "Unknown"', failure({ failure_reason: 'busy', ...sip({ sip_status_code: 486 }) }), 'Unknown'],
    ['a real Twilio failure', real<FailureEvent>(realInitiationFailure('busy', { to: '0491 570 159' })), '+61491570159'],
    // One parse per event: the first candidate is the contact's number; when it is not a
    // number the answer is "Unknown", not a later candidate the platform did not give as the contact's.
    [
      'a first candidate that is not a number is not skipped',
      transcription({
        ...phone({ direction: 'outbound', external_number: 'sip:alice@pbx' }),
        ...vars({ system__called_number: N.mobile }),
      }),
      'Unknown',
    ],
  ])('%s', (_rule, event, expected) => {
    expect(toCrmPayload(event, config).to).toBe(expected);
  });
});

describe('to: normalised to E.164', () => {
  const withNumber = (raw: unknown) =>
    transcription({ ...phone({ direction: 'outbound', external_number: null }), ...vars({ system__called_number: raw }) });

  it.each<[string, unknown, string]>([
    ['E.164 stays as it is', '+61491570156', '+61491570156'],
    ['spaces removed', '+61 491 570 156', '+61491570156'],
    ['dashes and dots removed', '+61-491.570-156', '+61491570156'],
    ['brackets removed', '+61 (2) 5550 1234', '+61255501234'],
    ['the national prefix after the country code is dropped', '+61 (0) 491 570 156', '+61491570156'],
    ['national format read in the default country (AU)', '0491 570 156', '+61491570156'],
    ['a landline in national format', '(02) 5550 1234', '+61255501234'],
    ['international digits without +', '61491570156', '+61491570156'],
    ["Australia's international prefix", '0011 61 491 570 156', '+61491570156'],
    ['a number value (dynamic variables may be numbers)', 61491570156, '+61491570156'],
    ['tel: URI', 'tel:+61-491-570-156', '+61491570156'],
    ['tel: URI with parameters', 'tel:0491-570-156;phone-context=+61', '+61491570156'],
    ['sip: URI: the user part', 'sip:+61491570156@trunk.example.com;transport=tls', '+61491570156'],
    ['sips: URI with a port', 'SIPS:+61491570156@trunk.example.com:5061', '+61491570156'],
    ['a fictional North American 555-01xx number fits its plan', '+1 416 555 0100', '+14165550100'],
    ['a SIP user name is not a number', 'sip:alice@pbx', 'Unknown'],
    ['a SIP extension is not a number', 'sip:1001@pbx.example.com', 'Unknown'],
    ['a PBX extension of a possible length is not a valid number', '12345', 'Unknown'],
    ['Twilio\'s "anonymous" caller id', '+266696687', 'Unknown'],
    ['"anonymous"', 'anonymous', 'Unknown'],
    ['a US number without its country code is not an AU number', '415 555 0123', 'Unknown'],
    ['too short', '+61411', 'Unknown'],
    ['an unassigned UK range', '+441111111111', 'Unknown'],
    ['text around the number', '+61 491 570 156 ext. 12', 'Unknown'],
    ['blank', '   ', 'Unknown'],
  ])('%s: %j → %j', (_rule, raw, expected) => {
    expect(toCrmPayload(withNumber(raw), config).to).toBe(expected);
  });

  it.each<[string, string, string]>([
    ['NZ', '021 123 4567', '+64211234567'],
    ['US', '(415) 555-0123', '+14155550123'],
    ['GB', '020 7946 0000', '+442079460000'],
  ])('CRM_DEFAULT_COUNTRY=%s reads %j as %j', (country, raw, expected) => {
    expect(toCrmPayload(withNumber(raw), { ...config, defaultCountry: country as never }).to).toBe(expected);
  });

  it('reads numbers with + the same whatever the default country', () => {
    expect(toCrmPayload(withNumber('+61491570156'), { ...config, defaultCountry: 'US' }).to).toBe('+61491570156');
  });
});

describe('name: the contact name', () => {
  const dc = (results: Record<string, unknown>) => ({ analysis: { data_collection_results: results } });

  it.each<[string, Record<string, unknown>, string]>([
    ['dynamic variable name', vars({ name: 'Ann', contact_name: 'Bob' }), 'Ann'],
    ['then contact_name', vars({ name: '', contact_name: 'Cy', customer_name: 'Di', user_name: 'Uma' }), 'Cy'],
    ['then customer_name', vars({ customer_name: 'Di', caller_name: 'Eve' }), 'Di'],
    ['then caller_name', vars({ caller_name: 'Eve', full_name: 'Fay Gray' }), 'Eve'],
    ['then full_name', vars({ full_name: 'Fay Gray', user_name: 'Uma' }), 'Fay Gray'],
    ['then user_name (last: accounts also use it for the agent persona)', vars({ user_name: 'Uma', first_name: 'Ed' }), 'Uma'],
    ['then first_name + last_name', vars({ first_name: 'Ed', last_name: 'Fox' }), 'Ed Fox'],
    ['first_name alone', vars({ first_name: 'Ed' }), 'Ed'],
    ['last_name alone', vars({ last_name: 'Fox' }), 'Fox'],
    ['keys match without case, spaces, "_" and "-"', vars({ 'First Name': 'Ed', 'LAST-NAME': 'Fox' }), 'Ed Fox'],
    ['firstname / lastname', vars({ firstname: 'Ed', lastname: 'Fox' }), 'Ed Fox'],
    ['"Caller Name"', vars({ 'Caller Name': 'Eve' }), 'Eve'],
    ['values are trimmed', vars({ name: '  Ann Lee  ' }), 'Ann Lee'],
    ['a number value counts', vars({ name: 7 }), '7'],
    ['blank variables are skipped', vars({ name: '   ', user_name: 'Gil' }), 'Gil'],
    [
      'values of other types are skipped',
      vars({ name: { first: 'x' }, contact_name: ['y'], customer_name: true, caller_name: 'Hana' }),
      'Hana',
    ],
    ['two keys that normalise alike: the first with a value', vars({ first_name: '', 'First Name': 'Ed', firstname: 'Ted' }), 'Ed'],
    [
      'then data collection: first_name + last_name',
      dc({ first_name: collected('first_name', 'Priya'), last_name: collected('last_name', 'Raman') }),
      'Priya Raman',
    ],
    [
      'then data collection: "First Name" / "Last Name"',
      dc({ 'First Name': collected('First Name', 'Mei'), 'Last Name': collected('Last Name', 'Tan') }),
      'Mei Tan',
    ],
    ['then data collection: firstname alone', dc({ firstname: collected('firstname', 'Tomás') }), 'Tomás'],
    ['then data collection: user_name', dc({ user_name: collected('user_name', 'Kofi Mensah') }), 'Kofi Mensah'],
    [
      'then data collection: single fields before first/last',
      dc({ last_name: collected('last_name', 'Raman'), name: collected('name', 'Hal') }),
      'Hal',
    ],
    [
      'a data-collection result with no value is skipped',
      dc({ name: collected('name', null), contact_name: collected('contact_name', 'Jo') }),
      'Jo',
    ],
    ['a data-collection result that is not an object is skipped', dc({ name: 'Hal', contact_name: { value: 'Jo' } }), 'Jo'],
    ['variables win over data collection', { ...vars({ user_name: 'Kim' }), ...dc({ name: collected('name', 'Lee') }) }, 'Kim'],
    [
      'a variables source with only blanks falls through to data collection',
      { ...vars({ name: ' ', first_name: '' }), ...dc({ first_name: collected('first_name', 'Lee') }) },
      'Lee',
    ],
    ['system variables are not names', vars({ system__caller_id: '+61491570156', system__agent_id: 'agent_1' }), 'Unknown'],
    ['nothing known: "Unknown"', {}, 'Unknown'],
  ])('%s', (_rule, data, expected) => {
    expect(toCrmPayload(transcription(data), config).name).toBe(expected);
  });

  it('a real call names the contact from its data-collection results', () => {
    expect(toCrmPayload(real(realCall()), config).name).toBe('Priya Raman');
  });

  it('a failure reads its dynamic variables', () => {
    expect(toCrmPayload(real<FailureEvent>(realInitiationFailure()), config).name).toBe('Priya');
  });

  it.each<[string, readonly string[], Record<string, unknown>, string]>([
    ['CRM_NAME_FIELDS replaces the single fields', ['contact_name'], vars({ name: 'Ann', contact_name: 'Cy' }), 'Cy'],
    [
      'dropping user_name (the agent persona in this account)',
      ['name', 'contact_name'],
      vars({ user_name: 'Ava', first_name: 'Ed' }),
      'Ed',
    ],
    ['first/last still apply', ['contact_name'], vars({ name: 'Ann', first_name: 'Ed', last_name: 'Fox' }), 'Ed Fox'],
    ['configured names match loosely too', ['Patient Name'], vars({ patient_name: 'Rua' }), 'Rua'],
    [
      'in data collection as well',
      ['patient_name'],
      { analysis: { data_collection_results: { 'Patient Name': collected('Patient Name', 'Rua') } } },
      'Rua',
    ],
  ])('%s', (_rule, nameFields, data, expected) => {
    expect(toCrmPayload(transcription(data), { ...config, nameFields }).name).toBe(expected);
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
    [
      'failure over SIP: reason and SIP status',
      failure({ failure_reason: 'busy', ...sip({ sip_status_code: 486, sip_status: 'Busy here', error_reason: 'x' }) }),
      'Call not connected: busy (SIP 486 Busy here).',
    ],
    [
      'failure over SIP without status text',
      failure({ failure_reason: 'unknown', ...sip({ sip_status_code: 503 }) }),
      'Call not connected: unknown (SIP 503).',
    ],
    [
      'failure over Twilio: SipResponseCode',
      failure({ failure_reason: 'busy', ...twilio({ CallStatus: 'busy', SipResponseCode: '487' }) }),
      'Call not connected: busy (SIP 487).',
    ],
    ['failure "no-answer" reads as words', failure({ failure_reason: 'no-answer' }), 'Call not connected: no answer.'],
    ['failure with no reason at all', failure({}), 'Call not connected: unknown.'],
  ])('%s', (_rule, event, expected) => {
    expect(toCrmPayload(event, config).summary).toBe(expected);
  });

  it.each<[string, TranscriptionEvent, string]>([
    [
      'metadata.error.reason replaces the summary',
      real(failedCall({ code: 1011, reason: 'LLM request timed out' })),
      'Call failed: LLM request timed out.',
    ],
    [
      'then metadata.error.message',
      real(failedCall({ code: 1006, message: 'Telephony stream closed' })),
      'Call failed: Telephony stream closed.',
    ],
    [
      'a string error is the reason',
      real(failedCall('Twilio media stream ended unexpectedly')),
      'Call failed: Twilio media stream ended unexpectedly.',
    ],
    [
      'exactly one final period',
      real(failedCall({ code: 1011, reason: 'Quota exceeded for this workspace...' })),
      'Call failed: Quota exceeded for this workspace.',
    ],
    ['then termination_reason', real(failedCall({ code: 1011 })), 'Call failed: Error occurred.'],
    [
      'a termination reason with its own period',
      realWith({}, (d) =>
        Object.assign(d, { status: 'failed' }, { metadata: { ...d.metadata, termination_reason: 'end_call tool was called.' } }),
      ),
      'Call failed: end_call tool was called.',
    ],
    [
      'else "unknown error"',
      realWith({}, (d) => Object.assign(d, { status: 'failed', metadata: { ...d.metadata, termination_reason: '', error: null } })),
      'Call failed: unknown error.',
    ],
    [
      'an error on a call marked done still fails it',
      realWith({}, (d) => (d.metadata.error = { code: 3000, reason: 'Agent misconfigured' })),
      'Call failed: Agent misconfigured.',
    ],
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
    // contract §5: fractions round down (v1 rounded to the nearest second).
    ['fractions rounded down', { metadata: { call_duration_secs: 22.6 } }, 22],
    ['under a second is 0', { metadata: { call_duration_secs: 0.9 } }, 0],
    ['a negative value is skipped', { metadata: { call_duration_secs: -5 }, call_duration_secs: 8 }, 8],
    ['only a negative value: 0', { metadata: { call_duration_secs: -5 } }, 0],
    ['an unreadable value is skipped', { metadata: { call_duration_secs: 'about a minute' }, call_duration_secs: 61 }, 61],
    ['a day at most', { metadata: { call_duration_secs: MAX_CALL_DURATION_SECS + 1 } }, MAX_CALL_DURATION_SECS],
    ['an absurd value: a day', { metadata: { call_duration_secs: 1e300 } }, MAX_CALL_DURATION_SECS],
    ['nothing known: 0', { metadata: {} }, 0],
  ])('%s', (_rule, data, expected) => {
    expect(toCrmPayload(transcription(data), config).duration).toBe(expected);
  });

  it('is 0 for failures', () => {
    expect(toCrmPayload(failure({ failure_reason: 'busy', ...twilio({ CallDuration: '12' }) }), config).duration).toBe(0);
  });
});

describe('bounds: every payload fits CrmPayloadSchema', () => {
  const huge = (n: number, unit = 'x') => unit.repeat(n);

  it.each<[string, TranscriptionEvent, 'subject' | 'name' | 'summary']>([
    ['a 25,000-character summary', transcription({ analysis: { transcript_summary: huge(25_000) } }), 'summary'],
    ['a 300-character subject', transcription(vars({ subject: huge(300) })), 'subject'],
    ['a 300-character name', transcription(vars({ name: huge(300) })), 'name'],
    ['a name of emoji (surrogate pairs)', transcription(vars({ name: huge(150, '🙂') })), 'name'],
    ['a failed call with a huge reason', real(failedCall({ reason: huge(30_000, 'é') })), 'summary'],
  ])('%s is cut to its bound and ends with "…"', (_case, event, field) => {
    const payload = toCrmPayload(event, config);
    expect(CrmPayloadSchema.safeParse(payload).success).toBe(true);
    expect(payload[field].length).toBeLessThanOrEqual(CRM_TEXT_LIMITS[field]);
    expect(payload[field].length).toBeGreaterThan(CRM_TEXT_LIMITS[field] - 3);
    expect(payload[field].endsWith('…')).toBe(true);
    expect(payload[field]).not.toMatch(/[\uD800-\uDBFF]…$/); // no half of a surrogate pair before the …
  });

  it('keeps text within its bound as it is', () => {
    const summary = huge(CRM_TEXT_LIMITS.summary);
    expect(toCrmPayload(transcription({ analysis: { transcript_summary: summary } }), config).summary).toBe(summary);
  });

  it('maps a ~290 KB transcript to a small payload', () => {
    const body = longCall(290_000);
    expect(JSON.stringify(body).length).toBeGreaterThan(280_000);
    const payload = toCrmPayload(real(body), config);
    expect(payload).toMatchObject({ status: 'held', name: 'Priya Raman', to: '+61491570156' });
    expect(JSON.stringify(payload).length).toBeLessThan(1_000);
  });
});

describe('status, rule 1: an initiation failure', () => {
  it.each<[string, FailureEvent, string]>([
    ['failure "busy" → no answer', failure({ failure_reason: 'busy' }), 'no answer'],
    ['failure "no-answer" → no answer', failure({ failure_reason: 'no-answer' }), 'no answer'],
    ['failure "NO_ANSWER" → no answer', failure({ failure_reason: 'NO_ANSWER' }), 'no answer'],
    ['failure "unknown" → failed', failure({ failure_reason: 'unknown' }), 'failed'],
    ['failure with Twilio CallStatus "no-answer" → no answer', failure({ ...twilio({ CallStatus: 'no-answer' }) }), 'no answer'],
    ['failure with Twilio CallStatus "failed" → failed', failure({ ...twilio({ CallStatus: 'failed' }) }), 'failed'],
    ['failure_reason wins over CallStatus', failure({ failure_reason: 'busy', ...twilio({ CallStatus: 'failed' }) }), 'no answer'],
    ['a real Twilio "canceled" → failed', real<FailureEvent>(realInitiationFailure('canceled')), 'failed'],
  ])('%s', (_rule, event, expected) => {
    expect(toCrmPayload(event, config).status).toBe(expected);
  });
});

describe('status, rule 2: the platform reports the call as failed', () => {
  it.each<[string, TranscriptionEvent, string]>([
    ['status "failed" with an error object → failed', real(failedCall()), 'failed'],
    ['status "failed" without an error → failed', realWith({}, (d) => (d.status = 'failed')), 'failed'],
    [
      'an error object on a call marked done → failed',
      realWith({}, (d) => (d.metadata.error = { code: 1011, reason: 'Internal error' })),
      'failed',
    ],
    ['a string error → failed', real(failedCall('Internal error')), 'failed'],
    [
      'failed wins over a voicemail termination reason',
      realWith({}, (d) =>
        Object.assign(d, { status: 'failed', metadata: { ...d.metadata, termination_reason: 'voicemail_detection tool was called.' } }),
      ),
      'failed',
    ],
    ['failed wins over a silent call', realWith({ transcript: [turn.silence(2)] }, (d) => (d.status = 'failed')), 'failed'],
    ['a blank string error says nothing → held', realWith({}, (d) => (d.metadata.error = '  ')), 'held'],
    ['error null and status "done" → held', real(realCall()), 'held'],
    ['status "processing" is not a failure → held', realWith({}, (d) => (d.status = 'processing')), 'held'],
    ['call_successful "failure" is not a failure → held', realWith({}, (d) => (d.analysis.call_successful = 'failure')), 'held'],
  ])('%s', (_rule, event, expected) => {
    expect(toCrmPayload(event, config).status).toBe(expected);
  });
});

describe('status, rule 3: voicemail', () => {
  const voicemailTool = {
    role: 'agent',
    message: null,
    tool_results: [{ tool_name: 'voicemail_detection', result: { result_type: 'voicemail_detection_success', status: 'success' } }],
  };
  const voicemailToolText = {
    role: 'agent',
    message: '',
    tool_results: [{ tool_name: 'voicemail_detection', result_value: '{"result_type":"voicemail_detection_success"}' }],
  };
  const userSays = (...messages: string[]) =>
    realWith({ transcript: [turn.agent('Hi, this is Ava from Coastal Dental.', 0), ...messages.map((m, i) => turn.user(m, 2 + i))] });

  it.each<[string, TranscriptionEvent, string]>([
    [
      'termination_reason mentions voicemail → voicemail',
      transcription({ metadata: { call_duration_secs: 30, termination_reason: 'voicemail_detection tool was called.' } }),
      'voicemail',
    ],
    [
      'termination_reason "Voice mail" → voicemail',
      transcription({ metadata: { call_duration_secs: 30, termination_reason: 'Reached Voice Mail' } }),
      'voicemail',
    ],
    [
      'voicemail_detection_success tool result → voicemail',
      transcription({ transcript: [agentTurn, userTurn, voicemailTool] }),
      'voicemail',
    ],
    ['voicemail_detection_success in result_value → voicemail', transcription({ transcript: [voicemailToolText] }), 'voicemail'],
    [
      'a real voicemail_detection turn → voicemail',
      realWith({ transcript: [turn.agent('Hi.', 0), turn.user(GREETINGS.personal, 2), turn.voicemailDetected(9)] }),
      'voicemail',
    ],
    [
      'voicemail wins over a zero duration',
      transcription({ metadata: { call_duration_secs: 0, termination_reason: 'voicemail' } }),
      'voicemail',
    ],
    ...Object.entries(GREETINGS).map(([kind, greeting]): [string, TranscriptionEvent, string] => [
      `an answering machine (${kind}) → voicemail`,
      real(answeringMachineCall(greeting)),
      'voicemail',
    ]),
    [
      'greetings in several turns → voicemail',
      userSays('The person you are calling is not available.', 'Please leave your message after the beep.'),
      'voicemail',
    ],
    ['a greeting and silence ("...") → voicemail', userSays('...', GREETINGS.carrierAu, ' '), 'voicemail'],
    ['phrases match in any case and spacing', userSays('LEAVE   A MESSAGE'), 'voicemail'],
    ['"dialled" and "dialed" both', userSays('the number you have dialed is not connected'), 'voicemail'],
    ['a greeting, then the person picks up → held', userSays(GREETINGS.personal, 'Oh hi, sorry, I just got in. Who is this?'), 'held'],
    [
      'a person who mentions voicemail is still a person → held',
      userSays('Yes speaking.', 'I got your voicemail yesterday, thanks.'),
      'held',
    ],
    ['no greeting at all → held', userSays('Yes, speaking.'), 'held'],
  ])('%s', (_rule, event, expected) => {
    expect(toCrmPayload(event, config).status).toBe(expected);
  });
});

describe('status, rule 4: no answer', () => {
  it.each<[string, TranscriptionEvent, string]>([
    ['duration 0 → no answer', transcription({ metadata: { call_duration_secs: 0 } }), 'no answer'],
    ['no duration at all → no answer', transcription({ metadata: {} }), 'no answer'],
    ['under a second → no answer', transcription({ metadata: { call_duration_secs: 0.4 } }), 'no answer'],
    ['no user turn → no answer', transcription({ transcript: [agentTurn] }), 'no answer'],
    [
      'only empty user turns → no answer',
      transcription({ transcript: [agentTurn, { role: 'user', message: '  ' }, { role: 'user', message: null }] }),
      'no answer',
    ],
    ['only "..." user turns (a real silent call) → no answer', real(silentCall()), 'no answer'],
    [
      'punctuation is not words → no answer',
      realWith({ transcript: [turn.agent('Hello?', 0), turn.user('?!', 1), turn.user('…', 2), turn.user('—', 3)] }),
      'no answer',
    ],
    ['an empty list of turns is a list → no answer', realWith({ transcript: [] }), 'no answer'],
    [
      'termination_reason "no answer - timeout" → no answer',
      transcription({ metadata: { call_duration_secs: 30, termination_reason: 'no answer - timeout' } }),
      'no answer',
    ],
    [
      'call_successful "success" with no user turn → still no answer',
      transcription({ transcript: [agentTurn], analysis: { call_successful: 'success' } }),
      'no answer',
    ],
    ['a turn list wins over has_user_audio: false → held', realWith({}, (d) => (d.has_user_audio = false)), 'held'],
    ['a turn list with no words wins over has_user_audio: true → no answer', real(silentCall()), 'no answer'],
    [
      'a single digit is a word → held',
      realWith({ transcript: [turn.agent('Press 1 to confirm or say yes.', 0), turn.user('1', 4)] }),
      'held',
    ],
    ['a word in another script is a word → held', realWith({ transcript: [turn.agent('Hello?', 0), turn.user('是的', 2)] }), 'held'],
  ])('%s', (_rule, event, expected) => {
    expect(toCrmPayload(event, config).status).toBe(expected);
  });
});

describe('status when transcript is not a list of turns', () => {
  it.each<[string, TranscriptionEvent, string]>([
    // contract §5: an absent transcript no longer means "no answer" by itself.
    ['no transcript, user audio unknown → held', transcription({ transcript: null }), 'held'],
    ['no transcript, has_user_audio false → no answer', transcription({ transcript: null, has_user_audio: false }), 'no answer'],
    ['no transcript, has_user_audio true → held', transcription({ has_user_audio: true }), 'held'],
    ['an OpenTelemetry transcript, user audio kept → held', real(otelTranscriptCall({}, true)), 'held'],
    ['an OpenTelemetry transcript, has_user_audio false → no answer', real(otelTranscriptCall({}, false)), 'no answer'],
    [
      'a transcript object is not read as turns → held',
      transcription({ transcript: { role: 'user', message: 'leave a message after the beep' } }),
      'held',
    ],
    ['a transcript string → held', transcription({ transcript: 'agent: hello\nuser: hi' }), 'held'],
    ['still no answer at duration 0', real(otelTranscriptCall({ duration: 0 })), 'no answer'],
    [
      'still voicemail by termination reason',
      realWith({ transcript: { spans: [] } }, (d) => (d.metadata.termination_reason = 'voicemail_detection tool was called.')),
      'voicemail',
    ],
    [
      'still no answer by termination reason',
      realWith({ transcript: 42 }, (d) => (d.metadata.termination_reason = 'no answer - timeout')),
      'no answer',
    ],
  ])('%s', (_rule, event, expected) => {
    expect(toCrmPayload(event, config).status).toBe(expected);
  });
});

describe('status, rule 5: held', () => {
  const otherTool = {
    role: 'agent',
    message: 'ok',
    tool_results: [{ tool_name: 'end_call', result: { result_type: 'end_call_success' } }],
  };

  it.each<[string, TranscriptionEvent, string]>([
    ['a conversation → held', transcription({}), 'held'],
    ['a real conversation → held', real(realCall()), 'held'],
    [
      'unreadable transcript items are skipped → held',
      transcription({ transcript: ['junk', 7, null, [userTurn], agentTurn, userTurn] }),
      'held',
    ],
    [
      'unreadable tool results are skipped',
      transcription({ transcript: [{ role: 'agent', tool_results: [null, 'x', { result: 'voicemail' }] }, userTurn] }),
      'held',
    ],
    ['other tool results do not matter → held', transcription({ transcript: [agentTurn, userTurn, otherTool] }), 'held'],
    [
      '"Call ended by remote party" → held',
      transcription({ metadata: { call_duration_secs: 30, termination_reason: 'Call ended by remote party' } }),
      'held',
    ],
    ['call_successful "failure" never decides the status → held', transcription({ analysis: { call_successful: 'failure' } }), 'held'],
    ['a ~290 KB transcript → held', real(longCall()), 'held'],
  ])('%s', (_rule, event, expected) => {
    expect(toCrmPayload(event, config).status).toBe(expected);
  });
});
