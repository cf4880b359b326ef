/**
 * contract §2 step 6. A completed record answers `deduplicated`; a claim held by a delivery in
 * flight answers 429 with `Retry-After` (not 200: that delivery may still fail, and only its
 * own 5xx tells ElevenLabs to retry; not 409: ElevenLabs ends its retries on 409). A claim is
 * held only until this request's hard end, so a retry after a crash takes it over. Any non-200
 * releases the claim so a retry is processed again.
 *
 * The table is an optimisation against duplicates, never a reason to lose an event: if it is
 * unreachable or stalls, the claim times out and we process anyway (a rare duplicate CRM
 * record beats losing an audio or failure event, which ElevenLabs never re-sends), and a
 * stalled completion write still answers 200 (contract §11).
 */
import { DuplicateInProgressError, describeError } from './errors';
import { afterPendingWrites } from './pending-writes';
import type { IdempotencyStore, PreparedWrite } from './ports';
import type { RequestFacts } from './request-facts';
import { callDeadline, type RequestBudget } from './time-budget';

export interface Deduplication<T> {
  /** `<event type>#<conversation id>`: one record per event of a call. */
  key: string;
  store: IdempotencyStore;
  budget: RequestBudget;
  now: () => number;
  /** The answer when the event was already processed. */
  completed: () => T;
}

/**
 * What a dispatch answers: its result once the event is durable (in the CRM or the retry queue),
 * and work it started alongside that must still finish before the answer (contract §10's archive
 * and audio check), which never rejects. The completion write starts as soon as the result is
 * there, without waiting for that work (SPEC §14: no round trip queued behind another for nothing).
 */
export interface Dispatched<T> {
  result: T;
  alongside?: Promise<void>;
}

export async function deduplicate<T>(dedup: Deduplication<T>, facts: RequestFacts, dispatch: () => Promise<Dispatched<T>>): Promise<T> {
  const { key, store, budget, now } = dedup;
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
      return dedup.completed();
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
  const writeDeadline = () => callDeadline('idempotencyWrite', now(), budget.deadlineMs);
  const dispatching = dispatch();
  dispatching.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  // The completion's request is built while the dispatch waits, once the dispatch's own first
  // request is out; it is sent only once the event is durable, so nothing changes in what is written.
  let prepared: PreparedWrite | undefined;
  if (claimed && store.prepareCompletion) {
    await afterPendingWrites();
    prepared = store.prepareCompletion(key, now());
  }
  let dispatched: Dispatched<T>;
  try {
    dispatched = await dispatching;
  } catch (error) {
    prepared?.abandon();
    if (claimed) await store.release(key, writeDeadline()).catch(recordFailure);
    throw error;
  }
  const completed = claimed
    ? (prepared ? prepared.commit(writeDeadline()) : store.complete(key, now(), writeDeadline())).catch(recordFailure)
    : undefined;
  await Promise.all([completed, dispatched.alongside]);
  return dispatched.result;
}
