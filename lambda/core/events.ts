/**
 * zod schemas of the three post-call event types (SPEC §4; seeds/elevenlabs-post-call-webhooks.md,
 * "Webhook response structure"; seeds/tether-elevenlabs-webhook-openapi.md for older shapes).
 *
 * Tolerant by design: unknown fields pass through (ElevenLabs adds fields such as `has_audio`),
 * fields may sit under `data` or at the top level, and a descriptive field of the wrong type is
 * read as absent instead of failing the event. Only what identifies the event is strict:
 * `type`, `conversation_id`, and for audio `agent_id` and `full_audio`.
 */
import * as z from 'zod';
import { InvalidEventError } from './errors';

export const EVENT_TYPES = ['post_call_transcription', 'post_call_audio', 'call_initiation_failure'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Absent, null or of the wrong type: all read as `undefined`. */
function lenient<T extends z.ZodType>(schema: T) {
  return schema.optional().catch(undefined);
}

/** An array whose unreadable items are dropped rather than failing the event. */
function lenientArray<T extends z.ZodType>(item: T) {
  return lenient(
    z.array(z.unknown()).transform((items) =>
      items.flatMap((value) => {
        const parsed = item.safeParse(value);
        return parsed.success ? [parsed.data as z.output<T>] : [];
      }),
    ),
  );
}

/** `event_timestamp` and durations arrive as numbers or numeric strings (SPEC §4). */
export const NumberLikeSchema = z.union([
  z.number().finite(),
  z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?$/)
    .transform(Number),
]);

const IdSchema = z.string().trim().min(1).max(256);
/** Ids that become part of an S3 key: no separators, nothing to escape. */
const KeySafeIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'must be 1-128 letters, digits, "_", "." or "-"');
const VariablesSchema = z.record(z.string(), z.unknown());

const ToolResultSchema = z.looseObject({
  tool_name: lenient(z.string()),
  result_value: z.unknown().optional(),
  result: z.unknown().optional(),
});

const TranscriptTurnSchema = z.looseObject({
  role: lenient(z.string()),
  message: lenient(z.string()),
  tool_results: lenientArray(ToolResultSchema),
});

/** `metadata.phone_call` is a union on `type` (twilio, sip_trunking, exotel) or null. */
const PhoneCallSchema = z.looseObject({
  type: lenient(z.string()),
  direction: lenient(z.string()),
  external_number: lenient(z.string()),
  agent_number: lenient(z.string()),
});

const ClientDataSchema = z.looseObject({
  dynamic_variables: lenient(VariablesSchema),
});

export const TranscriptionDataSchema = z.looseObject({
  conversation_id: IdSchema,
  agent_id: lenient(IdSchema),
  agent_name: lenient(z.string()),
  call_duration_secs: lenient(NumberLikeSchema),
  transcript: lenientArray(TranscriptTurnSchema),
  metadata: lenient(
    z.looseObject({
      call_duration_secs: lenient(NumberLikeSchema),
      termination_reason: lenient(z.string()),
      phone_call: lenient(PhoneCallSchema),
    }),
  ),
  analysis: lenient(
    z.looseObject({
      transcript_summary: lenient(z.string()),
      data_collection_results: lenient(VariablesSchema),
    }),
  ),
  conversation_initiation_client_data: lenient(ClientDataSchema),
});

export const AudioDataSchema = z.looseObject({
  conversation_id: KeySafeIdSchema,
  agent_id: KeySafeIdSchema,
  full_audio: z.string(),
});

export const FailureDataSchema = z.looseObject({
  conversation_id: IdSchema,
  agent_id: lenient(IdSchema),
  failure_reason: lenient(z.string()),
  /** The telephony provider's view: `{type: "twilio" | "sip", body: {...}}`. */
  metadata: lenient(
    z.looseObject({
      type: lenient(z.string()),
      body: lenient(VariablesSchema),
    }),
  ),
  conversation_initiation_client_data: lenient(ClientDataSchema),
});

