/**
 * In-memory implementations of the pipeline's ports, for unit tests of the pure core.
 * Integration tests use the real adapters against local servers instead.
 */
import type { PreparedAudio } from '../../lambda/core/audio';
import type { CrmPayload } from '../../lambda/core/crm-payload';
import { SecretUnavailableError } from '../../lambda/core/errors';
import type { WebhookDeps } from '../../lambda/core/handle-webhook';
import { DEFAULT_AUDIO_CHECK_DELAY_SECONDS } from '../../lambda/core/keep-call';
import type { ClaimResult, ForwardResult, IdempotencyStore, RetryQueueMessage } from '../../lambda/core/ports';
import type { WebhookSecrets } from '../../lambda/core/webhook-secrets';

export const TEST_SECRET = 'wsec_unit_test_secret';
export const NOW = Date.parse('2026-11-22T10:00:00Z');

export interface MemoryWorld {
  deps: WebhookDeps;
  crmCalls: CrmPayload[];
  queued: RetryQueueMessage[];
  stored: PreparedAudio[];
  secretFetches: { current: number; refreshed: number };
  setSecrets(next: WebhookSecrets | Error): void;
  setRefreshedSecrets(next: WebhookSecrets | undefined): void;
  setCrmResult(result: ForwardResult | ((payload: CrmPayload) => ForwardResult)): void;
  /** Make the queue refuse (or, with `null`, accept again). */
  failQueue(error?: Error | null): void;
  /** Make the audio store refuse (or, with `null`, accept again). */
  failAudio(error?: Error | null): void;
}

export function memoryWorld(overrides: Partial<WebhookDeps> = {}): MemoryWorld {
  let secrets: WebhookSecrets | Error = { hmacSecrets: [TEST_SECRET] };
  let refreshed: WebhookSecrets | undefined;
  let crmResult: ForwardResult | ((payload: CrmPayload) => ForwardResult) = { ok: true, attempts: 1 };
  let queueError: Error | undefined;
  let audioError: Error | undefined;
  const world: MemoryWorld = {
    crmCalls: [],
    queued: [],
    stored: [],
    secretFetches: { current: 0, refreshed: 0 },
    setSecrets: (next) => {
      secrets = next;
    },
    setRefreshedSecrets: (next) => {
      refreshed = next;
    },
    setCrmResult: (next) => {
      crmResult = next;
    },
    failQueue: (error = new Error('queue down')) => {
      queueError = error ?? undefined;
    },
    failAudio: (error = new Error('S3 down')) => {
      audioError = error ?? undefined;
    },
    deps: {
      config: {
        signatureToleranceSeconds: 1800,
        crmMapping: { defaultSubject: 'Conversational AI call', subjectsByAgent: {} },
        audioCheckDelaySeconds: DEFAULT_AUDIO_CHECK_DELAY_SECONDS,
      },
      now: () => NOW,
      secrets: {
        async current() {
          world.secretFetches.current += 1;
          if (secrets instanceof Error) throw new SecretUnavailableError(secrets.message);
          return secrets;
        },
        async refreshed() {
          world.secretFetches.refreshed += 1;
          return refreshed;
        },
        staleReason: () => undefined,
      },
      crm: {
        async forward(payload) {
          world.crmCalls.push(payload);
          return typeof crmResult === 'function' ? crmResult(payload) : crmResult;
        },
      },
      retryQueue: {
        async enqueue(message) {
          if (queueError) throw queueError;
          world.queued.push(message);
        },
      },
      audioStore: {
        async put(audio) {
          if (audioError) throw audioError;
          world.stored.push(audio);
        },
      },
      ...overrides,
    },
  };
  return world;
}

/** A Map-backed idempotency store with the DynamoDB adapter's semantics. */
export function memoryIdempotency(): IdempotencyStore & { records: Map<string, 'in_progress' | 'completed'>; holds: Map<string, number> } {
  const records = new Map<string, 'in_progress' | 'completed'>();
  const holds = new Map<string, number>();
  return {
    records,
    holds,
    async claim(key, { nowMs, holdUntilMs }): Promise<ClaimResult> {
      const existing = records.get(key);
      if (existing === 'completed') return existing;
      if (existing === 'in_progress' && (holds.get(key) ?? 0) >= nowMs) return existing;
      records.set(key, 'in_progress');
      holds.set(key, holdUntilMs);
      return 'claimed';
    },
    async complete(key) {
      records.set(key, 'completed');
    },
    async release(key) {
      records.delete(key);
    },
  };
}
