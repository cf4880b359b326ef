/**
 * The reconciler of contract §12: every `reconcileEveryMinutes` it lists the conversations that
 * started in its window and sends one call-check message for each conversation whose record is
 * missing from the ledger (the archive). The audio worker's call check then recovers the record
 * from the ElevenLabs API, and the recording with it. The reconciler itself never calls the CRM
 * or fetches a conversation: it pages and hands the work to the queue, so a run finishes well
 * inside its Lambda timeout however many calls there were.
 *
 * The window: from `RECONCILE_LOOKBACK_HOURS` ago (but never before the reconciler's own first
 * run, so a new deployment does not resend the calls of the days before it: those are
 * `npm run backfill`'s job) to `RECONCILE_SETTLE_MINUTES` ago (so webhooks and ElevenLabs' own
 * retries, the last at about 30 minutes, have landed).
 */
import { IncompleteListingError, listConversations } from './conversation-list';
import { describeError } from './errors';
import type { ApiKeySource, AudioCheckQueue, CallLedger, ElevenLabsApi } from './ports';
import { FIRST_RUN_KEY, isKeySafeId } from './storage-keys';
import { callDeadline, type RequestBudget } from './time-budget';

export const DEFAULT_LOOKBACK_HOURS = 48;
export const DEFAULT_SETTLE_MINUTES = 30;
/** Ledger checks and sends in flight at once: enough to keep a run short, few enough to be gentle on S3. */
const CONCURRENCY = 16;
/** How far ahead of this run's clock a recorded first run may be before it is refused (clock skew between runs). */
const MARKER_SKEW_SECONDS = 3600;

export interface ReconcileSettings {
  lookbackHours: number;
  settleMinutes: number;
}

/** `s3://$AUDIO_BUCKET/reconciler/first-run.json` (contract §12): when the reconciler first ran. */
export interface FirstRunMarker {
  /** The recorded first run (unix seconds); written as `nowUnixSeconds` first if there is none. */
  firstRun(nowUnixSeconds: number, deadlineMs: number): Promise<number>;
}

export interface ReconcileDeps {
  apiKey: ApiKeySource;
  elevenLabs: ElevenLabsApi;
  ledger: CallLedger;
  checks: AudioCheckQueue;
  marker: FirstRunMarker;
  now: () => number;
  /** ALLOWED_AGENT_IDS: other agents' conversations are listed but left alone (contract §2 step 5). */
  allowedAgentIds?: ReadonlySet<string>;
}

export interface ReconcileWindow {
  afterUnixSeconds: number;
  beforeUnixSeconds: number;
}

export interface ReconcileCounts {
  /** Conversations listed in the window (ConversationsListed). */
  listed: number;
  /** Call-check messages sent (CallChecksScheduled). */
  scheduled: number;
  /** Conversations whose record the ledger holds. */
  present: number;
  /** Listed again on a later page (the list moved under the cursor): checked once. */
  repeated: number;
  /** Of an agent not in ALLOWED_AGENT_IDS, or started outside the window the API was asked for: left alone. */
  skipped: number;
  /** Conversations whose ids cannot name an archive key, or whose check could not be done or sent. */
  failed: number;
}

export type ReconcileResult =
  /** No API key (or the stack's empty placeholder): reconciling is off, not failed (contract §12). */
  | { kind: 'off' }
  /** The window is empty (the first run, or a run right after it). */
  | { kind: 'nothing_to_list'; firstRunUnixSecs: number }
  | { kind: 'done'; window: ReconcileWindow; firstRunUnixSecs: number; counts: ReconcileCounts }
  | { kind: 'failed'; reason: string; window?: ReconcileWindow; counts: ReconcileCounts };

/** The §12 window at `nowMs`, or undefined when it is empty. Pure. */
export function reconcileWindow(nowMs: number, firstRunUnixSecs: number, settings: ReconcileSettings): ReconcileWindow | undefined {
  const nowSecs = Math.floor(nowMs / 1000);
  const afterUnixSeconds = Math.max(nowSecs - settings.lookbackHours * 3600, firstRunUnixSecs);
  const beforeUnixSeconds = nowSecs - settings.settleMinutes * 60;
  return afterUnixSeconds < beforeUnixSeconds ? { afterUnixSeconds, beforeUnixSeconds } : undefined;
}