const EnvelopeSchema = z.looseObject({
  type: z.string().trim().min(1).max(128),
  event_timestamp: lenient(NumberLikeSchema),
  data: z.looseObject({}).optional(),
});

export type TranscriptionData = z.output<typeof TranscriptionDataSchema>;
export type AudioData = z.output<typeof AudioDataSchema>;
export type FailureData = z.output<typeof FailureDataSchema>;
export type TranscriptTurn = z.output<typeof TranscriptTurnSchema>;

interface EventBase {
  eventTimestamp: number | undefined;
  conversationId: string | undefined;
  agentId: string | undefined;
}
export type TranscriptionEvent = EventBase & { type: 'post_call_transcription'; data: TranscriptionData };
export type AudioEvent = EventBase & { type: 'post_call_audio'; data: AudioData };
export type FailureEvent = EventBase & { type: 'call_initiation_failure'; data: FailureData };
export type UnsupportedEvent = EventBase & { type: string; data?: undefined };
export type WebhookEvent = TranscriptionEvent | AudioEvent | FailureEvent;

const DATA_SCHEMAS = {
  post_call_transcription: TranscriptionDataSchema,
  post_call_audio: AudioDataSchema,
  call_initiation_failure: FailureDataSchema,
} as const;

export function isSupported(event: WebhookEvent | UnsupportedEvent): event is WebhookEvent {
  return (EVENT_TYPES as readonly string[]).includes(event.type) && event.data !== undefined;
}

/**
 * Reads a parsed JSON body as an event. Throws `InvalidEventError` naming the first bad
 * field (never its value). Unknown `type`s come back as an `UnsupportedEvent`.
 */
export function parseEvent(json: unknown): WebhookEvent | UnsupportedEvent {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InvalidEventError('body must be a JSON object');
  }
  return fastParseEvent(json) ?? parseEventWithSchemas(json);
}

/** The zod path alone: the contract, and what names the field when an event is refused. */
export function parseEventWithSchemas(json: object): WebhookEvent | UnsupportedEvent {
  const envelope = EnvelopeSchema.safeParse(json);
  if (!envelope.success) throw new InvalidEventError(describeIssue(envelope.error, []));

  // Older payloads put the fields at the top level instead of under `data`.
  const source: Record<string, unknown> = envelope.data.data ?? envelope.data;
  const dataPath = envelope.data.data ? ['data'] : [];
  const base: EventBase = {
    eventTimestamp: envelope.data.event_timestamp,
    conversationId: optionalId(source.conversation_id),
    agentId: optionalId(source.agent_id),
  };
  const type = envelope.data.type;
  if (!(type in DATA_SCHEMAS)) return { ...base, type };

  const schema = DATA_SCHEMAS[type as EventType];
  const data = schema.safeParse(source);
  if (!data.success) throw new InvalidEventError(describeIssue(data.error, dataPath));
  return { ...base, type, data: data.data } as WebhookEvent;
}

function optionalId(value: unknown): string | undefined {
  const parsed = IdSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

function describeIssue(error: z.ZodError, prefix: string[]): string {
  const issue = error.issues[0];
  if (!issue) return 'unreadable';
  const path = [...prefix, ...issue.path.map(String)].join('.') || '(root)';
  const what = issue.code === 'invalid_type' && issue.input === undefined ? 'required' : issue.message;
  return `${path}: ${what}`;
}

/*
 * Fast path. The zod schemas above are the contract; running them costs ~25 µs per
 * transcription event here, most of it in `.catch()` building an issue for every `null` field
 * ElevenLabs sends (`tool_results: null` on each turn), which kept the verifier (verify +
 * parse) under 5× the ElevenLabs SDK (issue 5; bench/verifier.ts, `npm run bench`).
 *
 * `fastParseEvent` returns what the schemas return, field by field, following zod 4's rules
 * (node_modules/zod/v4/core/schemas.js, $ZodObjectJIT, handleCatchall, $ZodRecord): a loose
 * object copies its `for...in` keys but `__proto__` and replaces each shape key that is
 * present (`key in input`) by its parsed value (`undefined` kept); `lenient` reads a wrong type
 * as `undefined`; `lenientArray` drops items that are not objects; a record copies its own
 * enumerable keys. Only key order can differ (zod lists shape keys first); nothing reads it.
 * Whenever zod would report an issue, or the input is not plain JSON (a prototype other than
 * Object's, symbol keys in a record, an unknown `type`), it declines and the schemas decide,
 * so every refusal and its message still comes from zod.
 * bench/parse-equivalence.ts checks both agree on the fixtures and on generated variants.
 */

/** Thrown (never escapes) when the fast path leaves the decision to zod. Not an Error: no stack to capture. */
const DECLINE = Symbol('decline');
type Loose = Record<string, unknown>;

function decline(): never {
  throw DECLINE;
}

/** zod's isObject (non-null, non-array object), declining anything that is not plain JSON. */
function isPlain(value: unknown): value is Loose {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) decline();
  return true;
}

