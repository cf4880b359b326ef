/**
 * The request pipeline of SPEC §2, in order, over injected ports:
 * raw body → source IP → authenticate → parse → agent allowlist → deduplicate → dispatch.
 * No AWS SDK, no network, no clock of its own: everything arrives in `deps`.
 */
import type { BlockList } from 'node:net';
import { prepareAudio } from './audio';
import { type CrmMappingConfig, toCrmPayload } from './crm-payload';
import {
  AudioStoreError,
  describeError,
  DuplicateInProgressError,
  ForwardNotDurableError,
  InvalidJsonError,
  SignatureError,
  SourceNotAllowedError,
  toErrorResponse,
  WebhookError,
} from './errors';
import { type AudioEvent, type FailureEvent, isSupported, parseEvent, type TranscriptionEvent } from './events';
import { maskPhone } from './mask';
import type { AudioStore, CrmForwarder, IdempotencyStore, RetryQueue, SecretSource } from './ports';
import type { RequestFacts } from './request-facts';
import { isSourceAllowed } from './source-ip';
import {
  assertTimestampFresh,
  bearerToken,
  type ParsedSignatureHeader,
  parseSignatureHeader,
  type RawBody,
  SIGNATURE_HEADER,
  signatureMatches,
  tokensEqual,
} from './verify-signature';
import type { WebhookSecrets } from './webhook-secrets';

export interface WebhookRequest {
  /** The raw body exactly as received (SPEC §2.1). */
  body: RawBody;
  /** Header names in lower case. */
  headers: Readonly<Record<string, string | undefined>>;
  sourceIp?: string;
  /** When the answer is due (epoch ms), e.g. from Lambda's remaining time; none = no limit. */
  deadlineMs?: number;
}

/**
 * Time kept back from the CRM's retries for the retry-queue write, so a CRM that is slow to
 * fail still leaves room to make the event durable before the deadline.
 */
export const QUEUE_RESERVE_MS = 6_000;

export interface PipelineConfig {
  signatureToleranceSeconds: number;
  sourceAllowlist?: BlockList;
  allowedAgentIds?: ReadonlySet<string>;
  crmMapping: CrmMappingConfig;
}

export interface WebhookDeps {
  config: PipelineConfig;
  now: () => number;
  secrets: SecretSource;
  crm: CrmForwarder;
  retryQueue?: RetryQueue;
  audioStore?: AudioStore;
  idempotency?: IdempotencyStore;
}

export interface SuccessBody {
  received: true;
  type: string;
  conversationId: string | null;
  forwarded?: boolean;
  queued?: boolean;
  audioKey?: string;
  deduplicated?: boolean;
  skipped?: boolean;
  reason?: string;
}

export interface WebhookOutcome {
  statusCode: number;
  body: SuccessBody | { error: string };
  facts: RequestFacts;
}

export async function handleWebhook(request: WebhookRequest, deps: WebhookDeps): Promise<WebhookOutcome> {
  const facts: RequestFacts = { outcome: 'internal_error' };
  try {
    const body = await process(request, deps, facts);
    return { statusCode: 200, body, facts };
  } catch (error) {
    facts.outcome = error instanceof WebhookError ? error.kind : 'internal_error';
    facts.error = describeError(error);
    return { ...toErrorResponse(error), facts };
  }
}

async function process(request: WebhookRequest, deps: WebhookDeps, facts: RequestFacts): Promise<SuccessBody> {
  const { config } = deps;
  if (config.sourceAllowlist && !isSourceAllowed(config.sourceAllowlist, request.sourceIp)) {
    throw new SourceNotAllowedError();
  }
  facts.authenticatedBy = await authenticate(request, deps);

  const event = parseEvent(parseJson(request.body));
  facts.type = event.type;
  facts.conversationId = event.conversationId;
  facts.agentId = event.agentId;
  const base: SuccessBody = { received: true, type: event.type, conversationId: event.conversationId ?? null };

  if (config.allowedAgentIds && !(event.agentId !== undefined && config.allowedAgentIds.has(event.agentId))) {
    return skip(base, facts, 'agent not allowed');
  }
  if (!isSupported(event)) return skip(base, facts, `unsupported event type: ${event.type}`);

  const deadlineMs = request.deadlineMs;
  const dispatch = () =>
    event.type === 'post_call_audio'
      ? storeAudio(event, base, deps, facts, deadlineMs)
      : forwardToCrm(event, base, deps, facts, deadlineMs);
  if (!deps.idempotency) return dispatch();
  return deduplicated(`${event.type}#${event.data.conversation_id}`, deps.idempotency, deps.now, facts, base, dispatch);
}

function skip(base: SuccessBody, facts: RequestFacts, reason: string): SuccessBody {
  facts.outcome = 'skipped';
  facts.skipReason = reason;
  return { ...base, skipped: true, reason };
}

/**
 * SPEC §3. Cheap checks (header shape, timestamp) run before the secret is loaded, so
 * junk never costs a Secrets Manager call. A mismatch refetches the secret once.
 */
