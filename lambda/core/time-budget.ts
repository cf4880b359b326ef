/**
 * Every time limit of the system, in one place (contract §5 "Forwarding", §11 "Faults, time
 * limits and alarms"). A request gets one deadline from Lambda's remaining time; each
 * dependency call is bounded by the earlier of that deadline and its own limit, so a stalled
 * dependency ends in a logged answer instead of a Lambda timeout with no trace. The stack
 * (infra/) sets its Lambda timeouts from the same constants.
 *
 * Pure: callers pass `now` (epoch ms).
 */

/** Lambda timeouts the stack sets. API Gateway HTTP APIs give an integration at most 30 s. */
export const RECEIVER_TIMEOUT_MS = 28_000;
export const RETRY_WORKER_TIMEOUT_MS = 30_000;
/**
 * The audio worker streams one recording per invocation (contract §10): at 128 kbit/s a two-hour
 * call is 115 MB, which takes well under a minute between ElevenLabs, Lambda and S3.
 */
export const AUDIO_WORKER_TIMEOUT_MS = 300_000;
/**
 * The compile cache's layer builder (SPEC §14), once per deploy: it imports ~1 MB of JavaScript
 * and writes ~0.5 MB, in seconds; the rest is margin (and IAM's first-write retries).
 */
export const LAYER_BUILDER_TIMEOUT_MS = 120_000;
/** One attempt to PUT the builder's answer to CloudFormation's pre-signed URL. */
export const CUSTOM_RESOURCE_ANSWER_TIMEOUT_MS = 10_000;
/** contract §13: the SMS worker sends a batch of texts one after another (End User Messaging has per-second limits). */
export const SMS_WORKER_TIMEOUT_MS = 30_000;
/** The SMS worker starts a text only with at least this long left (a send and its writes); otherwise it comes back. */
export const SMS_RECORD_MIN_TIME_MS = 5_000;
/**
 * The reconciler (contract §12) pages and hands the work to the queue: a 48-hour window of tens
 * of thousands of calls is a few hundred pages and as many HeadObjects, minutes at worst.
 */
export const RECONCILER_TIMEOUT_MS = 600_000;
/** The audio worker starts a check only with at least this long left; otherwise it comes back. */
export const AUDIO_CHECK_MIN_TIME_MS = 5_000;
/**
 * Kept back from the audio worker's deadline: a recording still streaming then is abandoned
 * so that its multipart upload is aborted before the worker must answer.
 */
export const RECORDING_ABORT_RESERVE_MS = 5_000;

/** Kept back from Lambda's remaining time to write the answer and its log line. */
export const RESPONSE_RESERVE_MS = 1_500;

/** contract §5: all attempts of one CRM forward, waits included. */
export const CRM_FORWARD_BUDGET_MS = 12_000;
/** The CRM's backoff between attempts: the first step, doubling, never more than the cap. */
export const CRM_BACKOFF_BASE_MS = 250;
export const CRM_BACKOFF_CAP_MS = 4_000;
/**
 * undici's own headers/body timeouts on the CRM connection pool: backstops only. Each attempt
 * is aborted by its own timer (CRM_TIMEOUT_MS); these fire only if that failed.
 */
export const CRM_BACKSTOP_MS = CRM_FORWARD_BUDGET_MS + 1_000;

/**
 * Kept back from the CRM's retries for the retry-queue write (SQS: 2 attempts of 2 s plus a
 * backoff), so a CRM that is slow to fail still leaves room to make the event durable.
 */
export const QUEUE_WRITE_RESERVE_MS = 5_000;

/** Kept back from the worker's CRM retries for its dead-letter write and visibility change. */
export const WORKER_WRITE_RESERVE_MS = 4_000;

/**
 * Per dependency: the longest one call may take, all SDK attempts included. Secrets Manager's
 * bound makes a cold start against a stalled endpoint answer 500 within 6 s (contract §11; 4.1 s
 * measured, bench figure 7).
 */
