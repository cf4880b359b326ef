/**
 * "Every call kept" (contract §10): is a call's recording in the bucket, and if not, can it be
 * recovered from the ElevenLabs API? One function, `checkRecording`, used by the audio worker
 * (one queued check) and the backfill (every conversation in a time range) alike.
 *
 * Why this exists: real recordings are 128 kbit/s MP3, so a call longer than ~4.9 minutes
 * makes an audio webhook bigger than Lambda's 6 MB event limit; it never reaches the receiver,
 * and ElevenLabs never resends audio. The API serves the same recording at any length.
 */
import * as z from 'zod/mini';
import './zod-messages';
import { describeError } from './errors';
import { parseRetryAfter } from './forward-policy';
import type { ApiKeySource, AudioCheckMessage, ByteStream, ElevenLabsApi, RecordingStore } from './ports';
import { audioKey, isKeySafeId } from './storage-keys';
import { callDeadline } from './time-budget';

/** contract §8 ELEVENLABS_API_BASE_URL: the public API (data-residency workspaces have their own). */
export const DEFAULT_ELEVENLABS_API_BASE_URL = 'https://api.elevenlabs.io';

/** What one check found or did; the worker maps each to its metric and log line. */
export type AudioCheckOutcome =
  /** The recording is in the bucket (from the webhook, or an earlier check). */
  | { kind: 'already_stored'; key: string }
  /** Streamed from the ElevenLabs API into the bucket. */
  | { kind: 'recovered'; key: string; bytes: number; sha256: string }
  /** ElevenLabs has no recording (recording off, deleted, zero retention): nothing to keep. */
  | { kind: 'unavailable'; key: string }
  /** Not in the bucket and not recoverable by retrying: a human must look (alarmed). */
  | { kind: 'missing'; key: string; reason: string }
  /**
   * A transient failure, or an answer that is not a recording: try again later (SQS redelivers
   * with backoff, then its DLQ, alarmed). `retryAfterSeconds`: the API's own Retry-After.
   */
  | { kind: 'retry'; key: string; reason: string; retryAfterSeconds?: number };

export const NO_API_KEY = 'no ElevenLabs API key configured (recovery is off)';
export const API_KEY_REJECTED = 'ElevenLabs API key rejected';

/** How to treat ElevenLabs' status for the audio endpoint (contract §10). */
function classifyAudioStatus(status: number): 'stream' | 'unavailable' | 'key_rejected' | 'retry' | 'refused' {
  if (status === 200) return 'stream';
  if (status === 404) return 'unavailable';
  if (status === 401 || status === 403) return 'key_rejected';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'refused';
}

export interface AudioCheckDeps {
  recordings: RecordingStore;
  apiKey: ApiKeySource;
  elevenLabs: ElevenLabsApi;
  now: () => number;
}

/**
 * Checks one conversation's recording and recovers it when it is missing. Never throws: every
 * failure is an outcome. `deadlineMs` bounds everything, the stream included.
 */
export async function checkRecording(message: AudioCheckMessage, deps: AudioCheckDeps, deadlineMs: number): Promise<AudioCheckOutcome> {
  const { now } = deps;
  const key = audioKey(message.agentId, message.conversationId);
  try {
    if (await deps.recordings.isStored(key, callDeadline('recordingHead', now(), deadlineMs))) return { kind: 'already_stored', key };
  } catch (error) {
    return { kind: 'retry', key, reason: `S3: ${describeError(error)}` };
  }

  let apiKey: string | undefined;
  try {
    apiKey = await deps.apiKey.current(deadlineMs);
  } catch (error) {
    return { kind: 'retry', key, reason: `API key secret unavailable: ${describeError(error)}` };
  }
  if (apiKey === undefined) return { kind: 'missing', key, reason: NO_API_KEY };

  let answer: Awaited<ReturnType<ElevenLabsApi['conversationAudio']>>;
  try {
    answer = await deps.elevenLabs.conversationAudio(message.conversationId, apiKey, deadlineMs);
  } catch (error) {
    return { kind: 'retry', key, reason: `ElevenLabs API: ${describeError(error)}` };
  }
  switch (classifyAudioStatus(answer.status)) {
    case 'unavailable':
      return { kind: 'unavailable', key };
    case 'key_rejected':
      return { kind: 'missing', key, reason: API_KEY_REJECTED };
    case 'retry':
      return {
        kind: 'retry',
        key,
        reason: `ElevenLabs API answered HTTP ${answer.status}`,
        ...retryAfter('retryAfter' in answer ? answer.retryAfter : undefined, now()),
      };
    case 'refused':
      return { kind: 'missing', key, reason: `ElevenLabs API answered HTTP ${answer.status}` };
    case 'stream':
      break;
  }
  if (answer.body === undefined) return { kind: 'retry', key, reason: 'ElevenLabs API answered 200 without a body' };
  const recording = await recordingOrReason(answer.body, answer.contentType).catch((error: unknown) => ({
    reason: `ElevenLabs API: ${describeError(error)}`,
  }));
  if ('reason' in recording) return { kind: 'retry', key, reason: recording.reason };
  try {
    const stored = await deps.recordings.store(
      key,
      recording.body,
      { conversationId: message.conversationId, agentId: message.agentId },
      deadlineMs,
    );
    return { kind: 'recovered', key, ...stored };
  } catch (error) {
    // The upload was aborted: nothing is left at the key, and the next try starts afresh.
    return { kind: 'retry', key, reason: `recording not stored: ${describeError(error)}` };
  }
}

