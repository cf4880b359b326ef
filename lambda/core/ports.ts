/**
 * What the pure pipeline needs from the outside world. Adapters in `lambda/adapters/`
 * implement these; tests may pass their own.
 *
 * Every method that does I/O takes `deadlineMs` (epoch ms): the adapter aborts its work then,
 * so a stalled dependency ends in a logged answer rather than a Lambda timeout with no trace
 * (SPEC §11). The pipeline computes the deadlines (core/time-budget.ts).
 */
import type { PreparedAudio } from './audio';
import type { CrmPayload } from './crm-payload-schema';
import type { WebhookSecrets } from './webhook-secrets';

export interface SecretSource {
  /**
   * The cached secrets; fetched (within `deadlineMs`) only when none was ever fetched. Once
   * one was, an expired cache is refreshed in the background and the last verified secret
   * keeps working meanwhile (SPEC §11). Throws `SecretUnavailableError`.
   */
  current(deadlineMs: number): Promise<WebhookSecrets>;
  /**
   * Fetches again after a signature mismatch so a rotation takes effect without a redeploy.
   * Resolves `undefined` when a fetch happened too recently or failed (SPEC §8).
   */
  refreshed(deadlineMs: number): Promise<WebhookSecrets | undefined>;
  /** Why the last background refresh failed, while the cached secret is still in use. */
  staleReason(): string | undefined;
}

export type ForwardResult =
  | { ok: true; attempts: number }
  | { ok: false; attempts: number; lastError: string; permanent: boolean };

export interface CrmForwarder {
  /** Tries until it succeeds, meets a permanent refusal, or runs out of attempts, budget or `deadlineMs`. */
  forward(payload: CrmPayload, deadlineMs: number): Promise<ForwardResult>;
}

/** The SQS message of SPEC §5, exactly these fields. */
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
  /** The claim blocks other deliveries until then: the claiming request's own hard end (SPEC §2 step 6). */
  holdUntilMs: number;
  deadlineMs: number;
}

/** Deduplication records keyed by `type#conversation_id` (SPEC §2 step 6). */
export interface IdempotencyStore {
  claim(key: string, request: ClaimRequest): Promise<ClaimResult>;
  complete(key: string, nowMs: number, deadlineMs: number): Promise<void>;
  /** Forget a claim so that a retry of a failed delivery is processed again. */
  release(key: string, deadlineMs: number): Promise<void>;
}
