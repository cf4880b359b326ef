/**
 * The call check of contract §12: for one conversation, first its CRM record, then its recording
 * (§10, audio-check.ts). Run by the audio worker for the receiver's delayed audio check and for
 * the reconciler's messages, and by `npm run backfill` over any window, so a call whose webhook
 * never arrived (receiver down past ElevenLabs' retries, webhook disabled, wrong URL or secret),
 * or whose archive write failed, still reaches the CRM.
 *
 * The record half: the ledger (the archive, §12) says whether the conversation has its record.
 * If not, the conversation is read from the ElevenLabs API — the same model the transcription
 * webhook carries — and, once the call has ended, becomes the §5 record exactly as a webhook
 * would: the same mapping, the same forwarder (queued on failure), archived byte for byte with
 * `source: elevenlabs-api`. The idempotency table decides who delivers it: a claim a webhook
 * already holds or completed means the webhook got there first. The check claims both
 * transcription types' keys, so a late webhook of either format is deduplicated.
 *
 * Never throws: every failure is an outcome, mapped to metrics and a log line by the worker.
 */
import { API_KEY_REJECTED, type AudioCheckDeps, type AudioCheckOutcome, checkRecording, retryAfter } from './audio-check';
import { type CrmMappingConfig, toCrmPayload } from './crm-payload';
import { type Delivery, type DeliveryDeps, deliverToCrm } from './deliver-to-crm';
import { describeError, ForwardNotDurableError, InvalidEventError } from './errors';
import { parseEvent, type TranscriptionEvent } from './events';
import { maskPhone } from './mask';
import type { AudioCheckMessage, CallLedger, EventArchive, IdempotencyStore } from './ports';
import { archiveKey } from './storage-keys';
import { queueTextBack, type TextBackQueue, type TextBackQueued } from './text-back/queue-text-back';
import { callDeadline, type RequestBudget } from './time-budget';

/** The type a recovered record is archived and claimed as (contract §12). */
const RECOVERED_TYPE = 'post_call_transcription';
/** Both transcription formats' keys (contract §4): a late webhook of either is then deduplicated. */
const CLAIMED_TYPES = ['post_call_transcription', 'post_call_transcription_otel'] as const;
/** `metadata.source` of what the call check archived (contract §12). */
export const RECOVERED_SOURCE = 'elevenlabs-api';
/** A conversation in any other state has not ended: it is left for the next run (contract §12). */
const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['done', 'failed']);
/** The states ElevenLabs documents before `done`; any other (a new one, none at all) is left too, but said loudly. */
const STATUSES_BEFORE_THE_END: ReadonlySet<string> = new Set(['initiated', 'in-progress', 'processing']);

/** True for a `not_ended` status ElevenLabs does not document: the log line is a warning, so a new terminal state is seen. */
export function isUnexpectedStatus(status: string): boolean {
  return !STATUSES_BEFORE_THE_END.has(status);
}

export const NO_API_KEY_FOR_RECORD = 'no ElevenLabs API key configured: a missing record cannot be recovered';

export interface RecordCheckDeps {
  ledger: CallLedger;
  archive: EventArchive;
  delivery: DeliveryDeps;
  idempotency?: IdempotencyStore;
  crmMapping: CrmMappingConfig;
  /** contract §13: a recovered record of a missed outbound call queues its text-back, as the receiver would have. */
  textBack?: TextBackQueue;
}

export interface CallCheckDeps extends AudioCheckDeps {
  /** Present with ARCHIVE_EVENTS=true: the record half runs (contract §12); else the check is §10's audio check alone. */
  record?: RecordCheckDeps;
  /** ALLOWED_AGENT_IDS: another agent's call is left alone, as the receiver skips its events (contract §2 step 5). */
  allowedAgentIds?: ReadonlySet<string>;
}

/** What the record half found or did. */
export type RecordOutcome =
  /** The archive holds a record event: nothing to do (one HeadObject). */
  | { kind: 'present' }
  /** Delivered (forwarded, or queued for the retry worker) from the API's model, and archived. */
  | ({
      kind: 'recovered';
      delivery: Delivery['kind'];
      attempts: number;
      crmStatus: string;
      crmTo: string;
      archive: 'archived' | 'failed';
      archiveError?: string;
      lastError?: string;
    } & Partial<TextBackQueued>)
  /** A webhook holds or completed the claim: it delivers the record. */
  | { kind: 'delivered_by_webhook' }
  /** The call has not ended (`initiated`, `in-progress`, `processing`): left for the next run. */
  | { kind: 'not_ended'; status: string }
  /** Not recoverable without a human: no API key, or the key was rejected (CallRecordMissing, alarmed). */
  | { kind: 'missing'; reason: string }
  /** ElevenLabs kept no data of the conversation (404). */
  | { kind: 'unavailable' }
  /** Try again later: a transient failure or an answer that is not the conversation (the DLQ in time). */
  | { kind: 'retry'; reason: string; retryAfterSeconds?: number; crmAttempts?: number; notDurable?: boolean };

