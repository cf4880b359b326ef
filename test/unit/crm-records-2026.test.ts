/**
 * contract §5 as SPEC v3 words it, for the calls real accounts made in 2026 (issue 17): SIP
 * outcomes, reason trimming, greetings in six more languages, call screeners, number fields.
 * One table per rule, rows built from real-shaped events (support/fixtures/real-calls-2026.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CrmMappingConfig, toCrmPayload } from '../../lambda/core/crm-payload';
import { CrmPayloadSchema } from '../../lambda/core/crm-payload-schema';
import { type FailureEvent, isSupported, parseEvent, type TranscriptionEvent } from '../../lambda/core/events';
import { BUILT_IN_GREETINGS, BUILT_IN_SCREENING_PROMPTS } from '../../lambda/core/speech-phrases';
import { collected, FICTIONAL_NUMBERS, failedCall, type Json, realCall, turn } from '../../support/fixtures/real-calls';
import {
  callHearing,
  collectedNumber,
  ENGLISH_GREETINGS_2026,
  FICTIONAL_NUMBERS_2026,
  GREETINGS_BY_LANGUAGE,
  llmCascadeErrorCall,
  rejectedOutboundCall,
  SCREENER_PROMPTS,
  sipInitiationFailure,
  sipTrunkCallWithoutDirection,
  twilioInitiationFailure,
  webConversation,
} from '../../support/fixtures/real-calls-2026';
import { clone } from '../../support/fixtures/samples';

const config: CrmMappingConfig = { defaultSubject: 'Conversational AI call', subjectsByAgent: {} };
const N = FICTIONAL_NUMBERS_2026;

type CrmEvent = TranscriptionEvent | FailureEvent;
const parsed = (body: Json): CrmEvent => parseEvent(clone(body)) as CrmEvent;
const payloadOf = (body: Json, mapping: CrmMappingConfig = config) => toCrmPayload(parsed(body), mapping);
const statusOf = (body: Json, mapping?: CrmMappingConfig) => payloadOf(body, mapping).status;

const UNANSWERED = [408, 480, 486, 487, 600, 603] as const;
/** The CRM's four statuses (seeds/crm-integration.md), written out here rather than imported. */
const CRM_STATUSES = ['held', 'no answer', 'voicemail', 'failed'];

describe('status rule 1: an initiation failure with an unanswered SIP outcome is "no answer"', () => {
  it.each(UNANSWERED)('SIP %i from each place the provider puts it', (code) => {
    // failure_reason "unknown": only the SIP outcome can make these "no answer".
    expect(statusOf(sipInitiationFailure(code, 'INVITE failed'))).toBe('no answer');
    expect(statusOf(twilioInitiationFailure('failed', String(code)))).toBe('no answer');
    const inReason = sipInitiationFailure(code, `INVITE failed: sip status: ${code}: Declined (SIP ${code})`);
    delete inReason.data.metadata.body.sip_status_code;
    expect(statusOf(inReason)).toBe('no answer');
  });

  it.each<[string, Json, string, string]>([
    [
      'the docs SIP body: busy and SIP 486',
      sipInitiationFailure(486, 'INVITE failed: sip status: 486: Busy here (SIP 486)', { failureReason: 'busy', sipStatus: 'Busy here' }),
      'no answer',
      'Call not connected: busy (SIP 486 Busy here).',
    ],
    [
      'a declined call reported as "unknown"',
      sipInitiationFailure(603, 'INVITE failed: sip status: 603: Decline', { sipStatus: 'Decline' }),
      'no answer',
      'Call not connected: unknown (SIP 603 Decline).',
    ],
    [
      'a code only in the error reason is named in the summary',
      (() => {
        const event = sipInitiationFailure(480, 'INVITE failed: SIP status: 480 Temporarily Unavailable');
        delete event.data.metadata.body.sip_status_code;
        return event;
      })(),
      'no answer',
      'Call not connected: unknown (SIP 480).',
    ],
    [
      'Twilio "failed" with SipResponseCode 487 (cancelled)',
      twilioInitiationFailure('failed', '487'),
      'no answer',
      'Call not connected: failed (SIP 487).',
    ],
    [
      'SIP 503 (a trunk fault) stays failed',
      sipInitiationFailure(503, 'INVITE failed: sip status: 503'),
      'failed',
      'Call not connected: unknown (SIP 503).',
    ],
    [
      'SIP 404 (no such number) stays failed',
      sipInitiationFailure(404, 'SIP 404 Not Found'),
      'failed',
      'Call not connected: unknown (SIP 404).',
    ],
    ['Twilio 500 stays failed', twilioInitiationFailure('failed', '500'), 'failed', 'Call not connected: failed (SIP 500).'],
    [
      'a failure reason with trailing punctuation is trimmed',
      sipInitiationFailure(486, 'x', { failureReason: 'busy. ' }),
      'no answer',
      'Call not connected: busy (SIP 486).',
    ],
  ])('%s', (_case, body, status, summary) => {
    expect(payloadOf(body)).toMatchObject({ status, summary, duration: 0 });
  });
});