/** A loose object's catchall, as zod copies it: every `for...in` key but `__proto__`. */
function copyOf(input: Loose): Loose {
  const out: Loose = {};
  for (const key in input) if (key !== '__proto__') out[key] = input[key];
  return out;
}

/** z.record(z.string(), z.unknown()): own enumerable string keys but `__proto__` (symbol keys: left to zod). */
function readRecord(v: unknown): Loose | undefined {
  if (!isPlain(v)) return undefined;
  if (Object.getOwnPropertySymbols(v).length > 0) decline();
  const out: Loose = {};
  for (const key of Object.keys(v)) if (key !== '__proto__') out[key] = v[key];
  return out;
}

const readString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function trimmedLength(v: unknown, max: number): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t.length >= 1 && t.length <= max ? t : undefined;
}
const readId = (v: unknown) => trimmedLength(v, 256);

const NUMERIC = /^-?\d+(\.\d+)?$/;
function readNumberLike(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return NUMERIC.test(t) ? Number(t) : undefined;
}

/** lenientArray: items that are not objects are dropped, the others parsed. */
function readItems<T>(v: unknown, item: (input: Loose) => T): T[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: T[] = [];
  for (let i = 0; i < v.length; i++) {
    const value: unknown = v[i];
    if (isPlain(value)) out.push(item(value));
  }
  return out;
}

function readToolResult(input: Loose): Loose {
  const out = copyOf(input);
  if ('tool_name' in input) out.tool_name = readString(input.tool_name);
  if ('result_value' in input) out.result_value = input.result_value;
  if ('result' in input) out.result = input.result;
  return out;
}

function readTurn(input: Loose): Loose {
  const out = copyOf(input);
  if ('role' in input) out.role = readString(input.role);
  if ('message' in input) out.message = readString(input.message);
  if ('tool_results' in input) out.tool_results = readItems(input.tool_results, readToolResult);
  return out;
}

function readPhoneCall(v: unknown): Loose | undefined {
  if (!isPlain(v)) return undefined;
  const out = copyOf(v);
  if ('type' in v) out.type = readString(v.type);
  if ('direction' in v) out.direction = readString(v.direction);
  if ('external_number' in v) out.external_number = readString(v.external_number);
  if ('agent_number' in v) out.agent_number = readString(v.agent_number);
  return out;
}

function readTranscriptionMetadata(v: unknown): Loose | undefined {
  if (!isPlain(v)) return undefined;
  const out = copyOf(v);
  if ('call_duration_secs' in v) out.call_duration_secs = readNumberLike(v.call_duration_secs);
  if ('termination_reason' in v) out.termination_reason = readString(v.termination_reason);
  if ('phone_call' in v) out.phone_call = readPhoneCall(v.phone_call);
  return out;
}

function readAnalysis(v: unknown): Loose | undefined {
  if (!isPlain(v)) return undefined;
  const out = copyOf(v);
  if ('transcript_summary' in v) out.transcript_summary = readString(v.transcript_summary);
  if ('data_collection_results' in v) out.data_collection_results = readRecord(v.data_collection_results);
  return out;
}

