/**
 * The webhook secret's cache (contract §8) and its fault rules (contract §11): a bounded fetch at cold
 * start, stale-while-revalidate after the cache expires, rate-limited refetches on mismatch.
 */
import { describe, expect, it } from 'vitest';
import { createSecretSource, MIN_REFRESH_INTERVAL_MS } from '../../lambda/adapters/secrets';
import { SecretUnavailableError } from '../../lambda/core/errors';
import { DEPENDENCY_LIMITS_MS } from '../../lambda/core/time-budget';

const FAR = Number.MAX_SAFE_INTEGER;

function source(values: (string | Error)[], cacheSeconds = 300) {
  let clock = 0;
  const fetched: { id: string; deadlineMs: number }[] = [];
  const s = createSecretSource({
    secretArn: 'arn:secret',
    cacheSeconds,
    now: () => clock,
    fetchSecretString: async (id, deadlineMs) => {
      fetched.push({ id, deadlineMs });
      const next = values.length > 1 ? values.shift()! : values[0]!;
      if (next instanceof Error) throw next;
      return next;
    },
  });
  return {
    s,
    fetched,
    tick: (ms: number) => {
      clock += ms;
    },
  };
}

/** Lets a background refresh settle. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('createSecretSource', () => {
  it('uses the plain secret when no ARN is set, and never refetches', async () => {
    const s = createSecretSource({ plainSecret: 'wsec_plain', cacheSeconds: 300, now: () => 0 });
    expect(await s.current(FAR)).toEqual({ hmacSecrets: ['wsec_plain'] });
    expect(await s.refreshed(FAR)).toBeUndefined();
    expect(s.staleReason()).toBeUndefined();
  });

  it('fails closed when nothing is configured', async () => {
    const s = createSecretSource({ cacheSeconds: 300, now: () => 0 });
    await expect(s.current(FAR)).rejects.toBeInstanceOf(SecretUnavailableError);
  });

  it('bounds a cold-start fetch by the secret limit, or the request deadline if sooner', async () => {
    const { s, fetched } = source(['one']);
    await s.current(FAR);
    expect(fetched[0]!.deadlineMs).toBe(DEPENDENCY_LIMITS_MS.secret);
    const other = source(['one']);
    await other.s.current(1_000);
    expect(other.fetched[0]!.deadlineMs).toBe(1_000);
  });

  it('starts the first fetch ahead of any request (Lambda INIT); the first request joins it', async () => {
    const { s, fetched } = source(['one']);
    s.prefetch();
    expect(await s.current(FAR)).toEqual({ hmacSecrets: ['one'] });
    expect(fetched).toHaveLength(1);
  });

  /** A fetcher whose client loads when `release` is called and whose answer never comes. */
  function stalledFetcher(loadFails = false) {
    let release!: () => void;
    const loaded = new Promise<void>((resolve, reject) => {
      release = () => (loadFails ? reject(new Error('chunk failed to load')) : resolve());
    });
    const calls: string[] = [];
    const fetchSecretString = Object.assign(
      (id: string) => {
        calls.push(id);
        return new Promise<string>(() => undefined);
      },
      { load: () => loaded },
    );
    return { release, calls, s: createSecretSource({ secretArn: 'arn:secret', cacheSeconds: 300, now: () => 0, fetchSecretString }) };
  }

  it.each([
    ['loads', false],
    ['fails to load', true],
  ] as const)('prefetch resolves once the fetch is under way, not at its answer: its client %s first', async (_label, loadFails) => {
    const { release, calls, s } = stalledFetcher(loadFails);
    let resolved = false;
    const prefetched = s.prefetch().then(() => {
      resolved = true;
    });
    for (let turn = 0; turn < 5; turn++) await settle();
    expect(calls).toEqual(['arn:secret']); // the fetch started at once
    expect(resolved).toBe(false); // but prefetch waits for its client, however long it takes
    release();
    await prefetched; // and not for the answer, which never comes
    expect(resolved).toBe(true);
  });

  it('prefetch does nothing once a fetch is in flight or a secret cached', async () => {
    const { s, fetched } = source(['one']);
    await Promise.all([s.prefetch(), s.prefetch()]); // the second finds the first in flight
    expect(fetched).toHaveLength(1);
    expect(await s.current(FAR)).toEqual({ hmacSecrets: ['one'] });
    await s.prefetch(); // cached
    expect(fetched).toHaveLength(1);
  });

  it('prefetch resolves when loading the client throws at once', async () => {
    const fetchSecretString = Object.assign(async () => 'one', {
      load: (): Promise<void> => {
        throw new Error('no such chunk');
      },
    });
    const s = createSecretSource({ secretArn: 'arn:secret', cacheSeconds: 300, now: () => 0, fetchSecretString });
    await expect(s.prefetch()).resolves.toBeUndefined();
    expect(await s.current(FAR)).toEqual({ hmacSecrets: ['one'] });
  });

  it("retries a fetch started ahead that failed, within the first request's own bound from its start", async () => {
    let clock = 0;
    const deadlines: number[] = [];
    let failFirst!: (error: Error) => void;
    const s = createSecretSource({
      secretArn: 'arn:secret',
      cacheSeconds: 300,
      now: () => clock,
      fetchSecretString: (_id, deadlineMs) => {
        deadlines.push(deadlineMs);
        return deadlines.length === 1
          ? new Promise<string>((_resolve, reject) => {
              failFirst = reject;
            })
          : Promise.resolve('two');
      },
    });
    s.prefetch(); // INIT at 0
    clock = 1_000; // the first request arrives while that fetch runs
    const answer = s.current(FAR);
    clock = 3_000;
    failFirst(new Error('connect ETIMEDOUT'));
    expect(await answer).toEqual({ hmacSecrets: ['two'] });
    // Its retry ends where the request's own fetch would have: the wait for INIT's does not extend it.
    expect(deadlines).toEqual([DEPENDENCY_LIMITS_MS.secret, 1_000 + DEPENDENCY_LIMITS_MS.secret]);
  });

  it('leaves a failed fetch started ahead for the next request to retry', async () => {
    const { s, fetched } = source([new Error('connect ECONNREFUSED'), 'one']);
    s.prefetch();
    await settle();
    expect(await s.current(FAR)).toEqual({ hmacSecrets: ['one'] });
    expect(fetched).toHaveLength(2);
  });

  it('caches for SECRET_CACHE_SECONDS, then refreshes in the background while the cached secret answers', async () => {
    const { s, fetched, tick } = source(['one', 'two'], 60);
    expect((await s.current(FAR)).hmacSecrets).toEqual(['one']);
    tick(59_000);
    expect((await s.current(FAR)).hmacSecrets).toEqual(['one']);
    expect(fetched).toHaveLength(1);
    tick(2_000);
    // Expired: this request is answered with the cached secret at once, without waiting.
    expect((await s.current(FAR)).hmacSecrets).toEqual(['one']);
    await settle();
    expect(fetched).toHaveLength(2);
    expect((await s.current(FAR)).hmacSecrets).toEqual(['two']);
  });

  it('shares one fetch between concurrent callers', async () => {
    const { s, fetched } = source(['one']);
    await Promise.all(Array.from({ length: 5 }, () => s.current(FAR)));
    expect(fetched).toHaveLength(1);
  });

  it('refetches after a mismatch at most once per interval', async () => {
    const { s, fetched, tick } = source(['one', 'two', 'three']);
    await s.current(FAR);
    expect(await s.refreshed(FAR)).toBeUndefined(); // just fetched
    tick(MIN_REFRESH_INTERVAL_MS);
    expect((await s.refreshed(FAR))?.hmacSecrets).toEqual(['two']);
    expect(await s.refreshed(FAR)).toBeUndefined();
    expect(fetched).toHaveLength(2);
  });

  it('fails closed at cold start when Secrets Manager is unreachable, naming no value', async () => {
    const { s } = source([new Error('connect ETIMEDOUT')]);
    await expect(s.current(FAR)).rejects.toMatchObject({ message: 'webhook secret unavailable', detail: 'Error: connect ETIMEDOUT' });
  });

  it('keeps the last verified secret when a refresh fails, says why, and retries at most once per interval', async () => {
    const { s, tick, fetched } = source(['one', new Error('TimeoutError: stalled'), new Error('still down'), 'two'], 1);
    await s.current(FAR);
    tick(5_000);
    expect((await s.current(FAR)).hmacSecrets).toEqual(['one']);
    await settle();
    expect(s.staleReason()).toBe('Error: TimeoutError: stalled');
    tick(1_000);
    expect((await s.current(FAR)).hmacSecrets).toEqual(['one']);
    await settle();
    expect(fetched).toHaveLength(2); // no new attempt within the interval
    tick(MIN_REFRESH_INTERVAL_MS);
    await s.current(FAR);
    await settle();
    expect(s.staleReason()).toBe('Error: still down');
    tick(MIN_REFRESH_INTERVAL_MS);
    await s.current(FAR);
    await settle();
    expect((await s.current(FAR)).hmacSecrets).toEqual(['two']);
    expect(s.staleReason()).toBeUndefined();
  });

  it('fails closed on the stack placeholder', async () => {
    const { s } = source(['{"hmacSecret":""}']);
    await expect(s.current(FAR)).rejects.toMatchObject({ detail: 'Error: secret JSON has an empty hmacSecret (not configured yet)' });
  });
});
