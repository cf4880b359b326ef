/** What `npm run send` posts: samples, the TEST subject for other machines, ping, saved files. */
import { describe, expect, it } from 'vitest';
import { filePayload, parseAudioSeconds, parseConversationId, samplePayloads, TEST_SUBJECT } from '../../scripts/lib/send-payloads';

const parse = (body: string | Buffer) => JSON.parse(body.toString());

describe('samplePayloads', () => {
  it('marks samples for another machine as tests; local samples keep the example subject', () => {
    const remote = samplePayloads('all', { audioSeconds: 0.2, markAsTest: true, conversationId: 'conv_x' });
    expect(remote.map((p) => p.label)).toEqual(['transcription', 'audio', 'failure']);
    expect(remote.every((p) => p.createsRecord)).toBe(true);
    const [transcription, audio, failure] = remote.map((p) => parse(p.body));
    expect(transcription.data.conversation_initiation_client_data.dynamic_variables.subject).toBe(TEST_SUBJECT);
    expect(failure.data.conversation_initiation_client_data.dynamic_variables.subject).toBe(TEST_SUBJECT);
    expect(audio.data.conversation_id).toBe('conv_x');
    const local = parse(samplePayloads('transcription', { audioSeconds: 3, markAsTest: false })[0]!.body);
    expect(local.data.conversation_initiation_client_data.dynamic_variables.subject).toBe('Invitation to re-trial');
  });

  it('makes a ping an unsupported, harmless event', () => {
    const [ping] = samplePayloads('ping', { audioSeconds: 3, markAsTest: true });
    expect(ping!.createsRecord).toBe(false);
    expect(parse(ping!.body)).toEqual({
      type: 'ping',
      event_timestamp: expect.any(Number),
      data: { conversation_id: expect.stringMatching(/^ping_/), agent_id: 'ping' },
    });
  });
});

describe('filePayload', () => {
  it('sends the file byte for byte, or with data.conversation_id replaced', () => {
    const bytes = Buffer.from('{\n  "type": "post_call_transcription",\n  "data": {"conversation_id": "conv_a"}\n}\n');
    expect(filePayload('a.json', bytes)).toEqual({ label: 'post_call_transcription', body: bytes, createsRecord: true });
    expect(parse(filePayload('a.json', bytes, 'conv_b').body).data.conversation_id).toBe('conv_b');
    expect(parse(filePayload('old.json', Buffer.from('{"type":"x","conversation_id":"c"}'), 'conv_b').body).conversation_id).toBe('conv_b');
  });

  it('refuses what is not one JSON object, without quoting the file', () => {
    expect(() => filePayload('a.json', Buffer.from('{"name": "Jane Citizen", oops}'))).toThrow(/^--file a\.json is not valid JSON$/);
    expect(() => filePayload('a.json', Buffer.from('[1]'))).toThrow(/must hold one JSON object/);
  });
});

describe('flag values', () => {
  it('accepts --audio-seconds above 0 up to 600', () => {
    expect(parseAudioSeconds(undefined)).toBe(3);
    expect(parseAudioSeconds('0.5')).toBe(0.5);
    expect(parseAudioSeconds('600')).toBe(600);
    for (const bad of ['abc', '0', '-1', '601', '1e3', '']) expect(() => parseAudioSeconds(bad)).toThrow(/^--audio-seconds must be/);
  });
  it('accepts a conversation id without spaces', () => {
    expect(parseConversationId('conv_1')).toBe('conv_1');
    expect(() => parseConversationId('a b')).toThrow(/^--conversation-id must be/);
  });
});
