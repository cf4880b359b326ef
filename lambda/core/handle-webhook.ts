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
import { type Delivery, deliverToCrm } from './deliver-to-crm';
import { keepCall } from './keep-call';
import type { AudioCheckQueue, AudioStore, CrmForwarder, EventArchive, IdempotencyStore, RetryQueue, SecretSource } from './ports';
import type { RequestFacts } from './request-facts';
import { isElevenLabsAddress, isSourceAllowed } from './source-ip';
import { callDeadline, type RequestBudget, requestBudget } from './time-budget';
import { checkWebhookHeaders, type RawBody, verifyWebhook } from './verify-signature';
import type { WebhookSecrets } from './webhook-secrets';

export interface WebhookRequest {
  /** The raw body exactly as received (SPEC §2.1). */
  body: RawBody;
  /** Header names in lower case. */
  headers: Readonly<Record<string, string | undefined>>;
  sourceIp?: string;
  /** This request's time (core/time-budget.ts); without one, the receiver's Lambda timeout from `now`. */
  budget?: RequestBudget;
}

export interface PipelineConfig {
  signatureToleranceSeconds: number;
  sourceAllowlist?: BlockList;
  allowedAgentIds?: ReadonlySet<string>;
  crmMapping: CrmMappingConfig;
  /** SPEC §10 AUDIO_CHECK_DELAY_SECONDS; default 600. */
  audioCheckDelaySeconds?: number;
}

export interface WebhookDeps {
  config: PipelineConfig;
  now: () => number;
  secrets: SecretSource;
  crm: CrmForwarder;
  retryQueue?: RetryQueue;
  audioStore?: AudioStore;
  idempotency?: IdempotencyStore;
  /** SPEC §10: present when ARCHIVE_EVENTS=true. */
  archive?: EventArchive;
  /** SPEC §10: present when AUDIO_CHECK_QUEUE_URL is set. */
  audioChecks?: AudioCheckQueue;
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
  /** Extra response headers, e.g. `Retry-After` on a 429. */
  headers?: Readonly<Record<string, string>>;
  facts: RequestFacts;
}

export async function handleWebhook(request: WebhookRequest, deps: WebhookDeps): Promise<WebhookOutcome> {
  const facts: RequestFacts = { outcome: 'internal_error' };
  try {
    const budget = request.budget ?? requestBudget(deps.now(), undefined);
    const body = await runPipeline(request, budget, deps, facts);
    return { statusCode: 200, body, facts };
  } catch (error) {
    facts.outcome = error instanceof WebhookError ? error.kind : 'internal_error';
    facts.error = describeError(error);
    return { ...toErrorResponse(error), facts };
  }
}