describe('status rule 2: a failed transcription with an unanswered SIP outcome is "no answer"', () => {
  it.each(UNANSWERED)('SIP %i in metadata.error.code, as a number or a string', (code) => {
    expect(statusOf(rejectedOutboundCall({ code, reason: 'Call rejected' }))).toBe('no answer');
    expect(statusOf(rejectedOutboundCall({ code: String(code), reason: 'Call rejected' }))).toBe('no answer');
  });

  it.each(UNANSWERED)('SIP %i in the error reason, message or string', (code) => {
    for (const error of [
      { code: 1002, reason: `SIP status: ${code}. Declined` },
      { code: 1002, reason: `Outbound call failed (SIP ${code})` },
      { message: `sip status: ${code}: Busy` },
      `SIP ${code} from the carrier`,
    ]) {
      expect(statusOf(rejectedOutboundCall(error))).toBe('no answer');
    }
  });

  it.each<[string, Json, string, string]>([
    ['the real rejected outbound call', rejectedOutboundCall(), 'no answer', 'Call not connected: SIP status: 603. Network Blocked.'],
    [
      'the reason is trimmed the same way',
      rejectedOutboundCall({ code: 486, reason: 'SIP status: 486. Busy Here. ' }),
      'no answer',
      'Call not connected: SIP status: 486. Busy Here.',
    ],
    [
      'an unanswered code with no reason anywhere: "unknown error"',
      rejectedOutboundCall({ code: 480 }, {}),
      'no answer',
      'Call not connected: unknown error.',
    ],
    ['a 1011 LLM error is a failure', llmCascadeErrorCall(), 'failed', 'Call failed: LLM Cascade Error.'],
    [
      'SIP 503 is a failure',
      rejectedOutboundCall({ code: 503, reason: 'SIP status: 503. Service Unavailable' }),
      'failed',
      'Call failed: SIP status: 503. Service Unavailable.',
    ],
    [
      'a number that is not a SIP status is not read as one',
      rejectedOutboundCall({ code: 1011, reason: 'Timed out after 486 ms' }),
      'failed',
      'Call failed: Timed out after 486 ms.',
    ],
    [
      '"SIP" inside a word is not a SIP status',
      rejectedOutboundCall({ code: 1011, reason: 'Gossip 603 detected' }),
      'failed',
      'Call failed: Gossip 603 detected.',
    ],
    [
      'status "failed" without an error stays failed',
      realCall({}, (d) => (d.status = 'failed')),
      'failed',
      'Call failed: end_call tool was called.',
    ],
  ])('%s', (_case, body, status, summary) => {
    expect(payloadOf(body)).toMatchObject({ status, summary });
  });

  it('rule 2 comes before voicemail and silence', () => {
    const body = rejectedOutboundCall({ code: 603, reason: 'SIP 603' }, { transcript: [turn.user(GREETINGS_BY_LANGUAGE.es.accented, 1)] });
    body.data.metadata.termination_reason = 'voicemail_detection tool was called.';
    expect(payloadOf(body)).toMatchObject({ status: 'no answer', summary: 'Call not connected: SIP 603.' });
  });
});