function readClientData(v: unknown): Loose | undefined {
  if (!isPlain(v)) return undefined;
  const out = copyOf(v);
  if ('dynamic_variables' in v) out.dynamic_variables = readRecord(v.dynamic_variables);
  return out;
}

function readFailureMetadata(v: unknown): Loose | undefined {
  if (!isPlain(v)) return undefined;
  const out = copyOf(v);
  if ('type' in v) out.type = readString(v.type);
  if ('body' in v) out.body = readRecord(v.body);
  return out;
}

function transcriptionData(input: Loose): Loose {
  if (!('conversation_id' in input)) decline();
  const out = copyOf(input);
  out.conversation_id = readId(input.conversation_id) ?? decline();
  if ('agent_id' in input) out.agent_id = readId(input.agent_id);
  if ('agent_name' in input) out.agent_name = readString(input.agent_name);
  if ('call_duration_secs' in input) out.call_duration_secs = readNumberLike(input.call_duration_secs);
  if ('transcript' in input) out.transcript = readItems(input.transcript, readTurn);
  if ('metadata' in input) out.metadata = readTranscriptionMetadata(input.metadata);
  if ('analysis' in input) out.analysis = readAnalysis(input.analysis);
  if ('conversation_initiation_client_data' in input) {
    out.conversation_initiation_client_data = readClientData(input.conversation_initiation_client_data);
  }
  return out;
}

const KEY_SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const readKeySafeId = (v: unknown) => (typeof v === 'string' && KEY_SAFE_ID.test(v) ? v : decline());

function audioData(input: Loose): Loose {
  if (!('conversation_id' in input && 'agent_id' in input && 'full_audio' in input)) decline();
  const out = copyOf(input);
  out.conversation_id = readKeySafeId(input.conversation_id);
  out.agent_id = readKeySafeId(input.agent_id);
  out.full_audio = readString(input.full_audio) ?? decline();
  return out;
}

function failureData(input: Loose): Loose {
  if (!('conversation_id' in input)) decline();
  const out = copyOf(input);
  out.conversation_id = readId(input.conversation_id) ?? decline();
  if ('agent_id' in input) out.agent_id = readId(input.agent_id);
  if ('failure_reason' in input) out.failure_reason = readString(input.failure_reason);
  if ('metadata' in input) out.metadata = readFailureMetadata(input.metadata);
  if ('conversation_initiation_client_data' in input) {
    out.conversation_initiation_client_data = readClientData(input.conversation_initiation_client_data);
  }
  return out;
}

const FAST_DATA: Record<EventType, (input: Loose) => Loose> = {
  post_call_transcription: transcriptionData,
  post_call_audio: audioData,
  call_initiation_failure: failureData,
};

/** The event exactly as the zod path would return it (key order aside), or `undefined` to let zod decide. */
export function fastParseEvent(json: object): WebhookEvent | undefined {
  try {
    if (!isPlain(json) || !('type' in json)) return undefined;
    // The envelope: type (strict), event_timestamp (lenient), data (an object when present).
    const envelope = copyOf(json);
    const type = trimmedLength(json.type, 128) ?? decline();
    envelope.type = type;
    if ('event_timestamp' in json) envelope.event_timestamp = readNumberLike(json.event_timestamp);
    if ('data' in json) envelope.data = isPlain(json.data) ? copyOf(json.data) : decline();
    if (!Object.hasOwn(FAST_DATA, type)) return undefined;
    // Older payloads put the fields at the top level instead of under `data`.
    const source = (envelope.data as Loose | undefined) ?? envelope;
    return {
      eventTimestamp: envelope.event_timestamp as number | undefined,
      conversationId: readId(source.conversation_id),
      agentId: readId(source.agent_id),
      type,
      data: FAST_DATA[type as EventType](source),
    } as WebhookEvent;
  } catch (error) {
    if (error === DECLINE) return undefined;
    throw error;
  }
}
