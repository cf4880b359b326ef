/**
 * contract §4: an OpenTelemetry transcription read into the conversation model, one row per line
 * of §4's mapping table, with traces shaped like real 2026 deliveries (support/fixtures/otel-calls.ts);
 * then the event end to end into the §5 CRM record, exactly as a `post_call_transcription` would give.
 */
import { describe, expect, it } from 'vitest';
import { toCrmPayload } from '../../lambda/core/crm-payload';
import { CrmPayloadSchema } from '../../lambda/core/crm-payload-schema';
import { InvalidEventError } from '../../lambda/core/errors';
import { NOT_A_TURN_LIST, parseEvent, type TranscriptionData, type TranscriptionEvent } from '../../lambda/core/events';
import { conversationFromOtel } from '../../lambda/core/otel-trace';
import { type Attribute, answeredCallAttributes, attr, type OtelTurn, otelCall, otelTraces } from '../../support/fixtures/otel-calls';
import { FICTIONAL_NUMBERS, type Json, realCall } from '../../support/fixtures/real-calls';

const mapping = { defaultSubject: 'Conversational AI call', subjectsByAgent: {} };

function parsed(body: Json): TranscriptionEvent {
  const event = parseEvent(body);
  if (event.kind !== 'transcription') throw new Error(`expected a transcription, got ${event.type}`);
  return event;
}

const dataOf = (body: Json): TranscriptionData => parsed(body).data;
/** The answered call's root attributes with `key` replaced (or removed when `value` is undefined). */
function rootWith(key: string, value?: Attribute): Attribute[] {
  const others = answeredCallAttributes().filter((a) => a.key !== key);
  return value ? [...others, value] : others;
}