describe('summary: the reason loses its trailing run of whitespace . : ; , before the one final period', () => {
  it.each<[string, unknown, string]>([
    ['a trailing colon and blank', { code: 1011, reason: 'LLM Cascade Error: ' }, 'Call failed: LLM Cascade Error.'],
    ['any mix of the five', { reason: 'Error: . ' }, 'Call failed: Error.'],
    ['semicolons and commas', { reason: 'Upstream closed;, ;' }, 'Call failed: Upstream closed.'],
    ['tabs and newlines', { reason: 'Quota exceeded.\n\t' }, 'Call failed: Quota exceeded.'],
    ['punctuation inside stays', { reason: 'SIP status: 603. Network Blocked' }, 'Call not connected: SIP status: 603. Network Blocked.'],
    ['other final punctuation stays', { reason: 'Is the agent configured?' }, 'Call failed: Is the agent configured?.'],
    ['a reason empty after trimming: the message', { reason: ' :. ', message: 'Stream closed' }, 'Call failed: Stream closed.'],
    ['all empty: the termination reason', { reason: '...', message: ';' }, 'Call failed: Error occurred.'],
    ['a string error of punctuation only: the termination reason', ' ; ', 'Call failed: Error occurred.'],
    ['a long run of trailing characters', { reason: `Stream reset${'. :'.repeat(20_000)}` }, 'Call failed: Stream reset.'],
    [
      'a long run of those characters in the middle',
      { reason: `Stream${' .'.repeat(20_000)}reset` },
      `Call failed: Stream${' .'.repeat(20_000)}reset.`,
    ],
  ])('%s', (_case, error, summary) => {
    expect(payloadOf(failedCall(error)).summary).toBe(summary.length > 20_000 ? `${summary.slice(0, 19_999)}…` : summary);
  });

  it('falls through to "unknown error" when the termination reason is punctuation too', () => {
    const body = failedCall({ reason: '. ' });
    body.data.metadata.termination_reason = ' . ';
    expect(payloadOf(body).summary).toBe('Call failed: unknown error.');
  });
});

