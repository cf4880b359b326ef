/**
 * Forwards CRM payloads with undici over one keep-alive connection pool per container
 * (contract §5). Per-attempt timeout, retries with backoff and jitter inside a 12 s budget,
 * `Retry-After` honoured when it fits, other 4xx permanent. Shared by the receiver and the
 * retry worker so both follow the same rules.
 */
import { EventEmitter } from 'node:events';
import { describeError } from '../core/errors';
import { backoffDelay, classifyStatus, parseRetryAfter } from '../core/forward-policy';
import type { CrmForwarder, ForwardResult } from '../core/ports';
import { CRM_BACKOFF_BASE_MS, CRM_BACKSTOP_MS, CRM_FORWARD_BUDGET_MS } from '../core/time-budget';
import { lazy, type Preloadable, preloadOf } from './lazy';

export interface CrmClientOptions {
  url: string;
  timeoutMs: number;
  maxAttempts: number;
  budgetMs?: number;
  /** First backoff step; doubles per attempt. */
  backoffBaseMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Largest CRM response body we read (then discard) so the connection can be reused. */
const MAX_RESPONSE_BYTES = 64 * 1024;
const USER_AGENT = 'elevenlabs-webhook-receiver/1';

/**
 * undici is a chunk of its own, loaded by the receiver's Lambda entry during INIT (`preload`,
 * SPEC §14) and elsewhere on the first forward, so a worker or a test that never forwards does
 * not pay for it. The agent keeps connections alive across invocations; its keep-alive stays
 * under the common 5 s server idle timeout so we rarely write to a socket the CRM closed.
 */
const loadUndici = lazy(async () => {
  const { Agent, request } = await import('./undici-request');
  const agent = new Agent({
    keepAliveTimeout: 4_000,
    keepAliveMaxTimeout: 60_000,
    connections: 32,
    // Backstops for the per-attempt timer (`attemptTimeoutSignal`): no attempt outlives the 12 s
    // forward budget and CRM_TIMEOUT_MS is at most 12 000, so they only fire if aborting failed.
    // Per-request values cost ~15 µs per forward in undici 7; on the Agent nothing (bench
    // figure 3). undici's own timers are coarse (~1 s), hence the margin.
    headersTimeout: CRM_BACKSTOP_MS,
    bodyTimeout: CRM_BACKSTOP_MS,
    // HTTP/1.1 only, whatever undici's default: the bundles leave its HTTP/2 client out
    // (scripts/lib/undici-http1-only.ts).
    allowH2: false,
  });
  return { request, agent };
});

export function createCrmForwarder(options: CrmClientOptions): CrmForwarder & Preloadable {
  const {
    url,
    timeoutMs,
    maxAttempts,
    budgetMs = CRM_FORWARD_BUDGET_MS,
    backoffBaseMs = CRM_BACKOFF_BASE_MS,
    now = Date.now,
    sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random = Math.random,
  } = options;

  let target: URL | undefined;
  return {
    preload: preloadOf(loadUndici),
    async forward(payload, deadlineMs): Promise<ForwardResult> {
      const { request, agent } = await loadUndici();
      target ??= new URL(url);
      const body = JSON.stringify(payload);
      const deadline = Math.min(now() + budgetMs, deadlineMs);
      let lastError = 'no time left before the deadline';
      let attempt = 0;
      while (attempt < maxAttempts) {
        const remaining = deadline - now();
        if (remaining <= 0) break;
        attempt += 1;
        const attemptTimeout = Math.min(timeoutMs, remaining);
        let retryAfterMs: number | undefined;
        const timeout = attemptTimeoutSignal(attemptTimeout);
        try {
          const response = await request(agent, {
            origin: target.origin,
            path: `${target.pathname}${target.search}`,
            method: 'POST',
            headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT },
            body,
            signal: timeout.signal,
          });
          await response.body.dump({ limit: MAX_RESPONSE_BYTES }).catch(() => undefined);
          const verdict = classifyStatus(response.statusCode);
          if (verdict === 'success') return { ok: true, attempts: attempt };
          lastError = `HTTP ${response.statusCode}`;
          if (verdict === 'permanent') return { ok: false, attempts: attempt, lastError, permanent: true };
          retryAfterMs = parseRetryAfter(headerValue(response.headers['retry-after']), now());
        } catch (error) {
          lastError = isTimeout(error) ? `timeout after ${attemptTimeout} ms` : describeError(error);
        } finally {
          timeout.clear();
        }
        if (attempt >= maxAttempts) break;
        const delay = retryAfterMs ?? backoffDelay(attempt, backoffBaseMs, random);
        // A wait that would end past the budget cannot lead to a useful attempt: give up now.
        if (now() + delay >= deadline) break;
        await sleep(delay);
      }
      return { ok: false, attempts: attempt, lastError, permanent: false };
    },
  };
}

/**
 * The per-attempt timeout: after `ms` the request is aborted with the same `TimeoutError`
 * DOMException `AbortSignal.timeout(ms)` would give, on an unref'd timer that is cleared when
 * the attempt ends. undici accepts an EventEmitter that emits 'abort' as a signal (undici
 * docs, Dispatcher.request `signal: AbortSignal | EventEmitter`). Kept over the plainer
 * AbortController because it measurably pays: with an AbortController the per-event p50 of
 * `npm run bench` figure 3 was ~10 µs (~9%) higher in three alternating runs each, against
 * ~2% run-to-run noise (2026-11-25).
 */
function attemptTimeoutSignal(ms: number): { signal: EventEmitter; clear: () => void } {
  const signal = Object.assign(new EventEmitter(), { aborted: false, reason: undefined as unknown });
  const timer = setTimeout(() => {
    signal.aborted = true;
    signal.reason = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    signal.emit('abort');
  }, ms);
  timer.unref();
  return { signal, clear: () => clearTimeout(timer) };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isTimeout(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  const code = (error as { code?: string } | null)?.code;
  return name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
}
