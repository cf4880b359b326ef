/**
 * Audio events (SPEC §6): `full_audio` is base64 MP3, stored at
 * `audio/<agent_id>/<conversation_id>.mp3`. The decoded Buffer is the only extra copy of
 * the audio this module makes.
 */
import { createHash } from 'node:crypto';
import { InvalidAudioError } from './errors';
import type { AudioData } from './events';

export const AUDIO_CONTENT_TYPE = 'audio/mpeg';

export interface PreparedAudio {
  key: string;
  bytes: Buffer;
  /** Lower-case hex SHA-256 of the decoded bytes, stored as object metadata. */
  sha256: string;
  conversationId: string;
  agentId: string;
}

export function audioKey(agentId: string, conversationId: string): string {
  return `audio/${agentId}/${conversationId}.mp3`;
}

/**
 * Decodes base64 (RFC 4648 §4; padding optional) and rejects anything else. Node's decoder
 * skips characters outside the alphabet instead of failing, so a decoded length shorter than
 * the input implies means the input was not clean base64. That check is O(1), where a regex
 * over a 6 MB string costs ~10 ms.
 */
export function decodeAudio(base64: string): Buffer {
  if (base64.length === 0) throw new InvalidAudioError('empty');
  const expected = decodedLength(base64);
  if (expected === undefined) throw new InvalidAudioError('not base64');
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== expected || bytes.length === 0) throw new InvalidAudioError('not base64');
  return bytes;
}

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
