/**
 * What the pure pipeline needs from the outside world. Adapters in `lambda/adapters/`
 * implement these; tests may pass their own.
 *
 * Every method that does I/O takes `deadlineMs` (epoch ms): the adapter aborts its work then,
 * so a stalled dependency ends in a logged answer rather than a Lambda timeout with no trace
 * (contract §11). The pipeline computes the deadlines (core/time-budget.ts).
 */
import type { PreparedAudio } from './audio';
import type { CrmPayload } from './crm-payload-schema';
import type { SmsQueueMessage } from './text-back/sms-message';
import type { WebhookSecrets } from './webhook-secrets';

export interface SecretSource {
  /**
   * The cached secrets; fetched (within `deadlineMs`) only when none was ever fetched. Once
   * one was, an expired cache is refreshed in the background and the last verified secret
   * keeps working meanwhile (contract §11). Throws `SecretUnavailableError`.
   */
  current(deadlineMs: number): Promise<WebhookSecrets>;
  /**
   * Fetches again after a signature mismatch so a rotation takes effect without a redeploy.
   * Resolves `undefined` when a fetch happened too recently or failed (contract §8).
   */
  refreshed(deadlineMs: number): Promise<WebhookSecrets | undefined>;
  /** Why the last background refresh failed, while the cached secret is still in use. */
  staleReason(): string | undefined;
}

export type ForwardResult = { ok: true; attempts: number } | { ok: false; attempts: number; lastError: string; permanent: boolean };

export interface CrmForwarder {
  /** Tries until it succeeds, meets a permanent refusal, or runs out of attempts, budget or `deadlineMs`. */
  forward(payload: CrmPayload, deadlineMs: number): Promise<ForwardResult>;
}

/** The SQS message of contract §5, exactly these fields. */
export interface RetryQueueMessage {
  crmPayload: CrmPayload;
  eventType: string;
  conversationId: string;
  attempts: number;
  lastError: string;
  firstAttemptAt: string;
}

export interface RetryQueue {
  enqueue(message: RetryQueueMessage, deadlineMs: number): Promise<void>;
}

export interface AudioStore {
  put(audio: PreparedAudio, deadlineMs: number): Promise<void>;
}

export type ClaimResult = 'claimed' | 'completed' | 'in_progress';

export interface ClaimRequest {
  nowMs: number;
  /** The claim blocks other deliveries until then: the claiming request's own hard end (contract §2 step 6). */
  holdUntilMs: number;
  deadlineMs: number;
  /** How long the record lives (its TTL), seconds; default the deduplication TTL. `sms#<number>` uses SMS_MIN_HOURS_BETWEEN (contract §13). */
  ttlSeconds?: number;
}

/** A write whose request is built ahead and sent only on `commit`; `abandon` drops it unsent. */
export interface PreparedWrite {
  commit(deadlineMs: number): Promise<void>;
  abandon(): void;
}

/** Deduplication records keyed by `type#conversation_id` (contract §2 step 6). */
export interface IdempotencyStore {
  claim(key: string, request: ClaimRequest): Promise<ClaimResult>;
  /** `ttlSeconds`: as in the claim; default the deduplication TTL. */
  complete(key: string, nowMs: number, deadlineMs: number, ttlSeconds?: number): Promise<void>;
  /**
   * `complete`, with its request built (serialised, signed) now, while the dispatch waits, and
   * sent only by `commit` once the event is durable (SPEC §14). Optional: `complete` is used without it.
   */
  prepareCompletion?(key: string, nowMs: number): PreparedWrite;
  /** Forget a claim so that a retry of a failed delivery is processed again. */
  release(key: string, deadlineMs: number): Promise<void>;
}

/** Bytes arriving over time (an HTTP response body); the consumer may destroy it on failure. */
export type ByteStream = AsyncIterable<Uint8Array>;

export interface RecordingMetadata {
  conversationId: string;
  agentId: string;
}

/** Recordings in the calls bucket (contract §10), for the audio worker and the backfill. */
export interface RecordingStore {
  /** True when an object is at `key`, whoever wrote it, unless it is an unfinished recovery of our own (contract §10). */
  isStored(key: string, deadlineMs: number): Promise<boolean>;
  /**
   * Streams `body` to `key` as a multipart upload, hashing it on the way, then records the
   * hash as metadata. Any failure aborts the upload: no partial object is ever left at `key`.
   */
  store(key: string, body: ByteStream, metadata: RecordingMetadata, deadlineMs: number): Promise<{ bytes: number; sha256: string }>;
}

