/**
 * When to retry a CRM forward and how long to wait (contract §5). Pure: the adapter supplies
 * the clock and the random source.
 */
import { CRM_BACKOFF_CAP_MS } from './time-budget';

export type AttemptVerdict = 'success' | 'retry' | 'permanent';

/** 2xx succeeds; 408, 429 and 5xx are worth another try; any other status is permanent. */
export function classifyStatus(status: number): AttemptVerdict {
  if (status >= 200 && status < 300) return 'success';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'permanent';
}

/**
 * Exponential backoff with jitter ("equal jitter", AWS Architecture Blog, "Exponential
 * Backoff And Jitter"): half the step is fixed, half random, so retries spread out but
 * never collapse to zero. `attempt` is the attempt that just failed, from 1.
 */
export function backoffDelay(attempt: number, baseMs: number, random: () => number): number {
  const step = Math.min(CRM_BACKOFF_CAP_MS, baseMs * 2 ** (attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in ms from `nowMs`.
 * Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date) || !/[a-z]/i.test(trimmed)) return undefined;
  return Math.max(0, date - nowMs);
}
