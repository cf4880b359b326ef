/**
 * The undici CRM client against a real CRM server on 127.0.0.1, with an injected clock and
 * sleep so the retry schedule can be checked exactly (no wall-clock assertions).
 */
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCrmForwarder } from '../../lambda/adapters/crm-client';
import type { CrmPayload } from '../../lambda/core/crm-payload';
import { type CrmStandIn, startCrmStandIn } from '../../support/stand-ins/crm';
import { withH2PreferringServer } from '../helpers/h2-preferring-server';

let crm: CrmStandIn;
beforeAll(async () => {
  crm = await startCrmStandIn();
});
afterAll(() => crm.close());
beforeEach(() => crm.respond({ status: 200 }));

/** No request deadline: the forward's own 12 s budget is the bound. */
const FAR = Number.MAX_SAFE_INTEGER;
const payload: CrmPayload = {
  type: 'conversationAICall',
  subject: 's',
  to: '+61400000000',
  name: 'n',
  summary: 'x',
  status: 'held',
  duration: 1,
};

/** A forwarder whose sleeps advance a fake clock instead of waiting. */
function forwarder(options: { maxAttempts?: number; budgetMs?: number; timeoutMs?: number } = {}) {
  let clock = 1_000_000;
  const sleeps: number[] = [];
  const client = createCrmForwarder({
    url: crm.url,
    timeoutMs: options.timeoutMs ?? 1000,
    maxAttempts: options.maxAttempts ?? 3,
    budgetMs: options.budgetMs,
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    random: () => 0.5,
  });
  return { client, sleeps };
}

describe('createCrmForwarder', () => {
  it('POSTs the payload as JSON and succeeds on 2xx', async () => {
    const { client } = forwarder();
    expect(await client.forward(payload, FAR)).toEqual({ ok: true, attempts: 1 });
    expect(crm.received.at(-1)).toEqual(payload);
    expect(crm.headers.at(-1)).toMatchObject({ 'content-type': 'application/json' });
  });

  it('backs off exponentially with jitter between retries', async () => {
    crm.respond({ status: 503 });
    const { client, sleeps } = forwarder({ maxAttempts: 4 });
    expect(await client.forward(payload, FAR)).toEqual({ ok: false, attempts: 4, lastError: 'HTTP 503', permanent: false });
    // base 250 ms, equal jitter with random 0.5: 0.75 × 250, × 500, × 1000
    expect(sleeps).toEqual([188, 375, 750]);
  });

  it('honours Retry-After (seconds) when it fits the budget', async () => {
    crm.respond((i) => (i === 0 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 }));
    const { client, sleeps } = forwarder();
    expect(await client.forward(payload, FAR)).toEqual({ ok: true, attempts: 2 });
    expect(sleeps).toEqual([2000]);
  });

  it('gives up at once when Retry-After is beyond the 12 s budget', async () => {
    crm.respond({ status: 503, headers: { 'retry-after': '30' } });
    const { client, sleeps } = forwarder();
    expect(await client.forward(payload, FAR)).toMatchObject({ ok: false, attempts: 1 });
    expect(sleeps).toEqual([]);
  });

  it('never waits past the budget', async () => {
    crm.respond({ status: 500 });
    const { client, sleeps } = forwarder({ maxAttempts: 10, budgetMs: 1000 });
    const result = await client.forward(payload, FAR);
    expect(result.ok).toBe(false);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThan(1000);
  });

  it.each([400, 401, 404, 409, 422])('treats %i as permanent: one attempt', async (status) => {
    crm.respond({ status });
    const { client } = forwarder();
    expect(await client.forward(payload, FAR)).toEqual({ ok: false, attempts: 1, lastError: `HTTP ${status}`, permanent: true });
  });

  it.each([408, 429, 500, 502, 503, 504])('retries %i', async (status) => {
    crm.respond((i) => (i === 0 ? { status } : { status: 200 }));
    const { client } = forwarder();
    expect(await client.forward(payload, FAR)).toEqual({ ok: true, attempts: 2 });
  });

  it('times an attempt out after CRM_TIMEOUT_MS and retries', async () => {
    crm.respond((i) => (i === 0 ? { hang: true } : { status: 200 }));
    const { client } = forwarder({ timeoutMs: 150 });
    expect(await client.forward(payload, FAR)).toEqual({ ok: true, attempts: 2 });
  });

  it('reports a refused connection as a retryable network error', async () => {
    const client = createCrmForwarder({ url: 'http://127.0.0.1:1/crm', timeoutMs: 500, maxAttempts: 2, sleep: async () => undefined });
    expect(await client.forward(payload, FAR)).toMatchObject({
      ok: false,
      attempts: 2,
      permanent: false,
      lastError: expect.stringContaining('ECONNREFUSED'),
    });
  });
});

describe('over TLS, to a CRM that prefers HTTP/2', () => {
  // The bundles leave undici's HTTP/2 client out (scripts/lib/undici-http1-only.ts), which is
  // safe only while our agent never offers h2 in ALPN, whatever undici's default becomes.
  it('speaks HTTP/1.1', async () => {
    const respond = (req: Http2ServerRequest, res: Http2ServerResponse) => {
      req.resume();
      req.on('end', () => res.writeHead(200).end('{}'));
    };
    await withH2PreferringServer(respond, async (origin, versions) => {
      const client = createCrmForwarder({ url: `${origin}/crm`, timeoutMs: 2000, maxAttempts: 1 });
      expect(await client.forward(payload, FAR)).toEqual({ ok: true, attempts: 1 });
      expect(versions).toEqual(['1.1']);
    });
  });
});
