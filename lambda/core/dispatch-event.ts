/**
 * What the receiver does with each verified, supported event: a transcription or failure
 * becomes a CRM record (contract §5) with the call kept (contract §10) and, for a missed outbound
 * call, its text-back queued (contract §13) alongside; an audio event is stored (contract §6).
 */
import { prepareAudio } from './audio';
import { toCrmPayload } from './crm-payload';
import type { CrmPayload } from './crm-payload-schema';
import type { Dispatched } from './deduplicate';
import { type Delivery, deliverToCrm } from './deliver-to-crm';
import { AudioStoreError, describeError, ForwardNotDurableError } from './errors';
import type { AudioEvent, RecordEvent, WebhookEvent } from './events';
import type { SuccessBody, WebhookDeps } from './handle-webhook';
import { keepCall, withdrawArchive } from './keep-call';
import { maskPhone } from './mask';
import { unreachable } from './outcome';
import { afterPendingWrites } from './pending-writes';
import type { RequestFacts } from './request-facts';
import { queueTextBack } from './text-back/queue-text-back';
import { callDeadline } from './time-budget';
import type { RawBody } from './verify-signature';

export interface DispatchContext {
  base: SuccessBody;
  deps: WebhookDeps;
  facts: RequestFacts;
  deadlineMs: number;
}

/** contract §2 step 7: the one dispatch over every event type of the table (events.ts). */
export function dispatchEvent(event: WebhookEvent, rawBody: RawBody, context: DispatchContext): Promise<Dispatched<SuccessBody>> {
  switch (event.kind) {
    case 'transcription':
    case 'failure':
      return forwardAndKeep(event, rawBody, context);
    case 'audio':
      return storeAudio(event, context);
    default:
      return unreachable(event);
  }
}

/**
 * contract §5, §10 and §13: the CRM forward, with the archive, the audio check and the text-back
 * running alongside; the result is there once the forward (or the retry queue) made the event
 * durable, while they may still run (`Dispatched`, core/deduplicate.ts).
 */
async function forwardAndKeep(event: RecordEvent, rawBody: RawBody, context: DispatchContext): Promise<Dispatched<SuccessBody>> {
  const { deps, facts, deadlineMs } = context;
  const payload = toCrmPayload(event, deps.config.crmMapping);
  facts.crmStatus = payload.status;
  facts.crmTo = maskPhone(payload.to);
  if (!deps.archive && !deps.audioChecks && !deps.textBack) return { result: await forwardToCrm(event, payload, context) };
  const { archive, audioChecks, textBack, now, config } = deps;
  // The forward starts first and its request goes out before the archive's, the check's and the
  // text-back's SDK work takes the CPU; they then run while it waits for the CRM (bench figures 2e, 12).
  const forwarded = forwardToCrm(event, payload, context);
  forwarded.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  await afterPendingWrites();
  const kept: Promise<void> = Promise.all([
    keepCall(event, rawBody, { archive, audioChecks, now, audioCheckDelaySeconds: config.audioCheckDelaySeconds }, facts, deadlineMs),
    textBack &&
      queueTextBack(event, payload, textBack, now, deadlineMs).then((queued) => {
        Object.assign(facts, queued);
      }),
  ]).then(() => undefined);
  try {
    return { result: await forwarded, alongside: kept };
  } catch (error) {
    await kept;
    // contract §12: the archive is the ledger; an event that never became durable must leave it.
    if (error instanceof ForwardNotDurableError && archive) await withdrawArchive(event, archive, facts, now, deadlineMs);
    throw error;
  }
}

/** contract §5: forward, else queue, else 500 (the only CRM case where a retry helps). */
async function forwardToCrm(
  event: RecordEvent,
  payload: CrmPayload,
  { base, deps, facts, deadlineMs }: DispatchContext,
): Promise<SuccessBody> {
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

/** contract §6: decode once, store at a deterministic key (idempotent on re-delivery). */
async function storeAudio(event: AudioEvent, { base, deps, facts, deadlineMs }: DispatchContext): Promise<Dispatched<SuccessBody>> {
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
  return { result: { ...base, audioKey: audio.key } };
}
