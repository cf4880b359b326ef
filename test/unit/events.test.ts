import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '../../lambda/core/errors';
import { isSupported, NOT_A_TURN_LIST, parseEvent, type TranscriptionEvent } from '../../lambda/core/events';
import { failedCall, longCall, otelTranscriptCall, realCall } from '../../support/fixtures/real-calls';
import { clone, SEED_EVENTS } from '../../support/fixtures/samples';

describe('parseEvent: the seed examples', () => {
  it.each([
    ['transcription (ElevenLabs docs)', SEED_EVENTS.transcription, 'post_call_transcription', 'abc', 'xyz'],
    ['audio (ElevenLabs docs)', SEED_EVENTS.audio, 'post_call_audio', 'abc', 'xyz'],
    ['initiation failure, Twilio (ElevenLabs docs)', SEED_EVENTS.failureTwilio, 'call_initiation_failure', 'abc', 'xyz'],
    ['initiation failure, SIP (ElevenLabs docs)', SEED_EVENTS.failureSip, 'call_initiation_failure', 'abc', 'xyz'],
    [
      'transcription (production receiver contract)',
      SEED_EVENTS.tetherTranscription,
      'post_call_transcription',
      'conv_8f3d1b9c2e7a4f0b9a4d2c1e6e2f8c01',
      'agent_a8d3c4e09b2f4e1ab3c45f6a7b8c9d01',
    ],
  ])('%s', (_name, seed, type, conversationId, agentId) => {
    const event = parseEvent(clone(seed));
    expect(event).toMatchObject({ type, conversationId, agentId });
    expect(isSupported(event)).toBe(true);
  });

  it('keeps the fields the CRM mapping reads', () => {
    const event = parseEvent(clone(SEED_EVENTS.transcription));
    if (event.type !== 'post_call_transcription' || !isSupported(event)) throw new Error('unexpected');
    expect(event.data.metadata?.call_duration_secs).toBe(22);
    expect(event.data.transcript).toHaveLength(3);
    expect(event.data.conversation_initiation_client_data?.dynamic_variables?.user_name).toBe('angelo');
    expect(event.eventTimestamp).toBe(1739537297);
  });
});