describe('status rule 3: greetings in every built-in language', () => {
  const languages = Object.entries(GREETINGS_BY_LANGUAGE);

  it.each(languages)('%s, as speech-to-text writes it (accents, curly apostrophes) → voicemail', (_language, greeting) => {
    expect(statusOf(callHearing([greeting.accented]))).toBe('voicemail');
  });

  it.each(languages)('%s, without accents in capitals → voicemail', (_language, greeting) => {
    expect(statusOf(callHearing([greeting.plain]))).toBe('voicemail');
  });

  it.each(languages)('%s, decomposed (NFD, as some engines send accents) → voicemail', (_language, greeting) => {
    expect(statusOf(callHearing([greeting.accented.normalize('NFD')]))).toBe('voicemail');
  });

  it.each(languages)('%s greeting, then the contact picks up → held', (_language, greeting) => {
    expect(statusOf(callHearing([greeting.accented, 'Sí, perdón, ¿quién habla?']))).toBe('held');
  });

  // Each message holds one phrase only, and that phrase has an accent: nothing else can match.
  it.each<[string, string]>([
    ['es', 'Lo siento, Andrés no está disponible.'],
    ['es', 'Ha llegado al buzón de voz.'],
    ['es', 'Hable después del tono.'],
    ['es', 'Mariana no se encuentra disponible.'],
    ['fr', 'Parlez après le bip.'],
    ['fr', 'Parlez après le signal sonore.'],
    ['fr', 'Camille n’est pas disponible.'],
    ['it', 'Il numero non è raggiungibile.'],
    ['it', 'Il cliente non è al momento raggiungibile.'],
    ['pt', 'Fale após o sinal.'],
  ])('%s: an accented phrase alone, %j → voicemail', (_language, message) => {
    expect(statusOf(callHearing([message]))).toBe('voicemail');
  });

  it.each(Object.entries(ENGLISH_GREETINGS_2026))('English greeting the v2 list missed (%s) → voicemail', (_kind, greeting) => {
    expect(statusOf(callHearing([greeting]))).toBe('voicemail');
  });

  it.each(BUILT_IN_GREETINGS)('every built-in greeting matches on its own in a sentence: %j', (phrase) => {
    expect(statusOf(callHearing([`Hello. ${phrase.toUpperCase()}, thanks.`]))).toBe('voicemail');
  });

  it.each<[string, string]>([
    ['isn’t available', 'Sorry, Dev isn’t available.'],
    ['can’t take your call', 'I can‘t take your call.'],
    ['n’est pas disponible', 'Camille n’est pas disponible.'],
    ['you’re calling', 'The person you’re calling is busy.'],
    ['a modifier-letter apostrophe', 'Dev isnʼt available.'],
    ['a typed acute accent', 'Dev isn´t available.'],
    ['a fullwidth apostrophe', 'Dev isn＇t available.'],
    ['non-breaking and repeated spaces', 'Leave\u00a0a \t  message,\nplease.'],
    ['fullwidth letters (NFKD compatibility)', 'Ｌｅａｖｅ ａ ｍｅｓｓａｇｅ'],
    ['a dotted capital I', 'MAİLBOX FULL'],
  ])('curly apostrophes and odd spacing: %s → voicemail', (_case, message) => {
    expect(statusOf(callHearing([message]))).toBe('voicemail');
  });

  // Phrases match whole words only: the character on each side, if any, is not a letter or digit.
  it.each<[string, string]>([
    ['"at the tone" inside "what the tone"', 'I asked what the tone of the letter was.'],
    ['"at the tone" before more letters', 'Look at the toner cartridge.'],
    ['"is unavailable" inside "this unavailable"', 'Thisis unavailable.'],
    ['"after the beep" inside "after the beeping"', 'It stopped after the beeping ended.'],
    ['"voicemail" inside "voicemails"', 'I left you two voicemails.'],
    ['"mailbox" inside "mailboxes"', 'We sell mailboxes.'],
    ['"na de piep" inside "na de piepjes"', 'Ja, na de piepjes.'],
    ['a digit on the edge', 'Leave a message2'],
  ])('no match: %s → held', (_case, message) => {
    expect(statusOf(callHearing([message]))).toBe('held');
  });

  // The expression groups phrases under shared lookarounds; backtracking into the group must
  // still find a later, whole-word occurrence after an earlier one fails its boundary.
  it.each<[string, string]>([
    ['"at the tone" after "what the tone"', 'What the tone? At the tone, speak.'],
    ['"mailbox" after "mailboxes"', 'Two mailboxes, one mailbox.'],
    ['a phrase after a longer phrase that shares its start fails', 'Leave your messages … leave your name.'],
  ])('a later whole-word match counts: %s → voicemail', (_case, message) => {
    expect(statusOf(callHearing([message]))).toBe('voicemail');
  });

  it('a greeting with silence around it → voicemail', () => {
    expect(statusOf(callHearing(['...', GREETINGS_BY_LANGUAGE.de.accented, '…']))).toBe('voicemail');
  });
});

