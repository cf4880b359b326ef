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