describe('parseEvent: tolerance (contract §4)', () => {
  const minimal = { type: 'post_call_transcription', data: { conversation_id: 'c1', agent_id: 'a1' } };

  it.each([
    ['unknown fields anywhere', { ...minimal, extra: 1, data: { ...minimal.data, has_audio: true, has_user_audio: false } }],
    ['event_timestamp as a numeric string', { ...minimal, event_timestamp: '1739537297' }],
    ['event_timestamp missing', minimal],
    ['event_timestamp unreadable (ignored)', { ...minimal, event_timestamp: 'yesterday' }],
    ['no analysis', minimal],
    ['metadata.phone_call null', { ...minimal, data: { ...minimal.data, metadata: { phone_call: null } } }],
    ['no conversation_initiation_client_data', minimal],
    ['transcript null', { ...minimal, data: { ...minimal.data, transcript: null } }],
    [
      'transcript turns with null messages and junk items',
      { ...minimal, data: { ...minimal.data, transcript: [{ role: 'user', message: null }, 'junk', 7] } },
    ],
    ['analysis of the wrong type', { ...minimal, data: { ...minimal.data, analysis: 'n/a' } }],
    ['duration as a string', { ...minimal, data: { ...minimal.data, metadata: { call_duration_secs: '42' } } }],
    ['agent_id missing on a transcription', { type: 'post_call_transcription', data: { conversation_id: 'c1' } }],
  ])('accepts %s', (_name, body) => {
    const event = parseEvent(clone(body));
    expect(event.type).toBe('post_call_transcription');
    expect(isSupported(event)).toBe(true);
  });

  it('reads older payloads with the fields at the top level', () => {
    const event = parseEvent({ type: 'post_call_transcription', conversation_id: 'c9', agent_id: 'a9', call_duration_secs: 12 });
    expect(event).toMatchObject({ conversationId: 'c9', agentId: 'a9' });
    if (event.type !== 'post_call_transcription' || !isSupported(event)) throw new Error('unexpected');
    expect(event.data.call_duration_secs).toBe(12);
  });

  it('reads event_timestamp strings as numbers', () => {
    expect(parseEvent({ ...minimal, event_timestamp: '1739537297' }).eventTimestamp).toBe(1739537297);
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'treats the Object.prototype name %j as an unsupported type',
    (type) => {
      const event = parseEvent({ type, data: { conversation_id: 'c1' } });
      expect(event.type).toBe(type);
      expect(isSupported(event)).toBe(false);
    },
  );

  it('returns unknown types as unsupported, with their ids', () => {
    const event = parseEvent({ type: 'post_call_video', data: { conversation_id: 'c1', agent_id: 'a1' } });
    expect(event).toMatchObject({ type: 'post_call_video', conversationId: 'c1', agentId: 'a1' });
    expect(isSupported(event)).toBe(false);
  });
});

describe('parseEvent: the GET-conversation model (contract §1, §4)', () => {
  const data = (body: unknown) => (parseEvent(clone(body)) as TranscriptionEvent).data;

  it('keeps status, the audio flags and metadata.error', () => {
    const parsed = data(failedCall({ code: 1011, reason: 'LLM request timed out' }));
    expect(parsed.status).toBe('failed');
    expect(parsed.metadata?.error).toEqual({ code: 1011, reason: 'LLM request timed out' });
    expect(parsed).toMatchObject({ has_audio: true, has_user_audio: true, has_response_audio: true });
  });

  it.each<[string, unknown, unknown]>([
    ['an error object', { code: 1011, reason: 'x' }, { code: 1011, reason: 'x' }],
    ['a string error', 'stream closed', 'stream closed'],
    ['null', null, null],
    ['a blank string reads as absent', '  ', undefined],
    ['a number reads as absent', 500, undefined],
    ['a list reads as absent', ['x'], undefined],
  ])('metadata.error: %s', (_name, error, expected) => {
    expect(data(realCall({}, (d) => (d.metadata.error = error))).metadata?.error).toEqual(expected);
  });

  it.each<[string, unknown, boolean | null | undefined]>([
    ['true', true, true],
    ['false', false, false],
    ['null', null, null],
    ['a string reads as absent', 'false', undefined],
  ])('has_audio %s', (_name, value, expected) => {
    expect(data(realCall({}, (d) => (d.has_audio = value))).has_audio).toEqual(expected);
  });

  it('reads a wrong-typed status as absent', () => {
    expect(data(realCall({}, (d) => (d.status = 3))).status).toBeUndefined();
  });

  it.each<[string, unknown, unknown]>([
    ['a list of turns stays that list', [{ role: 'user', message: 'hi' }], [{ role: 'user', message: 'hi' }]],
    ['an empty list is a list', [], []],
    ['absent stays absent', undefined, undefined],
    ['null reads as absent', null, undefined],
    ['an OpenTelemetry object is marked', { resourceSpans: [] }, NOT_A_TURN_LIST],
    ['a string is marked', 'user: hi', NOT_A_TURN_LIST],
    ['a number is marked', 7, NOT_A_TURN_LIST],
  ])('transcript: %s', (_name, transcript, expected) => {
    expect(data(realCall({}, (d) => (d.transcript = transcript))).transcript).toEqual(expected);
  });

  it('keeps the very array it was given (turns are neither copied nor validated)', () => {
    const body = longCall(290_000);
    expect((parseEvent(body) as TranscriptionEvent).data.transcript).toBe(body.data.transcript);
  });

  it('accepts a transcript in another format', () => {
    expect(isSupported(parseEvent(otelTranscriptCall()))).toBe(true);
  });
});

describe('parseEvent: what is refused', () => {
  it.each([
    ['an array', [], 'invalid event: body must be a JSON object'],
    ['null', null, 'invalid event: body must be a JSON object'],
    ['a string', 'post_call_audio', 'invalid event: body must be a JSON object'],
    ['no type', { data: {} }, 'invalid event: type: required'],
    ['an empty type', { type: '' }, 'invalid event: type: '],
    ['a numeric type', { type: 7 }, 'invalid event: type: '],
    ['data that is not an object', { type: 'post_call_audio', data: 'x' }, 'invalid event: data: '],
    [
      'a transcription without conversation_id',
      { type: 'post_call_transcription', data: { agent_id: 'a' } },
      'invalid event: data.conversation_id: required',
    ],
    [
      'audio without full_audio',
      { type: 'post_call_audio', data: { agent_id: 'a', conversation_id: 'c' } },
      'invalid event: data.full_audio: required',
    ],
    [
      'audio without agent_id',
      { type: 'post_call_audio', data: { conversation_id: 'c', full_audio: 'QQ==' } },
      'invalid event: data.agent_id: required',
    ],
    [
      'audio whose id would escape its key',
      { type: 'post_call_audio', data: { agent_id: '../x', conversation_id: 'c', full_audio: 'QQ==' } },
      'invalid event: data.agent_id: ',
    ],
    [
      'audio whose id has a slash',
      { type: 'post_call_audio', data: { agent_id: 'a', conversation_id: 'c/d', full_audio: 'QQ==' } },
      'invalid event: data.conversation_id: ',
    ],
    ['a failure without conversation_id', { type: 'call_initiation_failure', data: {} }, 'invalid event: data.conversation_id: required'],
    [
      'a conversation_id of the wrong type (said so, not "required")',
      { type: 'post_call_transcription', data: { conversation_id: 5, agent_id: 'a' } },
      'invalid event: data.conversation_id: Invalid input: expected string, received number',
    ],
  ])('refuses %s', (_name, body, message) => {
    expect(() => parseEvent(body)).toThrow(InvalidEventError);
    expect(() => parseEvent(body)).toThrow(message);
  });

  it('never puts field values in the error', () => {
    const secretish = 'TOP-SECRET-VALUE';
    try {
      parseEvent({ type: 'post_call_audio', data: { agent_id: `${secretish}/`, conversation_id: 'c', full_audio: 'QQ==' } });
      throw new Error('expected a throw');
    } catch (error) {
      expect((error as Error).message).not.toContain(secretish);
    }
  });
});