/** Seconds from a Retry-After header (contract §10: the backoff waits at least that long). */
export function retryAfter(header: string | undefined, nowMs: number): { retryAfterSeconds?: number } {
  const ms = parseRetryAfter(header, nowMs);
  return ms === undefined ? {} : { retryAfterSeconds: Math.ceil(ms / 1000) };
}

/** contract §10: what a recording's `Content-Type` may be. Absent: the bytes decide alone. */
function isRecordingContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return true;
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return type.startsWith('audio/') || type === 'application/octet-stream';
}

/**
 * contract §10: a recording starts with an ID3v2 tag (`ID3`) or an MPEG audio frame sync (`0xFF`
 * then `0xE0`–`0xFF`: eleven set bits, ISO/IEC 11172-3 §2.4.2.3). An empty body, an HTML page or
 * a JSON error does not.
 */
function looksLikeRecording(head: Uint8Array): boolean {
  if (head.length >= 3 && head[0] === 0x49 && head[1] === 0x44 && head[2] === 0x33) return true;
  return head.length >= 2 && head[0] === 0xff && (head[1] ?? 0) >= 0xe0;
}

const HEAD_BYTES = 3;

/**
 * A 200's body as a recording, or why it is not one. The first bytes are read ahead and handed
 * on in front of the rest, so nothing is held but those few bytes; a body that is refused is
 * closed (its connection is not reused).
 */
async function recordingOrReason(body: ByteStream, contentType: string | undefined): Promise<{ body: ByteStream } | { reason: string }> {
  const iterator = body[Symbol.asyncIterator]();
  const refuse = async (reason: string) => {
    await iterator.return?.();
    return { reason: `ElevenLabs API answered 200 with something that is not a recording (${reason})` };
  };
  if (!isRecordingContentType(contentType)) return refuse(`Content-Type ${JSON.stringify(contentType?.slice(0, 100))}`);
  const head: Uint8Array[] = [];
  let length = 0;
  let ended = false;
  while (length < HEAD_BYTES) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    head.push(next.value);
    length += next.value.length;
  }
  if (length === 0) return refuse('an empty body');
  if (!looksLikeRecording(Buffer.concat(head))) return refuse('its first bytes are neither an ID3 tag nor an MPEG frame');
  const rest: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => iterator };
  return {
    body: (async function* () {
      yield* head;
      if (!ended) yield* rest;
    })(),
  };
}

const KeySafeId = z.string().check(z.refine(isKeySafeId));

/** The queue message of contract §10, read back: `{"conversationId","agentId","eventTimestamp"}`. */
const AudioCheckMessageSchema = z.object({
  conversationId: KeySafeId,
  agentId: KeySafeId,
  eventTimestamp: z.optional(z.nullable(z.number().check(z.int(), z.gte(0)))),
});

/** Parses an audio-check message body; undefined when it is not one (it can never succeed). */
export function parseAudioCheckMessage(body: string): AudioCheckMessage | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = AudioCheckMessageSchema.safeParse(json);
  return parsed.success ? { ...parsed.data, eventTimestamp: parsed.data.eventTimestamp ?? null } : undefined;
}
