/**
 * The post-call event types and their zod schemas (contract §2 step 7, §4; ElevenLabs' post-call
 * webhook docs, "Webhook response structure", and older payloads where the fields sit at the
 * top level). `EVENT_TYPES` below is the one table of types: the event union, the dispatch, the
 * archive's file names and the readers of the archive and the queues all derive from it, so a
 * new type is one row here and the compiler points at everything that must handle it.
 *
 * Tolerant by design: unknown fields are accepted (ElevenLabs adds fields such as `has_audio`;
 * zod's plain objects accept them and leave them out of the output, which holds just what the
 * receiver reads), fields may sit under `data` or at the top level, and a descriptive field of
 * the wrong type reads as absent instead of failing the event. Only what identifies the event
 * is strict: `type`, `conversation_id`, and for audio `agent_id` and `full_audio`.
 *
 * Cost matters here (bench figure 4, the verifier): copying only the keys we read, accepting null
 * without building an issue, and leaving the transcript opaque keep a transcription at a few µs.
 */
import * as z from 'zod/mini';
import { InvalidEventError } from './errors';
import { conversationFromOtel } from './otel-trace';
import { isKeySafeId } from './storage-keys';
import './zod-messages';

/**
 * Absent or null (ElevenLabs sends `null` for many fields) pass as they are; a value of the
 * wrong type reads as `undefined`. Null is accepted directly rather than through `.catch()`,
 * which builds a zod issue first and made parsing twice as slow.
 */
function lenient<T extends z.ZodMiniType>(schema: T) {
  return z.catch(z.nullish(schema), undefined);
}

/** `event_timestamp` and durations arrive as numbers or numeric strings (contract §4). */
export const NumberLikeSchema = z.union([z.number(), z.pipe(z.string().check(z.trim(), z.regex(/^-?\d+(\.\d+)?$/)), z.transform(Number))]);

const IdSchema = z.string().check(z.trim(), z.minLength(1), z.maxLength(256));
/** Ids that become part of an S3 key (core/storage-keys.ts): no separators, nothing to escape. */
const KeySafeIdSchema = z.string().check(z.refine(isKeySafeId, 'must be 1-128 letters, digits, "_", "." or "-"'));
/** A JSON object, passed through as it is (the data schemas below copy what they read). */
const JsonObjectSchema = z.custom<Record<string, unknown>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  { error: 'expected object' },
);
/** Dynamic variables and data-collection results: any JSON object, read key by key later. */
const VariablesSchema = JsonObjectSchema;

/**
 * What `transcript` holds when it is not a list of turns: ElevenLabs can send an OpenTelemetry
 * transcript instead (contract §4), and status rules then read other facts (contract §5 rule 4).
 */
export const NOT_A_TURN_LIST = 'not-a-turn-list';
/**
 * A list of turns stays the very array that was parsed: turns are many and nested, and the CRM
 * needs two facts from them, which call-status.ts reads defensively, so they are neither copied
 * nor validated one by one (that cost ~8 µs per event for nothing we use, bench/verifier.ts).
 * Absent or null stays absent; anything else becomes the marker.
 */
const TranscriptSchema = z.pipe(
  z.optional(z.unknown()),
  z.transform((value: unknown): unknown[] | typeof NOT_A_TURN_LIST | undefined =>
    Array.isArray(value) ? value : value == null ? undefined : NOT_A_TURN_LIST,
  ),
);

/**
 * `metadata.error` of the GET-conversation model: `{code, reason?}` or null; a plain string is
 * read as the reason. A blank string says nothing and reads as absent, like any other type.
 */
const CallErrorSchema = lenient(z.union([JsonObjectSchema, z.string().check(z.trim(), z.minLength(1))]));

/** `metadata.phone_call` is a union on `type` (twilio, sip_trunking, exotel) or null. */
const PhoneCallSchema = z.object({
  type: lenient(z.string()),
  direction: lenient(z.string()),
  external_number: lenient(z.string()),
  agent_number: lenient(z.string()),
});

const ClientDataSchema = z.object({
  dynamic_variables: lenient(VariablesSchema),
});