/**
 * ElevenLabs' answer to `GET /v1/convai/conversations/{id}/audio`: a 200 with its streamed body
 * and `Content-Type`, or another status with its `Retry-After` (RFC 9110 §10.2.3), if any.
 */
export type AudioAnswer =
  | { status: 200; body: ByteStream; contentType?: string }
  | { status: number; body?: undefined; retryAfter?: string };

/** ElevenLabs' answer to `GET /v1/convai/conversations/{id}`: the JSON bytes exactly as sent (they are archived as they are). */
export type ConversationAnswer = { status: 200; body: Buffer } | { status: number; body?: undefined; retryAfter?: string };

export interface ConversationListQuery {
  afterUnixSeconds?: number;
  beforeUnixSeconds?: number;
  agentId?: string;
  cursor?: string;
  pageSize: number;
}

export interface ConversationPage {
  conversations: { conversationId: string; agentId: string; startTimeUnixSeconds: number }[];
  nextCursor?: string;
  hasMore: boolean;
}

/**
 * The ElevenLabs API, bounded by `deadlineMs` (contract §10, §11, §12). Untrusted: a method
 * throws on a network error, a timeout, or an answer over its size bound; statuses are the
 * caller's to judge.
 */
export interface ElevenLabsApi {
  conversationAudio(conversationId: string, apiKey: string, deadlineMs: number): Promise<AudioAnswer>;
  conversation(conversationId: string, apiKey: string, deadlineMs: number): Promise<ConversationAnswer>;
  listConversations(query: ConversationListQuery, apiKey: string, deadlineMs: number): Promise<ConversationPage>;
}

/** The ElevenLabs API key; `undefined` when none is configured (recovery off). */
export interface ApiKeySource {
  current(deadlineMs: number): Promise<string | undefined>;
}

/** The event archive (contract §10): the verified body of an event, as received. */
export interface EventArchive {
  put(entry: ArchiveEntry, deadlineMs: number): Promise<void>;
  /** Deletes what `put` wrote: an event whose forward was not durable must not stand in the ledger (contract §12). */
  remove(key: string, deadlineMs: number): Promise<void>;
}

export interface ArchiveEntry {
  key: string;
  body: string | Buffer;
  conversationId: string;
  agentId: string;
  eventTimestamp?: number;
  /** Where the body came from when not from a webhook: `elevenlabs-api` for a recovered call (contract §12). */
  source?: string;
}

/**
 * The ledger of contract §12: a conversation has its record when the archive holds one of its
 * record events (`calls/<agent_id>/<conversation_id>/<type>.json`).
 */
export interface CallLedger {
  hasRecord(agentId: string, conversationId: string, deadlineMs: number): Promise<boolean>;
}

/** The audio-check queue (contract §10): delayed messages for the audio worker. */
export interface AudioCheckQueue {
  schedule(message: AudioCheckMessage, delaySeconds: number, deadlineMs: number): Promise<void>;
}

/** contract §10: exactly these fields. */
export interface AudioCheckMessage {
  conversationId: string;
  agentId: string;
  eventTimestamp: number | null;
}

/** The SMS queue (contract §13): the receiver and the call check only enqueue; the SMS worker sends. */
export interface SmsQueue {
  enqueue(message: SmsQueueMessage, deadlineMs: number): Promise<void>;
}

export interface OutgoingText {
  /** E.164. */
  to: string;
  body: string;
}

/**
 * What AWS End User Messaging SMS made of one text (contract §13): `opted_out` the recipient
 * replied STOP at some point; `refused` will not change by retrying (a validation error, access
 * denied, a spending limit); `unavailable` may (throttling, 5xx, a network error, a timeout).
 * `error` is log-safe: an error name, reason and status, never the API's message (which may
 * repeat the number).
 */
export type SmsSendResult =
  | { kind: 'sent'; messageId?: string }
  | { kind: 'opted_out' }
  | { kind: 'refused'; error: string }
  | { kind: 'unavailable'; error: string };

export interface SmsSender {
  send(text: OutgoingText, deadlineMs: number): Promise<SmsSendResult>;
}