describe('conversationFromOtel: contract §4 mapping table', () => {
  it('reads a real-shaped answered call into the conversation model', () => {
    const data = dataOf(otelCall());
    expect(data).toMatchObject({
      conversation_id: 'conv_otel_01',
      agent_id: 'agent_otel_7f3c',
      status: 'done',
      metadata: {
        call_duration_secs: 84,
        termination_reason: 'end_call tool was called.',
        phone_call: { external_number: FICTIONAL_NUMBERS.mobile },
      },
      analysis: {
        transcript_summary: 'The caller booked an inspection for Saturday at 10am.',
        data_collection_results: { first_name: { value: 'Avery' }, last_name: { value: 'Quinn' } },
      },
      conversation_initiation_client_data: {
        dynamic_variables: { subject: 'Spring open homes', system__called_number: FICTIONAL_NUMBERS.mobile },
      },
    });
    expect(data.metadata?.error ?? undefined).toBeUndefined();
    expect(data.transcript).toEqual([
      { role: 'agent', message: 'Hi, this is Sam from Harbour Realty. Is this Avery?' },
      { role: 'user', message: 'Yes, speaking.' },
      { role: 'agent', message: 'Great. Would Saturday at 10 suit you for an inspection?' },
      { role: 'user', message: 'Saturday at 10 works.' },
    ]);
  });

  it.each<[string, Attribute | undefined, number | undefined]>([
    ['an intValue string, rounded down to whole seconds', attr.int('elevenlabs.session.duration_ms', '84999'), 84],
    ['an intValue number', { key: 'elevenlabs.session.duration_ms', value: { intValue: 1_500 } }, 1],
    ['a doubleValue', attr.num('elevenlabs.session.duration_ms', 12_345.6), 12],
    ['a numeric stringValue', attr.str('elevenlabs.session.duration_ms', '61000'), 61],
    ['absent: left missing for §5 (duration 0)', undefined, undefined],
    ['a non-numeric string: absent', attr.str('elevenlabs.session.duration_ms', 'about a minute'), undefined],
  ])('call_duration_secs from elevenlabs.session.duration_ms: %s', (_name, attribute, expected) => {
    const data = dataOf(otelCall({ root: rootWith('elevenlabs.session.duration_ms', attribute) }));
    expect(data.metadata?.call_duration_secs ?? undefined).toBe(expected);
  });

  it.each<[string, Json, Json]>([
    ['data ids win over the root span', { conversation_id: 'conv_data', agent_id: 'agent_data' }, { c: 'conv_data', a: 'agent_data' }],
    ['root span ids when data has none', { conversation_id: undefined, agent_id: undefined }, { c: 'conv_otel_01', a: 'agent_otel_7f3c' }],
  ])('ids: %s', (_name, ids, expected) => {
    const event = parsed(
      otelCall({}, (d) => {
        for (const [k, v] of Object.entries(ids)) if (v === undefined) delete d[k];
        Object.assign(d, Object.fromEntries(Object.entries(ids).filter(([, v]) => v !== undefined)));
      }),
    );
    expect([event.conversationId, event.agentId]).toEqual([expected.c, expected.a]);
  });

  it.each<[string, Attribute[], { status?: string; error?: unknown }]>([
    ['status done, no error reason', rootWith('elevenlabs.status', attr.str('elevenlabs.status', 'done')), { status: 'done' }],
    [
      'an error reason is metadata.error',
      rootWith('elevenlabs.error.reason', attr.str('elevenlabs.error.reason', 'SIP status: 486. Busy Here')),
      { status: 'done', error: { reason: 'SIP status: 486. Busy Here' } },
    ],
    ['status failed', rootWith('elevenlabs.status', attr.str('elevenlabs.status', 'failed')), { status: 'failed' }],
  ])('status and error: %s', (_name, root, expected) => {
    const data = dataOf(otelCall({ root }));
    expect(data.status).toBe(expected.status);
    expect(data.metadata?.error ?? undefined).toEqual(expected.error);
  });

  it('does not call a call failed because its root span status is ERROR (it marks any call not ended by the client)', () => {
    const event = parsed(otelCall({ rootStatusCode: 2 }));
    expect(event.data.metadata?.error ?? undefined).toBeUndefined();
    expect(toCrmPayload(event, mapping).status).toBe('held');
  });

  it.each<[string, OtelTurn[], { role: string; message: string }[]]>([
    [
      'ordered by elevenlabs.turn.index, whatever the span order',
      [
        { user: 'second', index: 1, at: 1 },
        { agent: 'first', index: 0, at: 5 },
      ],
      [
        { role: 'agent', message: 'first' },
        { role: 'user', message: 'second' },
      ],
    ],
    [
      'then by start time when the index is missing or equal',
      [
        { user: 'later', index: null, at: 9 },
        { agent: 'earlier', index: null, at: 2 },
      ],
      [
        { role: 'agent', message: 'earlier' },
        { role: 'user', message: 'later' },
      ],
    ],
    [
      "a span with both texts gives the user's turn first",
      [{ user: 'Is anyone there?', agent: 'Yes, hello!', index: 0, at: 1 }],
      [
        { role: 'user', message: 'Is anyone there?' },
        { role: 'agent', message: 'Yes, hello!' },
      ],
    ],
  ])('turns: %s', (_name, turns, expected) => {
    expect(dataOf(otelCall({ turns })).transcript).toEqual(expected);
  });

  it('marks a trace whose spans carry no turn as not a list of turns (contract §5 rules 3–4)', () => {
    expect(dataOf(otelCall({ turns: [] })).transcript).toBe(NOT_A_TURN_LIST);
  });

  it.each<[string, unknown]>([
    ['missing', undefined],
    ['null', null],
    ['an empty object', {}],
    ['resourceSpans not a list', { resourceSpans: 'x' }],
    ['spans of the wrong types', { resourceSpans: [null, 3, { scopeSpans: [{ spans: [null, 'x', { attributes: 'no' }] }] }] }],
  ])('a trace with no usable root span (%s) still yields a record from data', (_name, traces) => {
    const event = parsed(
      otelCall({}, (d) => {
        d.otlp_traces = traces;
        if (traces === undefined) delete d.otlp_traces;
      }),
    );
    expect(event.conversationId).toBe('conv_otel_01');
    const payload = toCrmPayload(event, mapping);
    expect(CrmPayloadSchema.parse(payload)).toEqual(payload);
    expect(payload).toMatchObject({ to: 'Unknown', name: 'Unknown', duration: 0, summary: 'No summary available.' });
  });

  it.each<[string, unknown]>([
    ['a string', 'resourceSpans'],
    ['a number', 7],
    ['a list', [{ resourceSpans: [] }]],
    ['a boolean', true],
  ])('refuses otlp_traces that is %s (400 like any invalid event)', (_name, traces) => {
    expect(() => parseEvent(otelCall({}, (d) => (d.otlp_traces = traces)))).toThrow(InvalidEventError);
    expect(() => parseEvent(otelCall({}, (d) => (d.otlp_traces = traces)))).toThrow('invalid event: data.otlp_traces');
  });

  it('refuses a trace with no conversation id anywhere', () => {
    const body = otelCall({ root: rootWith('elevenlabs.conversation_id') }, (d) => delete d.conversation_id);
    expect(() => parseEvent(body)).toThrow('invalid event: data.conversation_id: required');
  });

  it.each<[string, Json]>([
    ['an array value', { arrayValue: { values: [] } }],
    ['a kvlist value', { kvlistValue: { values: [] } }],
    ['bytes', { bytesValue: 'AAE=' }],
    ['a non-numeric intValue', { intValue: '12abc' }],
    ['no value', {}],
  ])('ignores an attribute whose value is %s', (_name, value) => {
    const root = [...rootWith('elevenlabs.termination_reason'), { key: 'elevenlabs.termination_reason', value } as unknown as Attribute];
    expect(dataOf(otelCall({ root })).metadata?.termination_reason ?? undefined).toBeUndefined();
  });

  it('keeps a dynamic variable named __proto__ as data, never as a prototype', () => {
    const root = [...answeredCallAttributes(), attr.str('elevenlabs.dynamic_variable.__proto__', 'polluted')];
    const model = conversationFromOtel({ otlp_traces: otelTraces({ root }) });
    const variables = (model.conversation_initiation_client_data as Json).dynamic_variables as Json;
    expect(Object.getPrototypeOf(variables)).toBe(Object.prototype);
    expect(Object.hasOwn(variables, '__proto__')).toBe(true);
    expect(({} as Json).polluted).toBeUndefined();
  });
});