export const DEPENDENCY_LIMITS_MS = {
  secret: 4_500,
  idempotencyClaim: 2_000,
  idempotencyWrite: 1_500,
  queueSend: 4_500,
  audioPut: 20_000,
  visibilityChange: 2_000,
  /** The event archive's PutObject (contract §10): a transcription body is at most Lambda's 6 MB. */
  archivePut: 10_000,
  /** HeadObject before an audio check, and the metadata copy after a recovery. */
  recordingHead: 3_000,
  recordingCopy: 30_000,
  /** One page of the ElevenLabs conversation list (the reconciler, the backfill). */
  conversationList: 15_000,
  /** One SendTextMessage to AWS End User Messaging SMS, SDK attempts included (contract §13). */
  smsSend: 10_000,
  /** One conversation's JSON from the ElevenLabs API (the call check, contract §12): up to tens of MB. */
  conversationGet: 30_000,
  /** The reconciler's first-run marker in S3 (contract §12): a few bytes. */
  markerRead: 3_000,
} as const;
export type Dependency = keyof typeof DEPENDENCY_LIMITS_MS;

/**
 * Per-attempt settings for the AWS SDK clients: `requestTimeout` with `throwOnRequestTimeout`
 * (without it @smithy/node-http-handler only logs a warning: test/faults/stalls.test.ts) and `maxAttempts`.
 * attempts × requestTimeout (+ the SDK's short backoff) stays within the dependency's limit.
 */
export const SDK_ATTEMPTS = {
  secret: { maxAttempts: 2, connectionTimeoutMs: 1_000, requestTimeoutMs: 2_000 },
  idempotency: { maxAttempts: 2, connectionTimeoutMs: 500, requestTimeoutMs: 800 },
  queue: { maxAttempts: 2, connectionTimeoutMs: 1_000, requestTimeoutMs: 2_000 },
  audio: { maxAttempts: 3, connectionTimeoutMs: 2_000, requestTimeoutMs: 8_000 },
  /** Multipart parts of 5 MiB and a server-side copy of up to a few hundred MB. */
  recording: { maxAttempts: 3, connectionTimeoutMs: 2_000, requestTimeoutMs: 30_000 },
  /**
   * SendTextMessage carries no idempotency token: an attempt that timed out may have sent the
   * text, and every retry of it risks a second one. One SDK retry absorbs a throttling blip; the
   * queue's backoff does the rest.
   */
  sms: { maxAttempts: 2, connectionTimeoutMs: 1_000, requestTimeoutMs: 4_000 },
} as const;

/**
 * The ElevenLabs audio endpoint streams; these bound the wait for its headers and for each
 * next chunk of the body (undici's headersTimeout / bodyTimeout). The whole download is bounded
 * by the worker's deadline.
 */
export const ELEVENLABS_HEADERS_TIMEOUT_MS = 15_000;
export const ELEVENLABS_BODY_IDLE_TIMEOUT_MS = 30_000;

/** One request's time: when it must be answered, and when Lambda would stop it. */
export interface RequestBudget {
  /** Epoch ms by which the answer must be ready (the hard end minus the response reserve). */
  deadlineMs: number;
  /** Epoch ms at which Lambda stops the function; nothing of this request can run later. */
  hardEndMs: number;
}

/**
 * The budget of a request starting at `nowMs`. `remainingMs` is Lambda's
 * `getRemainingTimeInMillis()`; without it (local runs, tests) the Lambda timeout is assumed,
 * so calls are bounded the same way everywhere.
 */
export function requestBudget(nowMs: number, remainingMs: number | undefined, timeoutMs = RECEIVER_TIMEOUT_MS): RequestBudget {
  const remaining = remainingMs !== undefined && Number.isFinite(remainingMs) ? Math.max(0, remainingMs) : timeoutMs;
  const hardEndMs = nowMs + remaining;
  return { hardEndMs, deadlineMs: hardEndMs - Math.min(RESPONSE_RESERVE_MS, remaining / 2) };
}

/** The end (epoch ms) of one call to `dependency` starting at `nowMs` within `deadlineMs`. */
export function callDeadline(dependency: Dependency, nowMs: number, deadlineMs: number): number {
  return Math.min(deadlineMs, nowMs + DEPENDENCY_LIMITS_MS[dependency]);
}

/** `deadlineMs` minus a reserve for what must still happen after, never before `nowMs`. */
export function withReserve(deadlineMs: number, reserveMs: number, nowMs: number): number {
  return Math.max(nowMs, deadlineMs - reserveMs);
}