/** One run. Never throws: a failure is a `failed` result, which the Lambda turns into a failed invocation. */
export async function reconcile(deps: ReconcileDeps, settings: ReconcileSettings, budget: RequestBudget): Promise<ReconcileResult> {
  const counts: ReconcileCounts = { listed: 0, scheduled: 0, present: 0, repeated: 0, skipped: 0, failed: 0 };
  const { now } = deps;
  let apiKey: string | undefined;
  let firstRunUnixSecs: number;
  try {
    apiKey = await deps.apiKey.current(budget.deadlineMs);
    if (apiKey === undefined) return { kind: 'off' };
    firstRunUnixSecs = await deps.marker.firstRun(Math.floor(now() / 1000), callDeadline('markerRead', now(), budget.deadlineMs));
  } catch (error) {
    return { kind: 'failed', reason: describeError(error), counts };
  }
  // A first run in the future would keep every window empty, silently (a hand-edited marker, a clock far off).
  if (firstRunUnixSecs > Math.floor(now() / 1000) + MARKER_SKEW_SECONDS) {
    return {
      kind: 'failed',
      reason: `${FIRST_RUN_KEY} says the first run is in the future (${firstRunUnixSecs}); fix or delete it`,
      counts,
    };
  }
  const window = reconcileWindow(now(), firstRunUnixSecs, settings);
  if (!window) return { kind: 'nothing_to_list', firstRunUnixSecs };

  const seen = new Set<string>();
  try {
    for await (const page of listConversations(deps.elevenLabs, window, apiKey, now, budget.deadlineMs)) {
      counts.listed += page.length;
      const fresh = page.filter(({ conversationId, agentId, startTimeUnixSeconds }) => {
        if (seen.has(conversationId)) {
          counts.repeated += 1;
          return false;
        }
        seen.add(conversationId);
        // Never more than the window (contract §12), whatever the API sends back; never another agent's call.
        const outside = startTimeUnixSeconds < window.afterUnixSeconds || startTimeUnixSeconds > window.beforeUnixSeconds;
        if (outside || (deps.allowedAgentIds && !deps.allowedAgentIds.has(agentId))) {
          counts.skipped += 1;
          return false;
        }
        return true;
      });
      await eachConcurrently(fresh, CONCURRENCY, (conversation) => checkOne(conversation, deps, budget, counts));
    }
  } catch (error) {
    const reason = error instanceof IncompleteListingError ? error.reason : describeError(error);
    return { kind: 'failed', reason, window, counts };
  }
  if (counts.failed > 0) return { kind: 'failed', reason: `${counts.failed} conversation(s) could not be checked`, window, counts };
  return { kind: 'done', window, firstRunUnixSecs, counts };
}

type Listed = { conversationId: string; agentId: string; startTimeUnixSeconds: number };

/** One conversation: its record in the ledger, or a call-check message for it (DelaySeconds 0). */
async function checkOne(conversation: Listed, deps: ReconcileDeps, budget: RequestBudget, counts: ReconcileCounts): Promise<void> {
  const { conversationId, agentId, startTimeUnixSeconds } = conversation;
  const { now } = deps;
  // An id that cannot name an archive key can neither be looked up nor checked: a human must see it.
  if (!isKeySafeId(conversationId) || !isKeySafeId(agentId)) {
    counts.failed += 1;
    return;
  }
  try {
    if (await deps.ledger.hasRecord(agentId, conversationId, callDeadline('recordingHead', now(), budget.deadlineMs))) {
      counts.present += 1;
      return;
    }
    const eventTimestamp = Number.isSafeInteger(startTimeUnixSeconds) && startTimeUnixSeconds >= 0 ? startTimeUnixSeconds : null;
    await deps.checks.schedule({ conversationId, agentId, eventTimestamp }, 0, callDeadline('queueSend', now(), budget.deadlineMs));
    counts.scheduled += 1;
  } catch {
    counts.failed += 1;
  }
}

/** Runs `work` over `items` with at most `limit` at once. */
async function eachConcurrently<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let item = items[next++]; item !== undefined; item = items[next++]) await work(item);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
