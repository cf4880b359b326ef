/**
 * One error type per failure kind. Each carries the HTTP status it maps to and the
 * message callers may see; `toErrorResponse` is the single place that turns an error
 * into a response (contract §2: errors are `{"error": "..."}`, never a stack, secret or
 * payload excerpt).
 */

import { type ErrorKind, statusOf } from './outcome';

export type ErrorBody = { error: string };

export abstract class WebhookError extends Error {
  /** The outcome this error ends a request with; its status comes from core/outcome.ts. */
  abstract readonly kind: ErrorKind;
  get statusCode(): number {
    return statusOf(this.kind);
  }
  /** What the caller sees. Defaults to the message; never include payload text. */
  get publicMessage(): string {
    return this.message;
  }
  /** Response headers that come with this error (e.g. `Retry-After`). */
  get headers(): Readonly<Record<string, string>> | undefined {
    return undefined;
  }
}

/** The four 401 reasons of contract §3, exactly as the spec spells them. */
export type SignatureFailureReason =
  | 'missing signature'
  | 'malformed signature header'
  | 'timestamp outside tolerance'
  | 'signature mismatch';

export class SignatureError extends WebhookError {
  readonly kind = 'signature_rejected' as const;
  constructor(readonly reason: SignatureFailureReason) {
    super(reason);
    this.name = 'SignatureError';
  }
}

export class SourceNotAllowedError extends WebhookError {
  readonly kind = 'source_not_allowed' as const;
  constructor() {
    super('source not allowed');
    this.name = 'SourceNotAllowedError';
  }
}

export class InvalidJsonError extends WebhookError {
  readonly kind = 'invalid_json' as const;
  constructor() {
    super('invalid JSON');
    this.name = 'InvalidJsonError';
  }
}

/** The body is JSON but not an event we can act on; `detail` names the field, not its value. */
export class InvalidEventError extends WebhookError {
  readonly kind = 'invalid_event' as const;
  constructor(detail: string) {
    super(`invalid event: ${detail}`);
    this.name = 'InvalidEventError';
  }
}

export class InvalidAudioError extends WebhookError {
  readonly kind = 'invalid_audio' as const;
  constructor(readonly detail: string) {
    super('invalid audio');
    this.name = 'InvalidAudioError';
  }
}

export class PayloadTooLargeError extends WebhookError {
  readonly kind = 'payload_too_large' as const;
  constructor() {
    super('payload too large');
    this.name = 'PayloadTooLargeError';
  }
}

/** How long an in-flight duplicate is told to wait: about ElevenLabs' second retry (contract §1). */
const DUPLICATE_RETRY_AFTER_SECONDS = 30;

/**
 * Another delivery of the same event is being processed right now (contract §2 step 6). 429, not
 * 409: ElevenLabs retries 429 and ends its retries on any other 4xx.
 */
export class DuplicateInProgressError extends WebhookError {
  readonly kind = 'duplicate_in_progress' as const;
  constructor() {
    super('duplicate delivery in progress');
    this.name = 'DuplicateInProgressError';
  }
  override get headers() {
    return { 'retry-after': String(DUPLICATE_RETRY_AFTER_SECONDS) };
  }
}

/** Fail closed (contract §3): no secret configured, or Secrets Manager unreachable. */
export class SecretUnavailableError extends WebhookError {
  readonly kind = 'secret_unavailable' as const;
  constructor(readonly detail: string) {
    super('webhook secret unavailable');
    this.name = 'SecretUnavailableError';
  }
}

export class AudioStoreError extends WebhookError {
  readonly kind = 'audio_store_failed' as const;
  constructor(readonly detail: string) {
    super('audio could not be stored');
    this.name = 'AudioStoreError';
  }
}

/** The CRM failed and the retry queue refused the payload: the only CRM case worth a retry. */
export class ForwardNotDurableError extends WebhookError {
  readonly kind = 'forward_not_durable' as const;
  /** `attempts`: how many times the CRM was tried before giving up. */
  constructor(
    readonly detail: string,
    readonly attempts?: number,
  ) {
    super('event could not be forwarded or queued');
    this.name = 'ForwardNotDurableError';
  }
}

/** Configuration that cannot work; the detail (variable names) goes to the log only. */
export class ConfigurationError extends WebhookError {
  readonly kind = 'misconfigured' as const;
  constructor(readonly detail: string) {
    super(`invalid configuration: ${detail}`);
    this.name = 'ConfigurationError';
  }
  override get publicMessage(): string {
    return 'receiver misconfigured';
  }
}

export function toErrorResponse(error: unknown): { statusCode: number; body: ErrorBody; headers?: Readonly<Record<string, string>> } {
  if (error instanceof WebhookError) {
    const { headers } = error;
    return { statusCode: error.statusCode, body: { error: error.publicMessage }, ...(headers ? { headers } : {}) };
  }
  return { statusCode: 500, body: { error: 'internal error' } };
}

/** A short, log-safe description of any thrown value (name and code, no payload). */
export function describeError(error: unknown): string {
  if (error instanceof WebhookError && 'detail' in error && typeof error.detail === 'string') {
    return `${error.name}: ${error.detail}`;
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const name = error.name === 'Error' && typeof code === 'string' ? code : error.name;
    return truncate(`${name}: ${error.message}`, 200);
  }
  return 'non-error thrown';
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