async function authenticate(request: WebhookRequest, deps: WebhookDeps): Promise<'hmac' | 'bearer'> {
  const signatureHeader = request.headers[SIGNATURE_HEADER]?.trim() || undefined;
  const bearer = bearerToken(request.headers.authorization);
  if (signatureHeader === undefined && bearer === undefined) throw new SignatureError('missing signature');

  let parsed: ParsedSignatureHeader | undefined;
  if (signatureHeader !== undefined) {
    parsed = parseSignatureHeader(signatureHeader);
    assertTimestampFresh(parsed.timestamp, deps.now(), deps.config.signatureToleranceSeconds);
  }
  const check = (secrets: WebhookSecrets): 'hmac' | 'bearer' | undefined => {
    if (bearer !== undefined && secrets.bearerToken !== undefined && tokensEqual(bearer, secrets.bearerToken)) {
      return 'bearer';
    }
    return parsed && signatureMatches(parsed, request.body, secrets.hmacSecrets) ? 'hmac' : undefined;
  };
  const verdict = check(await deps.secrets.current()) ?? (await deps.secrets.refreshed().then((s) => s && check(s)));
  if (verdict === undefined) throw new SignatureError(parsed ? 'signature mismatch' : 'missing signature');
  return verdict;
}

function parseJson(body: RawBody): unknown {
  try {
    return JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    throw new InvalidJsonError();
  }
}

/**
 * SPEC §2 step 6. A completed record answers `deduplicated`; a claim held by a delivery in
 * flight answers 409 (not 200: that delivery may still fail, and only its own 5xx tells
 * ElevenLabs to retry). Any non-200 releases the claim so a retry is processed again. If the
 * table itself is unreachable we process anyway: a rare duplicate CRM record is better than
 * losing an audio or failure event, which ElevenLabs never re-sends.
 */
async function deduplicated(
  key: string,
  store: IdempotencyStore,
  now: () => number,
  facts: RequestFacts,
  base: SuccessBody,
  dispatch: () => Promise<SuccessBody>,
): Promise<SuccessBody> {
  let claimed = false;
  try {
    const claim = await store.claim(key, now());
    if (claim === 'completed') {
      facts.outcome = 'deduplicated';
      return { ...base, deduplicated: true };
    }
    if (claim === 'in_progress') throw new DuplicateInProgressError();
    claimed = true;
  } catch (error) {
    if (error instanceof DuplicateInProgressError) throw error;
    facts.idempotencyError = describeError(error);
  }
  let result: SuccessBody;
  try {
    result = await dispatch();
  } catch (error) {
    if (claimed) await store.release(key).catch((e) => (facts.idempotencyError = describeError(e)));
    throw error;
  }
  if (claimed) await store.complete(key, now()).catch((e) => (facts.idempotencyError = describeError(e)));
  return result;
}

/** SPEC §5: forward, else queue, else 500 (the only CRM case where a retry helps). */
async function forwardToCrm(
  event: TranscriptionEvent | FailureEvent,
  base: SuccessBody,
  deps: WebhookDeps,
  facts: RequestFacts,
  deadlineMs: number | undefined,
): Promise<SuccessBody> {
  const payload = toCrmPayload(event, deps.config.crmMapping);
  facts.crmStatus = payload.status;
  facts.crmTo = maskPhone(payload.to);
  const firstAttemptMs = deps.now();
  const result = await deps.crm.forward(payload, deadlineMs === undefined ? undefined : deadlineMs - QUEUE_RESERVE_MS);
  facts.crmAttempts = result.attempts;
  if (result.ok) {
    facts.outcome = 'forwarded';
    return { ...base, forwarded: true, queued: false };
  }
  facts.error = `CRM: ${result.lastError}`;
  if (!deps.retryQueue) throw new ForwardNotDurableError(`CRM failed (${result.lastError}); no retry queue configured`);
  try {
    await deps.retryQueue.enqueue({
      crmPayload: payload,
      eventType: event.type,
      conversationId: event.data.conversation_id,
      attempts: result.attempts,
      lastError: result.lastError,
      firstAttemptAt: new Date(firstAttemptMs).toISOString(),
    }, deadlineMs);
  } catch (error) {
    throw new ForwardNotDurableError(`CRM failed (${result.lastError}); retry queue refused: ${describeError(error)}`);
  }
  facts.outcome = 'queued';
  return { ...base, forwarded: false, queued: true };
}

/** SPEC §6: decode once, store at a deterministic key (idempotent on re-delivery). */
async function storeAudio(
  event: AudioEvent,
  base: SuccessBody,
  deps: WebhookDeps,
  facts: RequestFacts,
  deadlineMs: number | undefined,
): Promise<SuccessBody> {
  if (!deps.audioStore) throw new AudioStoreError('AUDIO_BUCKET is not configured');
  const audio = prepareAudio(event.data);
  facts.audioKey = audio.key;
  facts.audioBytes = audio.bytes.length;
  try {
    await deps.audioStore.put(audio, deadlineMs);
  } catch (error) {
    throw new AudioStoreError(describeError(error));
  }
  facts.outcome = 'audio_stored';
  return { ...base, audioKey: audio.key };
}