describe('status rules 3 and 4: call screeners are never the contact', () => {
  it.each<[string, string[], string]>([
    ['a screener alone → no answer', [SCREENER_PROMPTS.google], 'no answer'],
    ['a screener, then silence → no answer', [SCREENER_PROMPTS.recordYourName, '...', SCREENER_PROMPTS.stayOnTheLine], 'no answer'],
    ['"call assist" → no answer', [SCREENER_PROMPTS.callAssist], 'no answer'],
    // The Google prompt also says "the person you're calling", and the second "after the tone":
    // a message with a screening phrase is a screening prompt even with a greeting phrase in it.
    ['a screening prompt that also has a greeting phrase is a screening prompt', [SCREENER_PROMPTS.recordYourName], 'no answer'],
    ['a screener, then a machine greeting → voicemail', [SCREENER_PROMPTS.google, GREETINGS_BY_LANGUAGE.pt.accented], 'voicemail'],
    ['a screener, then the contact → held', [SCREENER_PROMPTS.stayOnTheLine, 'Hi, this is Priya. Who is calling?'], 'held'],
    ['the contact, then a screener → held', ['Hello?', SCREENER_PROMPTS.google], 'held'],
    ['screening prompts in capitals, curly apostrophes', ['HI, THE PERSON YOU’RE CALLING IS USING A SCREENING SERVICE.'], 'no answer'],
  ])('%s', (_case, messages, expected) => {
    expect(statusOf(callHearing(messages))).toBe(expected);
  });

  it.each(BUILT_IN_SCREENING_PROMPTS)('every built-in screening prompt on its own → no answer: %j', (phrase) => {
    expect(statusOf(callHearing([`Hello, ${phrase}, please.`]))).toBe('no answer');
  });

  it('the v2 rules took the screener for the contact: the call was "held" though nobody came on', () => {
    const body = callHearing([SCREENER_PROMPTS.google]);
    expect(body.data.metadata.call_duration_secs).toBeGreaterThan(0);
    expect(statusOf(body)).toBe('no answer');
  });
});

describe('CRM_VOICEMAIL_PHRASES: greeting phrases added to the built-in ones', () => {
  const withPhrases = (voicemailPhrases: readonly string[]): CrmMappingConfig => ({ ...config, voicemailPhrases });

  it.each<[string, readonly string[], string, string]>([
    [
      'a configured phrase makes a greeting',
      ['please call the front desk'],
      'The office is closed, please call the front desk.',
      'voicemail',
    ],
    ['without it the same message is the contact', [], 'The office is closed, please call the front desk.', 'held'],
    ['configured with accents, heard without', ['Buzón personal'], 'BUZON PERSONAL DE ANDRES', 'voicemail'],
    ['configured without accents, heard with', ['Mensagem gravada'], 'Esta é uma mensagem gravada.', 'voicemail'],
    ['configured with a curly apostrophe', ['l’abonné est absent'], "L'abonné est absent.", 'voicemail'],
    ['the built-ins still apply', ['please call the front desk'], GREETINGS_BY_LANGUAGE.nl.accented, 'voicemail'],
    ['whole words for configured phrases too', ['front desk'], 'The frontdesk is open.', 'held'],
    ['a phrase in a script without spaces matches inside a sentence', ['请留言'], '您好，您拨打的用户暂时无法接通请留言', 'voicemail'],
    [
      'spaced and unspaced phrases together: the spaced one keeps its boundaries',
      ['请留言', 'front desk'],
      'The frontdesk is open.',
      'held',
    ],
    ['spaced and unspaced phrases together: the unspaced one needs none', ['front desk', '请留言'], '您好请留言谢谢', 'voicemail'],
    ['a phrase unspaced at its end only', ['front desk 留言'], 'Xfront desk 留言', 'held'],
    ['a phrase unspaced at its end only, heard whole', ['front desk 留言'], '您好 front desk 留言谢谢', 'voicemail'],
    ['a screener still wins over a configured phrase', ['reason for calling'], SCREENER_PROMPTS.google, 'no answer'],
  ])('%s', (_case, phrases, message, expected) => {
    expect(statusOf(callHearing([message]), withPhrases(phrases))).toBe(expected);
  });
});