const TranscriptionDataSchema = z.object({
  conversation_id: IdSchema,
  agent_id: lenient(IdSchema),
  agent_name: lenient(z.string()),
  call_duration_secs: lenient(NumberLikeSchema),
  /** The platform's verdict (`done`, `failed`, …; GET-conversation model). */
  status: lenient(z.string()),
  /**
   * Whether ElevenLabs kept any audio, the contact's and the agent's: they say whether audio was
   * *stored*, not whether anyone spoke (recording may be off). `has_audio` decides the audio
   * check (contract §10).
   */
  has_audio: lenient(z.boolean()),
  has_user_audio: lenient(z.boolean()),
  has_response_audio: lenient(z.boolean()),
  /** Opaque: crm-payload.ts reads the two facts it needs from the turns defensively (contract §4). */
  transcript: TranscriptSchema,
  metadata: lenient(
    z.object({
      call_duration_secs: lenient(NumberLikeSchema),
      termination_reason: lenient(z.string()),
      error: CallErrorSchema,
      phone_call: lenient(PhoneCallSchema),
    }),
  ),
  analysis: lenient(
    z.object({
      transcript_summary: lenient(z.string()),
      data_collection_results: lenient(VariablesSchema),
    }),
  ),
  conversation_initiation_client_data: lenient(ClientDataSchema),
});

const AudioDataSchema = z.object({
  conversation_id: KeySafeIdSchema,
  agent_id: KeySafeIdSchema,
  full_audio: z.string(),
});

const FailureDataSchema = z.object({
  conversation_id: IdSchema,
  agent_id: lenient(IdSchema),
  failure_reason: lenient(z.string()),
  /** The telephony provider's view: `{type: "twilio" | "sip", body: {...}}`. */
  metadata: lenient(
    z.object({
      type: lenient(z.string()),
      body: lenient(VariablesSchema),
    }),
  ),
  conversation_initiation_client_data: lenient(ClientDataSchema),
});

/**
 * `post_call_transcription_otel` (contract §4): `data.otlp_traces` (OTLP JSON) read into the
 * conversation model, then the transcription schema, so from here on it is a transcription in
 * every respect. `otlp_traces` missing or null is a trace with no spans; any other value that is
 * not an object is refused like any invalid event.
 */
const OtelTranscriptionDataSchema = z.pipe(
  z.pipe(
    JsonObjectSchema.check(
      z.superRefine((data, ctx) => {
        const traces = data.otlp_traces;
        if (traces != null && (typeof traces !== 'object' || Array.isArray(traces))) {
          ctx.addIssue({ code: 'custom', path: ['otlp_traces'], message: 'expected an OTLP JSON object' });
        }
      }),
    ),
    z.transform(conversationFromOtel),
  ),
  TranscriptionDataSchema,
);

/** The three envelope fields; everything else at the top level is read by the data schemas (older shapes). */
const EnvelopeSchema = z.object({
  type: z.string().check(z.trim(), z.minLength(1), z.maxLength(128)),
  event_timestamp: lenient(NumberLikeSchema),
  data: z.optional(JsonObjectSchema),
});

/**
 * The one table of event types (contract §2 step 7). `kind` says what the receiver does with an
 * event: a `transcription` or a `failure` becomes a CRM record (§5) and is archived (§10) as
 * `<type>.json`, a transcription also gets an audio check; `audio` is stored (§6). The order of
 * the rows is the order the archive is searched in (the ledger of §12, replay).
 */
const EVENT_TYPES = {
  post_call_transcription: { kind: 'transcription', schema: TranscriptionDataSchema },
  post_call_transcription_otel: { kind: 'transcription', schema: OtelTranscriptionDataSchema },
  call_initiation_failure: { kind: 'failure', schema: FailureDataSchema },
  post_call_audio: { kind: 'audio', schema: AudioDataSchema },
} as const satisfies Record<string, { kind: 'transcription' | 'failure' | 'audio'; schema: z.ZodMiniType }>;

