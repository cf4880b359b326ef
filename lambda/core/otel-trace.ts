/**
 * An OpenTelemetry transcription (`post_call_transcription_otel`, contract §4) read into the
 * conversation model a `post_call_transcription` carries, so the CRM record (§5), the archive
 * and the audio check (§10) and the call check (§12) treat both formats alike.
 *
 * A webhook whose `transcript_format` is `opentelemetry` sends `data.otlp_traces` (OTLP JSON:
 * `resourceSpans[].scopeSpans[].spans[]`) instead of the model. One trace per call: a root span
 * `elevenlabs.conversation` whose attributes hold the call's facts, and a child span per turn
 * (`elevenlabs.recv.user_transcript`, `elevenlabs.recv.agent_response`, `elevenlabs.tool.<name>`).
 * The attribute names are those seen in real deliveries (2026, contract §4's table).
 *
 * Pure and total: whatever shape arrives, the result is a plain object the tolerant
 * transcription schema (events.ts) reads; a missing attribute leaves its field missing, so §5's
 * defaults apply. Linear in the number of spans (plus one sort of the turns).
 */
import { isRecord } from './read-text';

/** The root span's name (contract §4). */
const ROOT_SPAN = 'elevenlabs.conversation';
const DYNAMIC_VARIABLE_PREFIX = 'elevenlabs.dynamic_variable.';
const DATA_COLLECTION_PREFIX = 'elevenlabs.analysis.data_collection.';

/** What `transcript` holds when no span carries a turn: not a list of turns (contract §5 rules 3–4). */
const NO_TURNS = { format: 'opentelemetry' } as const;

type AttributeValue = string | number | boolean;
type Attributes = Map<string, AttributeValue>;

interface TraceTurn {
  role: 'user' | 'agent';
  message: string;
  index: number;
  startNanos: bigint;
  /** The span's position in the trace: the last tie-breaker, so the order is always defined. */
  position: number;
}

/**
 * `data` of a `post_call_transcription_otel` event → the conversation model (an object the
 * transcription schema parses). `otlp_traces` missing or null is a trace with no spans; the
 * caller refuses any other non-object `otlp_traces` (contract §4) before calling this.
 */
export function conversationFromOtel(data: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const spans = spansOf(data.otlp_traces);
  let root: Attributes | undefined;
  const turns: TraceTurn[] = [];
  spans.forEach((span, position) => {
    const attributes = attributesOf(span.attributes);
    if (root === undefined && span.name === ROOT_SPAN) root = attributes;
    collectTurns(span, attributes, position, turns);
  });
  const attrs: Attributes = root ?? new Map();
  turns.sort(byTurnOrder);

  const durationMs = numberAttribute(attrs, 'elevenlabs.session.duration_ms');
  const errorReason = stringAttribute(attrs, 'elevenlabs.error.reason');
  const externalNumber = stringAttribute(attrs, 'elevenlabs.telephony.external_number');
  const summary = stringAttribute(attrs, 'elevenlabs.analysis.transcript_summary');
  return {
    conversation_id: data.conversation_id ?? attrs.get('elevenlabs.conversation_id'),
    agent_id: data.agent_id ?? attrs.get('elevenlabs.agent_id'),
    status: stringAttribute(attrs, 'elevenlabs.status'),
    // The span status ERROR alone does not mean failed: it marks every call that did not end
    // with a client disconnect (contract §4). Only an error reason does.
    transcript: turns.length > 0 ? turns.map(({ role, message }) => ({ role, message })) : NO_TURNS,
    metadata: {
      call_duration_secs: durationMs === undefined ? undefined : Math.floor(durationMs / 1000),
      termination_reason: stringAttribute(attrs, 'elevenlabs.termination_reason'),
      error: errorReason === undefined ? undefined : { reason: errorReason },
      phone_call: externalNumber === undefined ? undefined : { external_number: externalNumber },
    },
    analysis: {
      transcript_summary: summary,
      data_collection_results: prefixed(attrs, DATA_COLLECTION_PREFIX, (value) => ({ value })),
    },
    conversation_initiation_client_data: { dynamic_variables: prefixed(attrs, DYNAMIC_VARIABLE_PREFIX, (value) => value) },
  };
}

interface Span {
  name?: unknown;
  attributes?: unknown;
  startTimeUnixNano?: unknown;
}

