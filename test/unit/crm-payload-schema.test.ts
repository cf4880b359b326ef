/**
 * contract §5 bounds: one schema for the CRM payload, the helpers that fit values to it, and the
 * property that whatever the receiver builds, the retry worker reads back unchanged.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toCrmPayload } from '../../lambda/core/crm-payload';
import {
  CRM_TEXT_LIMITS,
  CrmPayloadSchema,
  ELLIPSIS,
  fitDuration,
  fitText,
  MAX_CALL_DURATION_SECS,
} from '../../lambda/core/crm-payload-schema';
import { type FailureEvent, isSupported, parseEvent, type TranscriptionEvent } from '../../lambda/core/events';
import { parseRetryMessage } from '../../lambda/core/retry-message';
import {
  answeringMachineCall,
  collected,
  failedCall,
  GREETINGS,
  type Json,
  otelTranscriptCall,
  realCall,
  realInitiationFailure,
  silentCall,
  turn,
} from '../../support/fixtures/real-calls';
import { binaryString } from '../helpers/binary-string';

const SEED = 20261125;

const valid = {
  type: 'conversationAICall',
  subject: 's',
  to: '+61491570156',
  name: 'n',
  summary: 'x',
  status: 'held',
  duration: 1,
} as const;

describe('CrmPayloadSchema', () => {
  it.each<[string, Record<string, unknown>]>([
    ['a 201-character subject', { subject: 'x'.repeat(201) }],
    ['a 201-character name', { name: 'x'.repeat(201) }],
    ['a 33-character to', { to: '+'.padEnd(33, '1') }],
    ['a 20,001-character summary', { summary: 'x'.repeat(20_001) }],
    ['a fractional duration', { duration: 1.5 }],
    ['a negative duration', { duration: -1 }],
    ['a duration over a day', { duration: MAX_CALL_DURATION_SECS + 1 }],
    ['an unknown status', { status: 'busy' }],
    ['another type', { type: 'call' }],
    ['an extra field', { extra: 1 }],
  ])('refuses %s', (_case, change) => {
    expect(CrmPayloadSchema.safeParse({ ...valid, ...change }).success).toBe(false);
  });

  it('accepts values exactly at their bounds', () => {
    const atBounds = {
      ...valid,
      subject: 'x'.repeat(CRM_TEXT_LIMITS.subject),
      name: 'x'.repeat(CRM_TEXT_LIMITS.name),
      to: '1'.repeat(CRM_TEXT_LIMITS.to),
      summary: 'x'.repeat(CRM_TEXT_LIMITS.summary),
      duration: MAX_CALL_DURATION_SECS,
    };
    expect(CrmPayloadSchema.parse(atBounds)).toEqual(atBounds);
  });

  it("is the retry worker's schema too: an over-long payload in a queue message is fitted, not refused", () => {
    const message = {
      crmPayload: { ...valid, summary: 'x'.repeat(20_001) },
      eventType: 'post_call_transcription',
      conversationId: 'c',
      attempts: 3,
      lastError: 'HTTP 503',
      firstAttemptAt: '2025-11-22T08:14:20.000Z',
    };
    const read = parseRetryMessage(JSON.stringify(message));
    expect(read?.fitted).toEqual(['summary']);
    expect(CrmPayloadSchema.parse(read?.message.crmPayload).summary).toHaveLength(CRM_TEXT_LIMITS.summary);
    expect(parseRetryMessage(JSON.stringify({ ...message, crmPayload: valid }))).toEqual({
      message: { ...message, crmPayload: valid },
      fitted: [],
    });
  });
});

describe('fitText', () => {
  it.each<[string, string, number, string]>([
    ['within the bound: unchanged', 'Priya Raman', 200, 'Priya Raman'],
    ['exactly the bound: unchanged', 'abcde', 5, 'abcde'],
    ['one over: cut with …', 'abcdef', 5, 'abcd…'],
    ['whitespace before the … goes', 'abc  defgh', 6, 'abc…'],
    ['a surrogate pair is never split', 'ab🙂cd', 4, 'ab…'],
    ['a pair that fits stays whole', 'a🙂bcdef', 5, 'a🙂b…'],
    ['a bound of 1 is just …', 'abc', 1, '…'],
  ])('%s', (_case, value, max, expected) => {
    expect(fitText(value, max)).toBe(expected);
  });

  it('always fits, ends with … when cut, keeps a prefix and never leaves half a pair', () => {
    fc.assert(
      fc.property(binaryString({ maxLength: 400 }), fc.integer({ min: 1, max: 300 }), (value, max) => {
        const fitted = fitText(value, max);
        expect(fitted.length).toBeLessThanOrEqual(max);
        if (value.length <= max) {
          expect(fitted).toBe(value);
          return;
        }
        expect(fitted.endsWith(ELLIPSIS)).toBe(true);
        const kept = fitted.slice(0, -ELLIPSIS.length);
        expect(value.startsWith(kept)).toBe(true);
        const last = kept.charCodeAt(kept.length - 1);
        const next = value.charCodeAt(kept.length);
        const splitPair = last >= 0xd800 && last <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
        expect(splitPair).toBe(false);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe('fitDuration', () => {
  it.each<[unknown, number]>([
    [42, 42],
    [22.9, 22],
    [0.5, 0],
    [0, 0],
    [-0, 0],
    [-7, 0],
    [Number.NaN, 0],
    [Number.POSITIVE_INFINITY, MAX_CALL_DURATION_SECS],
    [86_400.7, MAX_CALL_DURATION_SECS],
    [1e12, MAX_CALL_DURATION_SECS],
    ['42', 0],
    [undefined, 0],
  ])('%j → %j', (value, expected) => {
    expect(Object.is(fitDuration(value), expected)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------
// Property: any event the schema accepts maps to a payload the schema accepts, and that
// payload survives the retry queue (JSON.stringify → parseRetryMessage) unchanged.

/** Text the CRM may choke on: control characters, lone surrogates, emoji, very long values. */
const textArb = fc.oneof(
  binaryString({ maxLength: 60 }),
  fc.string({ unit: 'grapheme', minLength: 180, maxLength: 260 }),
  // Around the 20,000-character summary bound: a random piece repeated to a random length (the
  // characters at the cut are as random as in a fully random string, at a fraction of the cost).
  fc
    .tuple(binaryString({ minLength: 1, maxLength: 40 }), fc.integer({ min: 19_990, max: 20_020 }))
    .map(([piece, length]) => piece.repeat(Math.ceil(length / piece.length)).slice(0, length)),
  fc.constantFrom('', '   ', '...', '…', '🙂'.repeat(120), 'é'.repeat(30_000), ...Object.values(GREETINGS)),
);
const numberLikeArb = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e15 }),
  fc.integer({ min: -10, max: 200_000 }),
  fc.constantFrom('42', '22.6', '-3', '1e9', '86401'),
);
const phoneArb = fc.oneof(
  fc.constantFrom(
    '+61491570156',
    '0491 570 157',
    'tel:+61-491-570-158',
    'sip:+61491570156@trunk.example.com;transport=tls',
    'sip:alice@pbx',
    '12345',
    '+266696687',
    'anonymous',
  ),
  fc.stringMatching(/^\+?[0-9 ().-]{0,24}$/),
);
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  textArb,
  numberLikeArb,
  phoneArb,
  fc.jsonValue({ maxDepth: 2 }),
  fc.boolean(),
  fc.constant(null),
);
const transcriptArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.array(
    fc.oneof(
      textArb.map((m) => turn.user(m)),
      textArb.map((m) => turn.agent(m)),
      fc.constant(turn.silence()),
      fc.constant(turn.voicemailDetected()),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    { maxLength: 8 },
  ),
  fc.jsonValue({ maxDepth: 2 }),
);