describe('to: number fields, then the failure body; never the agent line', () => {
  const dcNumber = (id: string, value: unknown) => ({
    [id]: typeof value === 'number' ? collectedNumber(id, value) : collected(id, value),
  });

  it.each<[string, Json, string]>([
    ['a web chat: customer_phone in the dynamic variables', webConversation({ customer_phone: '0491 570 158' }), N.otherMobile],
    ['a data-collection phone_number as a JSON integer', webConversation({}, dcNumber('phone_number', 61491570159)), '+61491570159'],
    ['a JSON integer that lost its leading 0', webConversation({}, dcNumber('mobile', 491570158)), N.otherMobile],
    ['a number variable as a JSON number', webConversation({ contact_number: 61491570156 }), N.mobile],
    ['keys match like name fields', webConversation({ 'Customer Phone': '+61 491 570 156' }), N.mobile],
    ['"Mobile-Number" in data collection', webConversation({}, dcNumber('Mobile-Number', '0491570158')), N.otherMobile],
    ['the list order wins, not the payload order', webConversation({ mobile: '0491 570 158', phone: '0491 570 156' }), N.mobile],
    ['a blank field is skipped for the next', webConversation({ phone: ' ', caller_phone: '0491 570 158' }), N.otherMobile],
    [
      'dynamic variables before data collection',
      webConversation({ mobile_number: '0491 570 156' }, dcNumber('phone', '0491 570 158')),
      N.mobile,
    ],
    [
      'data collection when the variables have none',
      webConversation({ campaign: 'x' }, dcNumber('contact_phone', '0491 570 158')),
      N.otherMobile,
    ],
    [
      'system variables before number fields',
      realCall({ direction: 'inbound', contactNumber: ' ', variables: { customer_phone: N.otherMobile } }, (d) => {
        d.metadata.phone_call.external_number = null;
        d.conversation_initiation_client_data.dynamic_variables.system__caller_id = N.mobile;
      }),
      N.mobile,
    ],
    ['external_number before everything', realCall({ variables: { phone: N.otherMobile } }), N.mobile],
    [
      'a field that is not a number: "Unknown", not a later field',
      webConversation({ phone: 'ask reception', mobile: N.mobile }),
      'Unknown',
    ],
    ['nothing anywhere: "Unknown"', webConversation(), 'Unknown'],
  ])('%s', (_case, body, expected) => {
    expect(payloadOf(body).to).toBe(expected);
  });

  it.each<[string, Json, string]>([
    [
      'a failure: a number variable before Twilio To',
      (() => {
        const event = twilioInitiationFailure('busy', '486');
        event.data.metadata.body.To = N.northAmerica;
        event.data.conversation_initiation_client_data.dynamic_variables.customer_phone = '0491 570 158';
        return event;
      })(),
      N.otherMobile,
    ],
    ['a failure: Twilio To when nothing else', twilioInitiationFailure('busy', '486'), N.mobile],
    ['a SIP failure: system__called_number', sipInitiationFailure(486, 'SIP 486'), N.mobile],
  ])('%s', (_case, body, expected) => {
    expect(payloadOf(body).to).toBe(expected);
  });

  it.each<[string, Json, string]>([
    ['a SIP trunk with no direction: the caller id is the agent line, so the called number', sipTrunkCallWithoutDirection(), N.colombia],
    ['a SIP URI of the contact on that trunk', sipTrunkCallWithoutDirection(N.colombiaSip), N.colombia],
    [
      'an external number that is the agent line (written differently) is skipped',
      realCall({ contactNumber: '(02) 5550 9876', variables: { customer_phone: '0491 570 158' } }),
      N.otherMobile,
    ],
    [
      'without phone metadata there is no agent line: a field with that number counts',
      webConversation({ phone: FICTIONAL_NUMBERS.agentLine }, dcNumber('phone', '0491 570 158')),
      FICTIONAL_NUMBERS.agentLine,
    ],
    [
      'with phone metadata, a number field equal to agent_number is skipped',
      realCall({ contactNumber: '', variables: { phone: '+61 2 5550 9876' }, dataCollection: dcNumber('mobile', 491570158) }, (d) => {
        d.conversation_initiation_client_data.dynamic_variables.system__called_number = '';
      }),
      N.otherMobile,
    ],
    [
      'only the agent line anywhere: "Unknown"',
      realCall({ contactNumber: FICTIONAL_NUMBERS.agentLine }, (d) => {
        d.conversation_initiation_client_data.dynamic_variables.system__called_number = FICTIONAL_NUMBERS.agentLine;
      }),
      'Unknown',
    ],
  ])('agent_number: %s', (_case, body, expected) => {
    expect(payloadOf(body).to).toBe(expected);
  });

  it.each<[string, readonly string[], Json, string]>([
    [
      'CRM_NUMBER_FIELDS replaces the list',
      ['lead_phone'],
      webConversation({ phone: N.mobile, 'Lead Phone': '0491 570 158' }),
      N.otherMobile,
    ],
    ['the default fields no longer count', ['lead_phone'], webConversation({ phone: N.mobile }), 'Unknown'],
    [
      'its order is the order that wins',
      ['work_phone', 'home_phone'],
      webConversation({ home_phone: N.mobile, work_phone: '0491 570 158' }),
      N.otherMobile,
    ],
    ['in data collection too', ['whatsapp'], webConversation({}, dcNumber('WhatsApp', 61491570159)), '+61491570159'],
  ])('%s', (_case, numberFields, body, expected) => {
    expect(payloadOf(body, { ...config, numberFields }).to).toBe(expected);
  });
});

