import { describe, expect, it } from 'vitest';
import { createSecretSource, MIN_REFRESH_INTERVAL_MS } from '../../lambda/adapters/secrets';
import { SecretUnavailableError } from '../../lambda/core/errors';

function source(values: (string | Error)[], cacheSeconds = 300) {
  let clock = 0;
  const fetched: string[] = [];
  const s = createSecretSource({
    secretArn: 'arn:secret',
    cacheSeconds,
    now: () => clock,
    fetchSecretString: async (id) => {
      fetched.push(id);
      const next = values.length > 1 ? values.shift()! : values[0]!;
      if (next instanceof Error) throw next;
      return next;
    },
  });
  return { s, fetched, tick: (ms: number) => void (clock += ms) };
}

describe('createSecretSource', () => {
  it('uses the plain secret when no ARN is set, and never refetches', async () => {
    const s = createSecretSource({ plainSecret: 'wsec_plain', cacheSeconds: 300, now: () => 0 });
    expect(await s.current()).toEqual({ hmacSecrets: ['wsec_plain'] });
    expect(await s.refreshed()).toBeUndefined();
  });

  it('fails closed when nothing is configured', async () => {
    const s = createSecretSource({ cacheSeconds: 300, now: () => 0 });
    await expect(s.current()).rejects.toBeInstanceOf(SecretUnavailableError);
  });

  it('caches for SECRET_CACHE_SECONDS, then fetches again', async () => {
    const { s, fetched, tick } = source(['one', 'two'], 60);
    expect((await s.current()).hmacSecrets).toEqual(['one']);
    tick(59_000);
    expect((await s.current()).hmacSecrets).toEqual(['one']);
    tick(2_000);
    expect((await s.current()).hmacSecrets).toEqual(['two']);
    expect(fetched).toHaveLength(2);
  });

  it('shares one fetch between concurrent callers', async () => {
    const { s, fetched } = source(['one']);
    await Promise.all(Array.from({ length: 5 }, () => s.current()));
    expect(fetched).toHaveLength(1);
  });

  it('refetches after a mismatch at most once per interval', async () => {
    const { s, fetched, tick } = source(['one', 'two', 'three']);
    await s.current();
    expect(await s.refreshed()).toBeUndefined(); // just fetched
    tick(MIN_REFRESH_INTERVAL_MS);
    expect((await s.refreshed())?.hmacSecrets).toEqual(['two']);
    expect(await s.refreshed()).toBeUndefined();
    expect(fetched).toHaveLength(2);
  });

  it('fails closed at cold start when Secrets Manager is unreachable, naming no value', async () => {
    const { s } = source([new Error('connect ETIMEDOUT')]);
    await expect(s.current()).rejects.toMatchObject({ message: 'webhook secret unavailable', detail: 'Error: connect ETIMEDOUT' });
  });

  it('keeps the last verified secret if a later fetch fails', async () => {
    const { s, tick } = source(['one', new Error('throttled')], 1);
    await s.current();
    tick(5_000);
    expect((await s.current()).hmacSecrets).toEqual(['one']);
  });

  it('fails closed on the stack placeholder', async () => {
    const { s } = source(['{"hmacSecret":""}']);
    await expect(s.current()).rejects.toMatchObject({ detail: 'Error: secret JSON has an empty hmacSecret (not configured yet)' });
  });
});