/** Where a value may land in an event (paths under the body). */
const PATHS = [
  'data.status',
  'data.metadata.error',
  'data.metadata.call_duration_secs',
  'data.call_duration_secs',
  'data.metadata.termination_reason',
  'data.metadata.phone_call',
  'data.metadata.phone_call.external_number',
  'data.metadata.phone_call.direction',
  'data.analysis',
  'data.analysis.transcript_summary',
  'data.analysis.data_collection_results.first_name',
  'data.analysis.data_collection_results.First Name',
  'data.analysis.data_collection_results.user_name',
  'data.conversation_initiation_client_data.dynamic_variables.name',
  'data.conversation_initiation_client_data.dynamic_variables.caller_name',
  'data.conversation_initiation_client_data.dynamic_variables.subject',
  'data.conversation_initiation_client_data.dynamic_variables.system__called_number',
  'data.conversation_initiation_client_data.dynamic_variables.system__call_duration_secs',
  'data.has_user_audio',
  'data.agent_name',
  'data.failure_reason',
  'data.metadata.body.To',
  'data.metadata.body.CallStatus',
  'data.metadata.body.sip_status',
] as const;

function setPath(body: Json, path: string, value: unknown): void {
  const keys = path.split('.');
  let target: any = body;
  for (const key of keys.slice(0, -1)) {
    if (typeof target[key] !== 'object' || target[key] === null || Array.isArray(target[key])) target[key] = {};
    target = target[key];
  }
  target[keys.at(-1)!] = value;
}

