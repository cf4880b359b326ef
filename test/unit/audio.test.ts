import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeAudio, prepareAudio } from '../../lambda/core/audio';
import { InvalidAudioError } from '../../lambda/core/errors';
import { audioKey } from '../../lambda/core/storage-keys';
import { silentMp3 } from '../../support/fixtures/silent-mp3';

describe('decodeAudio', () => {
  it.each([
    ['padded (==)', 'QQ==', 'A'],
    ['padded (=)', 'QUI=', 'AB'],
    ['unpadded, 2 left over', 'QQ', 'A'],
    ['unpadded, 3 left over', 'QUI', 'AB'],
    ['no padding needed', 'QUJD', 'ABC'],
  ])('decodes %s', (_name, base64, text) => {
    expect(decodeAudio(base64).toString('latin1')).toBe(text);
  });

  it('decodes a real MP3 byte for byte', () => {
    const mp3 = silentMp3(1);
    expect(decodeAudio(mp3.toString('base64')).equals(mp3)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['the docs placeholder', 'SUQzBAAAAAAA...base64_encoded_mp3_data...AAAAAAAAAA=='],
    ['a character outside the alphabet', 'QUJD!RUY='],
    ['a space inside', 'QUJD RUZH'],
    ['a newline inside', 'QUJD\nRUZH'],
    ['padding in the middle', 'QQ==QQ=='],
    ['one character left over', 'QUJDR'],
    ['padding on an unpaddable length', 'QUJDRQ='],
    ['only padding', '===='],
    ['three padding characters', 'Q==='],
    ['JSON instead of base64', '{"a":1}'],
  ])('rejects %s', (_name, base64) => {
    expect(() => decodeAudio(base64)).toThrow(InvalidAudioError);
  });
});

describe('prepareAudio', () => {
  it('names the key audio/<agent_id>/<conversation_id>.mp3 and hashes the decoded bytes', () => {
    const mp3 = silentMp3(0.5);
    const prepared = prepareAudio({ agent_id: 'agent_1', conversation_id: 'conv_2', full_audio: mp3.toString('base64') });
    expect(prepared.key).toBe('audio/agent_1/conv_2.mp3');
    expect(prepared.key).toBe(audioKey('agent_1', 'conv_2'));
    expect(prepared.sha256).toBe(createHash('sha256').update(mp3).digest('hex'));
    expect(prepared.bytes.equals(mp3)).toBe(true);
  });

  it('is deterministic: a re-delivery gets the same key and hash', () => {
    const data = { agent_id: 'a', conversation_id: 'c', full_audio: silentMp3(0.2).toString('base64') };
    expect(prepareAudio(data)).toEqual(prepareAudio(data));
  });
});

describe('the generated sample MP3', () => {
  it('starts with an ID3v2.4 tag, so its base64 starts like the docs example (SUQzBA)', () => {
    expect(silentMp3(1).toString('base64').startsWith('SUQzBA')).toBe(true);
  });

  it('has an MPEG-1 Layer III frame sync right after the tag', () => {
    const mp3 = silentMp3(1);
    const tagSize = ((mp3[6]! & 0x7f) << 21) | ((mp3[7]! & 0x7f) << 14) | ((mp3[8]! & 0x7f) << 7) | (mp3[9]! & 0x7f);
    expect([mp3[10 + tagSize], mp3[11 + tagSize]]).toEqual([0xff, 0xfb]);
  });
});