async function runPipeline(request: WebhookRequest, budget: RequestBudget, deps: WebhookDeps, facts: RequestFacts): Promise<SuccessBody> {
  const { config } = deps;
  if (config.sourceAllowlist && !isSourceAllowed(config.sourceAllowlist, request.sourceIp)) {
    throw new SourceNotAllowedError();
  }
  try {
    facts.authenticatedBy = await authenticate(request, budget.deadlineMs, deps);
  } catch (error) {
    // A mismatch from ElevenLabs' own egress means our stored secret is wrong (SPEC §3).
    if (error instanceof SignatureError && error.reason === 'signature mismatch' && isElevenLabsAddress(request.sourceIp)) {
      facts.mismatchFromElevenLabs = true;
    }
    throw error;
  } finally {
    facts.secretStale = deps.secrets.staleReason();
  }

  const event = parseEvent(parseJson(request.body));
  facts.type = event.type;
  facts.conversationId = event.conversationId;
  facts.agentId = event.agentId;
  const base: SuccessBody = { received: true, type: event.type, conversationId: event.conversationId ?? null };

  if (config.allowedAgentIds && !(event.agentId !== undefined && config.allowedAgentIds.has(event.agentId))) {
    return skip(base, facts, 'agent not allowed');
  }
  if (!isSupported(event)) return skip(base, facts, `unsupported event type: ${event.type}`);

  const { deadlineMs } = budget;
  const dispatch = () =>
    event.type === 'post_call_audio'
      ? storeAudio(event, base, deps, facts, deadlineMs)
      : forwardAndKeep(event, request.body, base, deps, facts, deadlineMs);
  if (!deps.idempotency) return dispatch();
  return deduplicated(`${event.type}#${event.data.conversation_id}`, deps.idempotency, budget, deps.now, facts, base, dispatch);
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
async function authenticate(request: WebhookRequest, deadlineMs: number, deps: WebhookDeps): Promise<'hmac' | 'bearer'> {
  const options = { toleranceSeconds: deps.config.signatureToleranceSeconds };
  // No secret needed to refuse a missing or malformed header or a stale timestamp.
  checkWebhookHeaders(request.headers, deps.now(), options);
  const verify = (secrets: WebhookSecrets) => verifyWebhook(request.body, request.headers, secrets, deps.now(), options);
  try {
    return verify(await deps.secrets.current(deadlineMs));
  } catch (error) {
    if (!(error instanceof SignatureError)) throw error;
    // A mismatch may mean the secret was rotated: fetch it again (rate-limited) and retry once.
    const refreshed = await deps.secrets.refreshed(deadlineMs);
    if (!refreshed) throw error;
    return verify(refreshed);
  }
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
 * flight answers 429 with `Retry-After` (not 200: that delivery may still fail, and only its
 * own 5xx tells ElevenLabs to retry; not 409: ElevenLabs ends its retries on 409). A claim is
 * held only until this request's hard end, so a retry after a crash takes it over. Any non-200
 * releases the claim so a retry is processed again.
 *
 * The table is an optimisation against duplicates, never a reason to lose an event: if it is
 * unreachable or stalls, the claim times out and we process anyway (a rare duplicate CRM
 * record beats losing an audio or failure event, which ElevenLabs never re-sends), and a
 * stalled completion write still answers 200 (SPEC §11).
 */
async function deduplicated(
  key: string,
  store: IdempotencyStore,
  budget: RequestBudget,
  now: () => number,
  facts: RequestFacts,
  base: SuccessBody,
  dispatch: () => Promise<SuccessBody>,
): Promise<SuccessBody> {
  let claimed = false;
  try {
    const startedAt = now();
    const claim = await store.claim(key, {
      nowMs: startedAt,
      holdUntilMs: budget.hardEndMs,
      deadlineMs: callDeadline('idempotencyClaim', startedAt, budget.deadlineMs),
    });
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
  const recordFailure = (error: unknown) => {
    facts.idempotencyError = describeError(error);
  };
  let result: SuccessBody;
  try {
    result = await dispatch();
  } catch (error) {
    if (claimed) await store.release(key, callDeadline('idempotencyWrite', now(), budget.deadlineMs)).catch(recordFailure);
    throw error;
  }
  if (claimed) await store.complete(key, now(), callDeadline('idempotencyWrite', now(), budget.deadlineMs)).catch(recordFailure);
  return result;
}

/** SPEC §5 and §10: the CRM forward, with the archive and the audio check running alongside. */
async function forwardAndKeep(
  event: TranscriptionEvent | FailureEvent,
  rawBody: RawBody,
  base: SuccessBody,
  deps: WebhookDeps,
  facts: RequestFacts,
  deadlineMs: number,
): Promise<SuccessBody> {
  if (!deps.archive && !deps.audioChecks) return forwardToCrm(event, base, deps, facts, deadlineMs);
  const kept = keepCall(event, rawBody, { ...deps, audioCheckDelaySeconds: deps.config.audioCheckDelaySeconds ?? 600 }, facts, deadlineMs);
  try {
    return await forwardToCrm(event, base, deps, facts, deadlineMs);
  } finally {
    await kept;
  }
}

/** SPEC §5: forward, else queue, else 500 (the only CRM case where a retry helps). */
async function forwardToCrm(
  event: TranscriptionEvent | FailureEvent,
  base: SuccessBody,
  deps: WebhookDeps,
  facts: RequestFacts,
  deadlineMs: number,
): Promise<SuccessBody> {
  const payload = toCrmPayload(event, deps.config.crmMapping);
  facts.crmStatus = payload.status;
  facts.crmTo = maskPhone(payload.to);
  let delivery: Delivery;
  try {
    delivery = await deliverToCrm(payload, { eventType: event.type, conversationId: event.data.conversation_id }, deps, deadlineMs);
  } catch (error) {
    if (error instanceof ForwardNotDurableError) facts.crmAttempts = error.attempts;
    throw error;
  }
  facts.crmAttempts = delivery.attempts;
  if (delivery.kind === 'forwarded') {
    facts.outcome = 'forwarded';
    return { ...base, forwarded: true, queued: false };
  }
  facts.error = `CRM: ${delivery.lastError}`;
  facts.outcome = 'queued';
  return { ...base, forwarded: false, queued: true };
}

/** SPEC §6: decode once, store at a deterministic key (idempotent on re-delivery). */
async function storeAudio(
  event: AudioEvent,
  base: SuccessBody,
  deps: WebhookDeps,
  facts: RequestFacts,
  deadlineMs: number,
): Promise<SuccessBody> {
  if (!deps.audioStore) throw new AudioStoreError('AUDIO_BUCKET is not configured');
  const audio = prepareAudio(event.data);
  facts.audioKey = audio.key;
  facts.audioBytes = audio.bytes.length;
  try {
    await deps.audioStore.put(audio, callDeadline('audioPut', deps.now(), deadlineMs));
  } catch (error) {
    throw new AudioStoreError(describeError(error));
  }
  facts.outcome = 'audio_stored';
  return { ...base, audioKey: audio.key };
}
