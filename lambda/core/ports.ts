/**
 * What the pure pipeline needs from the outside world. Adapters in `lambda/adapters/`
 * implement these; tests may pass their own.
 */
import type { PreparedAudio } from './audio';
import type { CrmPayload } from './crm-payload-schema';
import type { WebhookSecrets } from './webhook-secrets';

export interface SecretSource {
  /** The cached secrets, fetched when stale. Throws `SecretUnavailableError`. */
  current(): Promise<WebhookSecrets>;
  /**
   * Fetches again after a signature mismatch so a rotation takes effect without a redeploy.
   * Resolves `undefined` when a fetch happened too recently or failed (SPEC §8).
   */
  refreshed(): Promise<WebhookSecrets | undefined>;
}

export type ForwardResult =
  | { ok: true; attempts: number }
  | { ok: false; attempts: number; lastError: string; permanent: boolean };

export interface CrmForwarder {
  /** Tries until it succeeds, meets a permanent refusal, or runs out of attempts, budget or `deadlineMs`. */
  forward(payload: CrmPayload, deadlineMs?: number): Promise<ForwardResult>;
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

/**
 * `deadlineMs` (epoch ms) is when the request must be answered; adapters abort their I/O then,
 * so a slow dependency ends in a logged 500 rather than a Lambda timeout with no trace.
 */
export interface RetryQueue {
  enqueue(message: RetryQueueMessage, deadlineMs?: number): Promise<void>;
}

export interface AudioStore {
  put(audio: PreparedAudio, deadlineMs?: number): Promise<void>;
}

export type ClaimResult = 'claimed' | 'completed' | 'in_progress';

/** Deduplication records keyed by `type#conversation_id` (SPEC §2 step 6). */
export interface IdempotencyStore {
  claim(key: string, nowMs: number): Promise<ClaimResult>;
  complete(key: string, nowMs: number): Promise<void>;
  /** Forget a claim so that a retry of a failed delivery is processed again. */
  release(key: string): Promise<void>;
}
