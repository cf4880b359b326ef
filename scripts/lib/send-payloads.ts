/**
 * What `npm run send` posts: signed sample events built from the ElevenLabs docs' examples
 * (support/fixtures/samples.ts), a `ping`, or a saved payload from a file.
 *
 * A `ping` is an event of a type the receiver does not handle: a deployment verifies its
 * signature and answers 200 `skipped` without a CRM record or an S3 object (contract §2 step 7),
 * so it checks a URL and its secret and leaves nothing behind.
 * Samples sent anywhere but this machine carry the subject `TEST — safe to delete` (the CRM
 * subject comes from the dynamic variable `subject`, contract §5), so the records they create
 * are easy to find and remove.
 */
import { randomUUID } from 'node:crypto';
import { type SampleKind, sampleEvent } from '../../support/fixtures/samples';
import { CliError } from './cli';

const SAMPLE_KINDS: SampleKind[] = ['transcription', 'audio', 'failure'];
const SEND_KINDS = ['transcription', 'audio', 'failure', 'all', 'ping'] as const;
export type SendKind = (typeof SEND_KINDS)[number];
export const TEST_SUBJECT = 'TEST — safe to delete';
const PING_TYPE = 'ping';
/** Past ~4.9 minutes an audio event is over Lambda's limit already; this leaves room to see the 413. */
const MAX_AUDIO_SECONDS = 600;

export interface Outgoing {
  /** What the output line starts with: the sample kind, `ping`, or the file's event type. */
  label: string;
  body: string | Buffer;
  /** Whether a deployment would create a CRM record or an S3 object from it. */
  createsRecord: boolean;
}

export interface SampleSettings {
  conversationId?: string;
  audioSeconds: number;
  /** Non-local target: mark every record as a test. */
  markAsTest: boolean;
  nowMs?: number;
}

export function isSendKind(value: string): value is SendKind {
  return (SEND_KINDS as readonly string[]).includes(value);
}

export function samplePayloads(kind: SendKind, settings: SampleSettings): Outgoing[] {
  if (kind === 'ping') return [{ label: 'ping', body: JSON.stringify(pingEvent(settings)), createsRecord: false }];
  // `all` is one connected call (its transcription and its recording share a conversation id,
  // so its audio check finds the recording stored) and one call that never connected.
  const call = settings.conversationId ?? `conv_sample_${randomUUID().replaceAll('-', '')}`;
  return (kind === 'all' ? SAMPLE_KINDS : [kind]).map((sample) => {
    const conversationId = kind === 'all' && sample !== 'failure' ? call : settings.conversationId;
    const event = sampleEvent(sample, { conversationId, audioSeconds: settings.audioSeconds, nowMs: settings.nowMs });
    if (settings.markAsTest) markAsTest(event);
    return { label: sample, body: JSON.stringify(event), createsRecord: true };
  });
}

function pingEvent({ conversationId, nowMs = Date.now() }: { conversationId?: string; nowMs?: number }) {
  return {
    type: PING_TYPE,
    event_timestamp: Math.floor(nowMs / 1000),
    data: { conversation_id: conversationId ?? `ping_${randomUUID().replaceAll('-', '')}`, agent_id: 'ping' },
  };
}

/** Sets the dynamic variable `subject` on events that become CRM records. */
function markAsTest(event: JsonObject): void {
  if (event.type === 'post_call_audio' || !isObject(event.data)) return; // no CRM record; the key names the sample agent
  const initiation = isObject(event.data.conversation_initiation_client_data) ? event.data.conversation_initiation_client_data : {};
  const variables = isObject(initiation.dynamic_variables) ? initiation.dynamic_variables : {};
  initiation.dynamic_variables = { ...variables, subject: TEST_SUBJECT };
  event.data.conversation_initiation_client_data = initiation;
}

type JsonObject = { [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * A saved payload: sent byte for byte as it is (its signature covers exactly those bytes),
 * unless `conversationId` replaces `data.conversation_id` (then it is re-serialised).
 */
export function filePayload(name: string, bytes: Buffer, conversationId?: string): Outgoing {
  let event: unknown;
  try {
    event = JSON.parse(bytes.toString('utf8'));
  } catch {
    // JSON.parse's message quotes the text around the error; it stays out of the output.
    throw new CliError(`--file ${name} is not valid JSON`);
  }
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    throw new CliError(`--file ${name} must hold one JSON object (a webhook event)`);
  }
  const record = event as JsonObject;
  const label =
    typeof record.type === 'string' && record.type.trim() !== '' ? record.type.replace(/[^\x21-\x7e]/g, '?').slice(0, 40) : '(no type)';
  if (conversationId === undefined) return { label, body: bytes, createsRecord: true };
  if (isObject(record.data)) record.data.conversation_id = conversationId;
  else record.conversation_id = conversationId; // older payloads keep the fields at the top level (contract §4)
  return { label, body: JSON.stringify(record), createsRecord: true };
}

/** `--audio-seconds`: a number of seconds above 0 and at most MAX_AUDIO_SECONDS. */
export function parseAudioSeconds(value: string | undefined): number {
  if (value === undefined) return 3;
  const seconds = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(seconds > 0 && seconds <= MAX_AUDIO_SECONDS)) {
    throw new CliError(
      `--audio-seconds must be a number of seconds above 0 and at most ${MAX_AUDIO_SECONDS} (got ${JSON.stringify(value.slice(0, 40))})`,
      2,
    );
  }
  return seconds;
}

/** `--conversation-id`: 1–128 characters, no spaces or control characters. */
export function parseConversationId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,128}$/.test(value)) {
    throw new CliError('--conversation-id must be 1 to 128 characters without spaces (e.g. conv_test_1)', 2);
  }
  return value;
}