const BASES: Record<string, () => Json> = {
  held: () => realCall(),
  machine: () => answeringMachineCall(),
  silent: () => silentCall(),
  failed: () => failedCall(),
  otel: () => otelTranscriptCall(),
  failure: () => realInitiationFailure(),
};

const eventArb = fc
  .record({
    base: fc.constantFrom(...Object.keys(BASES)),
    transcript: fc.option(transcriptArb, { nil: undefined }),
    patches: fc.array(
      fc.oneof(
        fc.tuple(fc.constantFrom(...PATHS), valueArb),
        fc.tuple(
          fc.constant('data.analysis.data_collection_results.last_name'),
          valueArb.map((v) => collected('last_name', v)),
        ),
      ),
      { maxLength: 6 },
    ),
  })
  .map(({ base, transcript, patches }) => {
    const body = BASES[base]!();
    if (transcript !== undefined && base !== 'failure') body.data.transcript = transcript;
    for (const [path, value] of patches) setPath(body, path, value);
    // What arrives is JSON: NaN, -0 and undefined do not survive it.
    return JSON.parse(JSON.stringify(body)) as Json;
  });

describe('property: every accepted event maps to a payload the schema and the retry worker accept', () => {
  const config = { defaultSubject: 'Conversational AI call', subjectsByAgent: { agent_7f3c21d0e9b84a5c: 'Check-up reminders' } };

  it('holds for arbitrary realistic events', () => {
    let mapped = 0;
    fc.assert(
      fc.property(
        eventArb,
        fc.constantFrom(undefined, ['contact_name', 'First Name']),
        fc.constantFrom('AU', 'US', 'GB'),
        (body, nameFields, defaultCountry) => {
          const event = parseEvent(body);
          if (!isSupported(event) || event.type === 'post_call_audio') return;
          const payload = toCrmPayload(event as TranscriptionEvent | FailureEvent, {
            ...config,
            nameFields,
            defaultCountry: defaultCountry as 'AU',
          });
          expect(CrmPayloadSchema.safeParse(payload).success).toBe(true);
          const message = {
            crmPayload: payload,
            eventType: event.type,
            conversationId: event.data.conversation_id,
            attempts: 3,
            lastError: 'HTTP 503',
            firstAttemptAt: '2025-11-22T08:14:20.000Z',
          };
          // The worker reads it back unchanged: nothing had to be fitted.
          expect(parseRetryMessage(JSON.stringify(message))).toEqual({ message, fitted: [] });
          mapped += 1;
        },
      ),
      { seed: SEED, numRuns: 400 },
    );
    // Most generated events are events: the property is not vacuous.
    expect(mapped).toBeGreaterThan(300);
  });
});