describe('post_call_transcription_otel end to end: the same CRM record as the conversation model gives', () => {
  it('maps the answered call like the equivalent post_call_transcription', () => {
    const otel = toCrmPayload(parsed(otelCall()), mapping);
    expect(otel).toEqual({
      type: 'conversationAICall',
      subject: 'Spring open homes',
      to: FICTIONAL_NUMBERS.mobile,
      name: 'Avery Quinn',
      summary: 'The caller booked an inspection for Saturday at 10am.',
      status: 'held',
      duration: 84,
    });
    const model = parsed(
      realCall({}, (d) => {
        d.conversation_id = 'conv_otel_01';
        d.analysis.transcript_summary = otel.summary;
        d.metadata.call_duration_secs = 84;
        d.conversation_initiation_client_data.dynamic_variables.subject = otel.subject;
      }),
    );
    expect(toCrmPayload(model, mapping)).toMatchObject({ subject: otel.subject, status: 'held', duration: 84 });
  });

  it.each<[string, Attribute[], OtelTurn[], string]>([
    [
      'nobody said a word → no answer',
      answeredCallAttributes(),
      [
        { agent: 'Hello?', index: 0 },
        { user: '...', index: 1 },
      ],
      'no answer',
    ],
    [
      'an answering machine → voicemail',
      answeredCallAttributes(),
      [{ user: 'Hi, you have reached Avery. Please leave a message after the tone.', index: 0 }],
      'voicemail',
    ],
    [
      'the voicemail termination reason → voicemail',
      rootWith('elevenlabs.termination_reason', attr.str('elevenlabs.termination_reason', 'voicemail_detection tool was called.')),
      [],
      'voicemail',
    ],
    ['a failed call → failed', rootWith('elevenlabs.status', attr.str('elevenlabs.status', 'failed')), [], 'failed'],
    [
      'no turns and a zero duration → no answer',
      rootWith('elevenlabs.session.duration_ms', attr.int('elevenlabs.session.duration_ms', 0)),
      [],
      'no answer',
    ],
  ])('%s', (_name, root, turns, status) => {
    expect(toCrmPayload(parsed(otelCall({ root, turns })), mapping).status).toBe(status);
  });
});
