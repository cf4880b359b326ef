/**
 * The ElevenLabs-Signature scheme (contract §3; ElevenLabs' post-call webhook docs,
 * "Authentication"): header `t=<unix seconds>,v0=<hex>`, where the hex is
 * HMAC-SHA256(secret, `${t}.${raw body}`). Unlike ElevenLabs' own SDK verifiers we compare
 * in constant time and reject timestamps from the future as well as the past
 * (the same rules as stripe-node and standard-webhooks).
 *
 * Pure: the caller passes `now`, the tolerance and the secrets.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureError } from './errors';
import type { WebhookSecrets } from './webhook-secrets';

export const SIGNATURE_HEADER = 'elevenlabs-signature';

/** Bounds that keep a hostile header from costing more than a few HMACs. */
const MAX_HEADER_LENGTH = 2048;
const MAX_SIGNATURES = 8;
const HEX_SHA256 = /^[0-9a-f]{64}$/;
const UNIX_SECONDS = /^\d{1,12}$/;

export interface ParsedSignatureHeader {
  timestamp: number;
  /** Every `v0=` value, lower-cased; values that are not 64 hex digits can never match. */
  signatures: string[];
}

/** The raw body exactly as received: a string is hashed as UTF-8, a Buffer as is. */
export type RawBody = string | Buffer;

export function parseSignatureHeader(header: string): ParsedSignatureHeader {
  if (header.length > MAX_HEADER_LENGTH) throw new SignatureError('malformed signature header');
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new SignatureError('malformed signature header');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      // A second `t=` would let an attacker choose which one is checked: refuse it.
      if (timestamp !== undefined || !UNIX_SECONDS.test(value)) {
        throw new SignatureError('malformed signature header');
      }
      timestamp = Number(value);
    } else if (key === 'v0') {
      signatures.push(value.toLowerCase());
    }
    // Other schemes (a future `v1=`) are ignored, as Stripe does, so a scheme upgrade
    // on ElevenLabs' side does not break verification.
  }
  if (timestamp === undefined || signatures.length === 0 || signatures.length > MAX_SIGNATURES) {
    throw new SignatureError('malformed signature header');
  }
  return { timestamp, signatures };
}

/** Throws unless `timestamp` (seconds) is within ±`toleranceSeconds` of `nowMs`. */
export function assertTimestampFresh(timestamp: number, nowMs: number, toleranceSeconds: number): void {
  const skew = Math.abs(Math.floor(nowMs / 1000) - timestamp);
  if (!(skew <= toleranceSeconds)) throw new SignatureError('timestamp outside tolerance');
}

function hmac(secret: string, timestamp: number, body: RawBody): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
}

/** Lower-case hex HMAC-SHA256 of `${timestamp}.${body}`. */
export function computeSignature(secret: string, timestamp: number, body: RawBody): string {
  return hmac(secret, timestamp, body).toString('hex');
}

/**
 * True when any `v0` matches the HMAC under any of the secrets. Every comparison runs
 * in constant time on the 32 raw bytes; only well-formed 64-hex-digit candidates are decoded.
 */
export function signatureMatches(parsed: ParsedSignatureHeader, body: RawBody, secrets: readonly string[]): boolean {
  const candidates = parsed.signatures.filter((s) => HEX_SHA256.test(s)).map((s) => Buffer.from(s, 'hex'));
  if (candidates.length === 0) return false;
  let matched = false;
  for (const secret of secrets) {
    const expected = hmac(secret, parsed.timestamp, body);
    for (const candidate of candidates) {
      // No early exit: the time taken does not depend on which entry matched.
      matched = timingSafeEqual(expected, candidate) || matched;
    }
  }
  return matched;
}

/**
 * Constant-time comparison of two tokens of any length: both sides are hashed first so
 * `timingSafeEqual` sees equal lengths and the token's length does not leak.
 */
export function tokensEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b) && expected.length > 0;
}

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), if any. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(authorization);
  return match?.[1];
}

/** The header ElevenLabs would send for `body` at `timestamp` (used by tests and tools). */
export function formatSignatureHeader(secret: string, timestamp: number, body: RawBody): string {
  return `t=${timestamp},v0=${computeSignature(secret, timestamp, body)}`;
}

export interface VerifyOptions {
  /** SIGNATURE_TOLERANCE_SECONDS: how far `t` may be from now, either way. */
  toleranceSeconds: number;
}

/** What a request presents, read and checked without any secret. */
export interface PresentedAuth {
  signature?: ParsedSignatureHeader;
  bearer?: string;
}

type Headers = Readonly<Record<string, string | undefined>>;

/**
 * The checks that need no secret (header present and well formed, timestamp fresh), so the
 * pipeline can refuse junk before it ever loads the secret. Header names in lower case.
 */
export function checkWebhookHeaders(headers: Headers, nowMs: number, options: VerifyOptions): PresentedAuth {
  const signatureHeader = headers[SIGNATURE_HEADER]?.trim() || undefined;
  const bearer = bearerToken(headers.authorization);
  if (signatureHeader === undefined && bearer === undefined) throw new SignatureError('missing signature');
  if (signatureHeader === undefined) return { bearer };
  const signature = parseSignatureHeader(signatureHeader);
  assertTimestampFresh(signature.timestamp, nowMs, options.toleranceSeconds);
  return bearer === undefined ? { signature } : { signature, bearer };
}

/**
 * Verifies one webhook delivery (contract §3): the `ElevenLabs-Signature` HMAC over the raw body
 * under any of the current and previous secrets, or a configured bearer token; both compared
 * in constant time. Returns how it authenticated; throws `SignatureError` with the 401 reason.
 */
export function verifyWebhook(
  rawBody: RawBody,
  headers: Headers,
  secrets: WebhookSecrets,
  nowMs: number,
  options: VerifyOptions,
): 'hmac' | 'bearer' {
  return verifyPresented(checkWebhookHeaders(headers, nowMs, options), rawBody, secrets);
}

/**
 * The part of `verifyWebhook` that needs the secrets, for a caller that has already run
 * `checkWebhookHeaders` (the pipeline checks the headers before it loads the secret).
 */
export function verifyPresented(presented: PresentedAuth, rawBody: RawBody, secrets: WebhookSecrets): 'hmac' | 'bearer' {
  if (presented.bearer !== undefined && secrets.bearerToken !== undefined && tokensEqual(presented.bearer, secrets.bearerToken)) {
    return 'bearer';
  }
  if (presented.signature === undefined) throw new SignatureError('missing signature');
  if (!signatureMatches(presented.signature, rawBody, secrets.hmacSecrets)) throw new SignatureError('signature mismatch');
  return 'hmac';
}

/** The headers ElevenLabs would send with `body` signed at `nowMs` (the send tool, tests, the benchmark). */
export function signWebhook(secret: string, body: RawBody, nowMs: number): Record<string, string> {
  return {
    'content-type': 'application/json',
    [SIGNATURE_HEADER]: formatSignatureHeader(secret, Math.floor(nowMs / 1000), body),
  };
}