export interface CallCheckOutcome {
  /** The agent is not in ALLOWED_AGENT_IDS: nothing was looked at or done. */
  otherAgent?: true;
  /** Undefined when the record half is off (ARCHIVE_EVENTS is not true). */
  record?: RecordOutcome;
  /** Undefined when the record half said there is nothing more to do now. */
  recording?: AudioCheckOutcome;
  /** The idempotency table failed or stalled (the record was delivered anyway). */
  idempotencyError?: string;
}

/** contract §12: the record, then the recording. `budget` bounds everything. */
export async function checkCall(message: AudioCheckMessage, deps: CallCheckDeps, budget: RequestBudget): Promise<CallCheckOutcome> {
  const outcome: CallCheckOutcome = {};
  if (deps.allowedAgentIds && !deps.allowedAgentIds.has(message.agentId)) return { otherAgent: true };
  if (deps.record) {
    outcome.record = await checkRecord(message, deps, deps.record, budget, outcome);
    // Nothing more now: the call has not ended, ElevenLabs has nothing, or the check comes back anyway.
    if (outcome.record.kind === 'not_ended' || outcome.record.kind === 'unavailable' || outcome.record.kind === 'retry') return outcome;
  }
  outcome.recording = await checkRecording(message, deps, budget.deadlineMs);
  return outcome;
}

async function checkRecord(
  message: AudioCheckMessage,
  deps: CallCheckDeps,
  record: RecordCheckDeps,
  budget: RequestBudget,
  outcome: CallCheckOutcome,
): Promise<RecordOutcome> {
  const { now } = deps;
  const { conversationId, agentId } = message;
  try {
    if (await record.ledger.hasRecord(agentId, conversationId, callDeadline('recordingHead', now(), budget.deadlineMs))) {
      return { kind: 'present' };
    }
  } catch (error) {
    return { kind: 'retry', reason: `S3: ${describeError(error)}` };
  }
  const fetched = await fetchConversation(message, deps, budget.deadlineMs);
  if ('kind' in fetched) return fetched;
  const { event, body } = fetched;
  const status = event.data.status?.trim().toLowerCase() ?? '(none)';
  if (!TERMINAL_STATUSES.has(status)) return { kind: 'not_ended', status: status.slice(0, 40) };

  const store = record.idempotency;
  const claims = store ? await claimRecord(store, conversationId, budget, now, outcome) : [];
  if (claims === 'webhook_first') return { kind: 'delivered_by_webhook' };
  const settle = (write: (store: IdempotencyStore, key: string) => Promise<void>) =>
    Promise.all(
      store
        ? claims.map((key) =>
            write(store, key).catch((error: unknown) => {
              outcome.idempotencyError = describeError(error);
            }),
          )
        : [],
    );

  const payload = toCrmPayload(event, record.crmMapping);
  let delivery: Delivery;
  try {
    delivery = await deliverToCrm(payload, { eventType: RECOVERED_TYPE, conversationId }, record.delivery, budget.deadlineMs);
  } catch (error) {
    await settle((store, key) => store.release(key, callDeadline('idempotencyWrite', now(), budget.deadlineMs)));
    const notDurable = error instanceof ForwardNotDurableError;
    return { kind: 'retry', reason: describeError(error), notDurable, ...(notDurable ? { crmAttempts: error.attempts } : {}) };
  }
  // The claims are completed alongside the archive write, not after it: a slow archive must not
  // leave them to lapse at the worker's hard end, when a late webhook could take one over.
  const archiving = record.archive
    .put(
      {
        key: archiveKey(agentId, conversationId, RECOVERED_TYPE),
        body,
        conversationId,
        agentId,
        eventTimestamp: Math.floor(now() / 1000),
        source: RECOVERED_SOURCE,
      },
      callDeadline('archivePut', now(), budget.deadlineMs),
    )
    .then(
      () => ({ archive: 'archived' as const }),
      (error: unknown) => ({ archive: 'failed' as const, archiveError: describeError(error) }),
    );
  const [archived] = await Promise.all([
    archiving,
    settle((store, key) => store.complete(key, now(), callDeadline('idempotencyWrite', now(), budget.deadlineMs))),
  ]);
  const textBack = record.textBack ? await queueTextBack(event, payload, record.textBack, now, budget.deadlineMs) : {};
  return {
    kind: 'recovered',
    ...textBack,
    delivery: delivery.kind,
    attempts: delivery.attempts,
    crmStatus: payload.status,
    crmTo: maskPhone(payload.to),
    ...archived,
    ...(delivery.kind === 'queued' ? { lastError: delivery.lastError } : {}),
  };
}

