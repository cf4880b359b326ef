/**
 * The request pipeline of contract §2, in order, over injected ports:
 * raw body → source IP → authenticate → parse → agent allowlist → deduplicate → dispatch
 * (authenticate.ts, deduplicate.ts, dispatch-event.ts).
 * No AWS SDK, no network, no clock of its own: everything arrives in `deps`.
 */
import type { BlockList } from 'node:net';
import { authenticate } from './authenticate';
import type { CrmMappingConfig } from './crm-payload';
import { deduplicate } from './deduplicate';
import { dispatchEvent } from './dispatch-event';
import { describeError, InvalidJsonError, SignatureError, SourceNotAllowedError, toErrorResponse, WebhookError } from './errors';
import { isSupported, parseEvent } from './events';
import type { AudioCheckQueue, AudioStore, CrmForwarder, EventArchive, IdempotencyStore, RetryQueue, SecretSource } from './ports';
import type { RequestFacts } from './request-facts';
import { isElevenLabsAddress, isSourceAllowed } from './source-ip';
import type { TextBackQueue } from './text-back/queue-text-back';
import { type RequestBudget, requestBudget } from './time-budget';
import type { RawBody } from './verify-signature';

export interface WebhookRequest {
  /** The raw body exactly as received (contract §2.1). */
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
  /** contract §10 AUDIO_CHECK_DELAY_SECONDS. */
  audioCheckDelaySeconds: number;
}

export interface WebhookDeps {
  config: PipelineConfig;
  now: () => number;
  secrets: SecretSource;
  crm: CrmForwarder;
  retryQueue?: RetryQueue;
  audioStore?: AudioStore;
  idempotency?: IdempotencyStore;
  /** contract §10: present when ARCHIVE_EVENTS=true. */
  archive?: EventArchive;
  /** contract §10: present when AUDIO_CHECK_QUEUE_URL is set. */
  audioChecks?: AudioCheckQueue;
  /** contract §13: present when texting is on. */
  textBack?: TextBackQueue;
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
    facts.authenticatedBy = await authenticate(request, budget.deadlineMs, {
      secrets: deps.secrets,
      now: deps.now,
      toleranceSeconds: config.signatureToleranceSeconds,
    });
  } catch (error) {
    // A mismatch from ElevenLabs' own egress means our stored secret is wrong (contract §3).
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

  const context = { base, deps, facts, deadlineMs: budget.deadlineMs };
  const dispatch = () => dispatchEvent(event, request.body, context);
  if (!deps.idempotency) {
    const { result, alongside } = await dispatch();
    await alongside;
    return result;
  }
  const key = `${event.type}#${event.data.conversation_id}`;
  const completed = () => ({ ...base, deduplicated: true });
  return deduplicate({ key, store: deps.idempotency, budget, now: deps.now, completed }, facts, dispatch);
}

function skip(base: SuccessBody, facts: RequestFacts, reason: string): SuccessBody {
  facts.outcome = 'skipped';
  facts.skipReason = reason;
  return { ...base, skipped: true, reason };
}

function parseJson(body: RawBody): unknown {
  try {
    return JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    throw new InvalidJsonError();
  }
}
