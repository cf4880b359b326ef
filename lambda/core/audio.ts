/**
 * Audio events (contract §6): `full_audio` is base64 MP3, stored at
 * `audio/<agent_id>/<conversation_id>.mp3`. The decoded Buffer is the only extra copy of
 * the audio this module makes.
 */
import { createHash } from 'node:crypto';
import { InvalidAudioError } from './errors';
import type { AudioData } from './events';
import { audioKey } from './storage-keys';

export const AUDIO_CONTENT_TYPE = 'audio/mpeg';

export interface PreparedAudio {
  key: string;
  bytes: Buffer;
  /** Lower-case hex SHA-256 of the decoded bytes, stored as object metadata. */
  sha256: string;
  conversationId: string;
  agentId: string;
}

/**
 * Decodes base64 (RFC 4648 §4; padding optional) and rejects anything else. Node's decoder
 * skips characters outside the alphabet instead of failing, so a decoded length shorter than
 * the input implies means the input was not clean base64. That check is O(1), where a regex
 * over a 6 MB string costs ~10 ms.
 *
 * Decoded in slices straight into the result: for a string held in the V8 heap, Node's
 * base64 decoder first copies the whole string out of the heap (StringBytes::Write), so
 * `Buffer.from(base64, 'base64')` on a 5.7 MB body briefly holds a second 5.7 MB copy next
 * to the 4.3 MB result. Slices bound that copy to SLICE_CHARS (bench/audio.ts: peak extra
 * memory of the largest event, bench figure 5). Slices are a multiple of 4 characters, so each
 * decodes to exactly 3/4 of its length and the bytes equal a whole-string decode; a slice
 * that decodes short holds a character outside the alphabet, as a short whole decode does.
 */
export function decodeAudio(base64: string): Buffer {
  if (base64.length === 0) throw new InvalidAudioError('empty');
  const expected = decodedLength(base64);
  if (expected === undefined || expected === 0) throw new InvalidAudioError('not base64');
  const bytes = Buffer.allocUnsafe(expected);
  let written = 0;
  for (let start = 0; start < base64.length; start += SLICE_CHARS) {
    const slice = base64.slice(start, start + SLICE_CHARS);
    const wanted = start + SLICE_CHARS >= base64.length ? expected - written : (SLICE_CHARS / 4) * 3;
    if (bytes.write(slice, written, wanted, 'base64') !== wanted) throw new InvalidAudioError('not base64');
    written += wanted;
  }
  return bytes;
}

/** 64 Ki characters (a multiple of 4): 48 KiB of audio per slice, a 64 KiB transient copy. */
const SLICE_CHARS = 65_536;

function decodedLength(base64: string): number | undefined {
  let length = base64.length;
  if (length % 4 === 0) {
    if (base64.endsWith('==')) return (length / 4) * 3 - 2;
    if (base64.endsWith('=')) return (length / 4) * 3 - 1;
    return (length / 4) * 3;
  }
  if (base64.endsWith('=')) return undefined; // padding on a length that cannot be padded
  const remainder = length % 4;
  if (remainder === 1) return undefined;
  length -= remainder;
  return (length / 4) * 3 + (remainder === 2 ? 1 : 2);
}

export function prepareAudio(data: AudioData): PreparedAudio {
  const bytes = decodeAudio(data.full_audio);
  return {
    key: audioKey(data.agent_id, data.conversation_id),
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    conversationId: data.conversation_id,
    agentId: data.agent_id,
  };
}