/** `resourceSpans[].scopeSpans[].spans[]`, skipping whatever is not an object at each level. */
function spansOf(traces: unknown): Span[] {
  const spans: Span[] = [];
  if (!isRecord(traces)) return spans;
  for (const resource of arrayOf(traces.resourceSpans)) {
    if (!isRecord(resource)) continue;
    for (const scope of arrayOf(resource.scopeSpans)) {
      if (!isRecord(scope)) continue;
      for (const span of arrayOf(scope.spans)) if (isRecord(span)) spans.push(span);
    }
  }
  return spans;
}

function arrayOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * OTLP attributes `[{key, value: AnyValue}]` → key → value, for the AnyValue kinds §4 names
 * (`stringValue`, `intValue` as a number or a numeric string, `doubleValue`, `boolValue`);
 * other kinds (arrays, maps, bytes) and malformed entries are ignored. The first entry of a
 * key wins.
 */
function attributesOf(list: unknown): Attributes {
  const attributes: Attributes = new Map();
  for (const entry of arrayOf(list)) {
    if (!isRecord(entry) || typeof entry.key !== 'string' || attributes.has(entry.key)) continue;
    const value = anyValue(entry.value);
    if (value !== undefined) attributes.set(entry.key, value);
  }
  return attributes;
}

const INT_TEXT = /^-?\d{1,20}$/;

function anyValue(value: unknown): AttributeValue | undefined {
  if (!isRecord(value)) return undefined;
  const { stringValue, intValue, doubleValue, boolValue } = value;
  if (typeof stringValue === 'string') return stringValue;
  // OTLP JSON writes 64-bit integers as strings (protobuf's JSON mapping); some exporters as numbers.
  if (typeof intValue === 'number' && Number.isFinite(intValue)) return Math.trunc(intValue);
  if (typeof intValue === 'string' && INT_TEXT.test(intValue)) return Number(intValue);
  if (typeof doubleValue === 'number' && Number.isFinite(doubleValue)) return doubleValue;
  if (typeof boolValue === 'boolean') return boolValue;
  return undefined;
}

function stringAttribute(attributes: Attributes, key: string): string | undefined {
  const value = attributes.get(key);
  return typeof value === 'string' ? value : undefined;
}

function numberAttribute(attributes: Attributes, key: string): number | undefined {
  const value = attributes.get(key);
  if (typeof value === 'number') return value;
  return typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : undefined;
}

/**
 * The attributes under `prefix` as an object keyed by the rest of the name. `Object.fromEntries`
 * defines own properties, so a name such as `__proto__` is data, never a prototype.
 */
function prefixed(attributes: Attributes, prefix: string, wrap: (value: AttributeValue) => unknown): Record<string, unknown> | undefined {
  const entries: [string, unknown][] = [];
  for (const [key, value] of attributes) {
    if (key.startsWith(prefix) && key.length > prefix.length) entries.push([key.slice(prefix.length), wrap(value)]);
  }
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

/** A span with `elevenlabs.user.text` and/or `elevenlabs.agent.text` is a turn; with both, the user's comes first. */
function collectTurns(span: Span, attributes: Attributes, position: number, turns: TraceTurn[]): void {
  const user = stringAttribute(attributes, 'elevenlabs.user.text');
  const agent = stringAttribute(attributes, 'elevenlabs.agent.text');
  if (user === undefined && agent === undefined) return;
  const index = numberAttribute(attributes, 'elevenlabs.turn.index') ?? Number.POSITIVE_INFINITY;
  const startNanos = nanos(span.startTimeUnixNano);
  if (user !== undefined) turns.push({ role: 'user', message: user, index, startNanos, position });
  if (agent !== undefined) turns.push({ role: 'agent', message: agent, index, startNanos, position: position + 0.5 });
}

/** `startTimeUnixNano`: a decimal string (OTLP JSON) or a number; unreadable sorts last. */
function nanos(value: unknown): bigint {
  if (typeof value === 'string' && /^\d{1,25}$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  return BigInt(Number.MAX_SAFE_INTEGER) ** 2n;
}

/** By `elevenlabs.turn.index`, then by start time, then as the spans came. */
function byTurnOrder(a: TraceTurn, b: TraceTurn): number {
  if (a.index !== b.index) return a.index < b.index ? -1 : 1;
  if (a.startNanos !== b.startNanos) return a.startNanos < b.startNanos ? -1 : 1;
  return a.position - b.position;
}