describe('property: toCrmPayload yields one of the four statuses and fits the schema, whatever the 2026 shapes hold', () => {
  const phrases = [...BUILT_IN_GREETINGS, ...BUILT_IN_SCREENING_PROMPTS, ...Object.values(SCREENER_PROMPTS)];
  const messageArb = fc.oneof(
    fc.constantFrom(...phrases, '...', '', 'Yes, speaking.', GREETINGS_BY_LANGUAGE.fr.accented),
    fc.string({ maxLength: 40 }),
    fc.tuple(fc.constantFrom(...phrases), fc.string({ maxLength: 8 })).map(([p, s]) => `${s}${p}${s}`),
  );
  const errorArb = fc.oneof(
    fc.constant(null),
    fc.string({ maxLength: 30 }),
    fc.record({
      code: fc.oneof(fc.constantFrom(...UNANSWERED, 503, 1011), fc.integer(), fc.string({ maxLength: 4 })),
      reason: fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('SIP status: 603. ', 'SIP 486', ' ;. ')),
    }),
  );
  const numberArb = fc.oneof(
    fc.constantFrom(N.mobile, N.agentLine, '0491 570 158', N.colombiaSip),
    fc.integer(),
    fc.string({ maxLength: 16 }),
  );
  const bodyArb = fc
    .record({
      kind: fc.constantFrom('call', 'rejected', 'web', 'sip-failure', 'twilio-failure'),
      messages: fc.array(messageArb, { maxLength: 5 }),
      error: errorArb,
      status: fc.constantFrom('done', 'failed', 'processing'),
      number: numberArb,
      code: fc.oneof(fc.constantFrom(...UNANSWERED), fc.integer({ min: 100, max: 699 })),
      duration: fc.oneof(fc.constant(0), fc.integer({ min: -5, max: 100_000 })),
    })
    .map(({ kind, messages, error, status, number, code, duration }) => {
      if (kind === 'sip-failure') return sipInitiationFailure(code, `SIP status: ${code}`);
      if (kind === 'twilio-failure') return twilioInitiationFailure('failed', String(code));
      const body = kind === 'web' ? webConversation({ phone: number }, { mobile: collected('mobile', number) }) : callHearing(messages);
      if (kind === 'rejected') Object.assign(body.data, { status, metadata: { ...body.data.metadata, error } });
      body.data.metadata.call_duration_secs = duration;
      return body;
    });

  it('holds for arbitrary mixes (fixed seed)', () => {
    let mapped = 0;
    fc.assert(
      fc.property(bodyArb, fc.constantFrom(undefined, ['buzon personal', 'front desk']), (body, voicemailPhrases) => {
        const event = parseEvent(JSON.parse(JSON.stringify(body)));
        if (!isSupported(event) || event.type === 'post_call_audio') return;
        const payload = toCrmPayload(event, { ...config, voicemailPhrases });
        expect(CRM_STATUSES).toContain(payload.status);
        expect(CrmPayloadSchema.safeParse(payload).success).toBe(true);
        mapped += 1;
      }),
      { seed: 20_260_417, numRuns: 100 },
    );
    expect(mapped).toBe(100);
  });
});