export type EventType = keyof typeof EVENT_TYPES;
type KindOf<T extends EventType> = (typeof EVENT_TYPES)[T]['kind'];
/** The types whose events become a CRM record and are kept in the archive (contract §5, §10). */
export type RecordEventType = { [T in EventType]: KindOf<T> extends 'audio' ? never : T }[EventType];

/** Every type, in table order. */
export const EVENT_TYPE_NAMES = Object.keys(EVENT_TYPES) as EventType[];
/** The archived types, in the order the archive is searched (contract §10, §12). */
export const RECORD_EVENT_TYPES = EVENT_TYPE_NAMES.filter((type): type is RecordEventType => EVENT_TYPES[type].kind !== 'audio');

export type TranscriptionData = z.output<typeof TranscriptionDataSchema>;
export type AudioData = z.output<typeof AudioDataSchema>;
export type FailureData = z.output<typeof FailureDataSchema>;

interface EventBase {
  eventTimestamp: number | undefined;
  conversationId: string | undefined;
  agentId: string | undefined;
}
/** One event of type `T`: its kind and its parsed data, derived from the table. */
type EventOf<T extends EventType> = EventBase & { type: T; kind: KindOf<T>; data: z.output<(typeof EVENT_TYPES)[T]['schema']> };
export type WebhookEvent = { [T in EventType]: EventOf<T> }[EventType];
export type TranscriptionEvent = Extract<WebhookEvent, { kind: 'transcription' }>;
export type FailureEvent = Extract<WebhookEvent, { kind: 'failure' }>;
export type AudioEvent = Extract<WebhookEvent, { kind: 'audio' }>;
/** An event that becomes a CRM record (contract §5). */
export type RecordEvent = TranscriptionEvent | FailureEvent;
export type UnsupportedEvent = EventBase & { type: string; kind?: undefined; data?: undefined };

export function isSupported(event: WebhookEvent | UnsupportedEvent): event is WebhookEvent {
  return event.kind !== undefined;
}

/** True for a type in the table (own keys only: "constructor" or "__proto__" is not a type). */
export function isEventType(type: string): type is EventType {
  return Object.hasOwn(EVENT_TYPES, type);
}

/**
 * Reads a parsed JSON body as an event. Throws `InvalidEventError` naming the first bad
 * field (never its value). Unknown `type`s come back as an `UnsupportedEvent`.
 */
export function parseEvent(json: unknown): WebhookEvent | UnsupportedEvent {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InvalidEventError('body must be a JSON object');
  }
  const envelope = EnvelopeSchema.safeParse(json);
  if (!envelope.success) throw new InvalidEventError(describeIssue(envelope.error, []));

  // Older payloads put the fields at the top level instead of under `data`.
  const source = envelope.data.data ?? (json as Record<string, unknown>);
  const dataPath = envelope.data.data ? ['data'] : [];
  const eventTimestamp = envelope.data.event_timestamp ?? undefined;
  const type = envelope.data.type;
  if (!isEventType(type)) {
    return { type, eventTimestamp, conversationId: optionalId(source.conversation_id), agentId: optionalId(source.agent_id) };
  }
  const { kind, schema } = EVENT_TYPES[type];
  const data = (schema as z.ZodMiniType<WebhookEvent['data']>).safeParse(source);
  if (!data.success) throw new InvalidEventError(describeIssue(data.error, dataPath));
  const { conversation_id: conversationId, agent_id: agentId } = data.data;
  // The table ties each type to its kind and schema; TypeScript cannot follow that through an
  // indexed lookup, so the pairing is asserted here once (test/unit/events.test.ts checks each row).
  return { type, kind, eventTimestamp, conversationId, agentId: agentId ?? undefined, data: data.data } as WebhookEvent;
}

function optionalId(value: unknown): string | undefined {
  const parsed = IdSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

function describeIssue(error: z.core.$ZodError, prefix: string[]): string {
  const issue = error.issues[0];
  if (!issue) return 'unreadable';
  const path = [...prefix, ...issue.path.map(String)].join('.') || '(root)';
  // zod drops `input` from finished issues; its message says what it received ("…, received undefined").
  const what = issue.code === 'invalid_type' && /received undefined$/.test(issue.message) ? 'required' : issue.message;
  return `${path}: ${what}`;
}