/** The conversation from the ElevenLabs API as a transcription event, or the outcome that ends the record half. */
async function fetchConversation(
  message: AudioCheckMessage,
  deps: CallCheckDeps,
  deadlineMs: number,
): Promise<{ event: TranscriptionEvent; body: Buffer } | RecordOutcome> {
  let apiKey: string | undefined;
  try {
    apiKey = await deps.apiKey.current(deadlineMs);
  } catch (error) {
    return { kind: 'retry', reason: `API key secret unavailable: ${describeError(error)}` };
  }
  if (apiKey === undefined) return { kind: 'missing', reason: NO_API_KEY_FOR_RECORD };
  let answer: Awaited<ReturnType<CallCheckDeps['elevenLabs']['conversation']>>;
  try {
    answer = await deps.elevenLabs.conversation(message.conversationId, apiKey, callDeadline('conversationGet', deps.now(), deadlineMs));
  } catch (error) {
    return { kind: 'retry', reason: `ElevenLabs API: ${describeError(error)}` };
  }
  const { status } = answer;
  if (answer.body === undefined || status !== 200) {
    if (status === 404) return { kind: 'unavailable' };
    if (status === 401 || status === 403) return { kind: 'missing', reason: API_KEY_REJECTED };
    const reason = `ElevenLabs API answered HTTP ${status}`;
    if (status === 408 || status === 429 || status >= 500) return { kind: 'retry', reason, ...retryAfter(answer.retryAfter, deps.now()) };
    return { kind: 'missing', reason };
  }
  const event = readConversation(answer.body, message);
  return typeof event === 'string' ? { kind: 'retry', reason: `ElevenLabs API answered ${event}` } : { event, body: answer.body };
}

/**
 * An archived body as the event it records (`npm run replay`): a webhook's own envelope, or the
 * API's bare conversation model the call check archived (no `type`), which is a transcription
 * (contract §12). Throws InvalidEventError as parseEvent does.
 */
export function parseArchivedEvent(json: unknown): ReturnType<typeof parseEvent> {
  const bareModel = typeof json === 'object' && json !== null && !Array.isArray(json) && !('type' in json) && 'conversation_id' in json;
  return parseEvent(bareModel ? { type: RECOVERED_TYPE, data: json } : json);
}

/**
 * The API's answer as a transcription event, or what is wrong with it. Untrusted: it must be
 * the conversation model of the conversation asked for, under the agent the check is for
 * (its ids name the archive key and the claims).
 */
function readConversation(body: Buffer, message: AudioCheckMessage): TranscriptionEvent | string {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return 'something that is not JSON';
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'JSON that is not a conversation';
  let event: ReturnType<typeof parseEvent>;
  try {
    event = parseEvent({ type: RECOVERED_TYPE, data: json });
  } catch (error) {
    return error instanceof InvalidEventError ? `a conversation it cannot read (${error.message})` : 'a conversation it cannot read';
  }
  if (event.kind !== 'transcription') return 'a conversation it cannot read';
  if (event.data.conversation_id !== message.conversationId) return 'another conversation than the one asked for';
  if (event.data.agent_id != null && event.data.agent_id !== message.agentId) return "another agent's conversation";
  return event;
}

/**
 * Claims both transcription keys for this delivery, until the worker's hard end. A key already
 * held or completed means a webhook got there first (nothing is kept claimed then). A table
 * that fails or stalls is noted and the record delivered anyway, as in the receiver.
 */
async function claimRecord(
  store: IdempotencyStore,
  conversationId: string,
  budget: RequestBudget,
  now: () => number,
  outcome: CallCheckOutcome,
): Promise<string[] | 'webhook_first'> {
  const claimed: string[] = [];
  const releaseAll = () =>
    Promise.all(
      claimed.map((key) => store.release(key, callDeadline('idempotencyWrite', now(), budget.deadlineMs)).catch(() => undefined)),
    );
  for (const type of CLAIMED_TYPES) {
    const key = `${type}#${conversationId}`;
    try {
      const startedAt = now();
      const result = await store.claim(key, {
        nowMs: startedAt,
        holdUntilMs: budget.hardEndMs,
        deadlineMs: callDeadline('idempotencyClaim', startedAt, budget.deadlineMs),
      });
      if (result !== 'claimed') {
        await releaseAll();
        return 'webhook_first';
      }
      claimed.push(key);
    } catch (error) {
      outcome.idempotencyError = describeError(error);
      await releaseAll();
      return [];
    }
  }
  return claimed;
}
