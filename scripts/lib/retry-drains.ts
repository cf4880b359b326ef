/**
 * `npm start`'s schedule for the folder retry queue: a first drain right after start (so
 * payloads left by an earlier run go out at once), then one every RETRY_DRAIN_INTERVAL_MS
 * after the previous one ends, and the lines that say what is waiting and when it drains.
 */
import type { DrainSummary } from '../../support/folder-queue';

export interface DrainLoop {
  /** Epoch ms of the next scheduled drain. */
  nextDrainAt(): number;
  stop(): void;
}

export interface DrainLoopOptions<S = DrainSummary> {
  drain: () => Promise<S>;
  intervalMs: number;
  /** Called after every drain with what it did (the folder may hold more by then). */
  onDrained: (summary: S) => void | Promise<void>;
  now?: () => number;
}

export function startDrainLoop<S = DrainSummary>({ drain, intervalMs, onDrained, now = Date.now }: DrainLoopOptions<S>): DrainLoop {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let next = now();
  const run = async () => {
    try {
      const summary = await drain();
      next = now() + intervalMs;
      await onDrained(summary);
    } catch {
      next = now() + intervalMs; // a failed pass (e.g. the folder became unreadable) waits like any other
    }
    if (!stopped) timer = setTimeout(() => void run(), Math.max(0, next - now())).unref();
  };
  void run();
  return {
    nextDrainAt: () => next,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** `[retry queue] 2 waiting; next drain in 15 s (13:05:12)`. */
export function describeWaiting(waiting: number, nextDrainAt: number, nowMs: number): string {
  const seconds = Math.max(0, (nextDrainAt - nowMs) / 1000);
  const shown = seconds < 10 ? seconds.toFixed(1) : String(Math.round(seconds));
  return `[retry queue] ${waiting} waiting; next drain in ${shown} s (${clock(nextDrainAt)})`;
}

/** What one drain did, or undefined when it found nothing to do. */
export function describeDrain(
  summary: DrainSummary,
  waiting: number,
  nextDrainAt: number,
  nowMs: number,
  deadLetterDir: string,
): string | undefined {
  if (summary.delivered + summary.kept + summary.deadLettered === 0) return undefined;
  const parts: string[] = [];
  if (summary.delivered > 0) parts.push(`delivered ${summary.delivered} to the CRM`);
  if (summary.kept > 0) parts.push(`${summary.kept} failed again`);
  if (summary.deadLettered > 0) parts.push(`moved ${summary.deadLettered} to ${deadLetterDir}`);
  const tail = waiting > 0 ? describeWaiting(waiting, nextDrainAt, nowMs).replace('[retry queue] ', '') : 'none waiting';
  return `[retry queue] drained: ${parts.join(', ')}; ${tail}`;
}

function clock(epochMs: number): string {
  return new Date(epochMs).toTimeString().slice(0, 8);
}
