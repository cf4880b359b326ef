/**
 * The webhook secret from Secrets Manager (WEBHOOK_SECRET_ARN) or the environment
 * (ELEVENLABS_WEBHOOK_SECRET), cached per container for SECRET_CACHE_SECONDS (contract §8).
 * The SDK client is loaded on first use only, so a container configured with a plain
 * secret never pays for it.
 *
 * Faults (contract §11): a fetch is bounded (core/time-budget.ts), so a cold start against a
 * stalled Secrets Manager fails closed within seconds. The Lambda entry starts the first fetch
 * during INIT (`prefetch`, SPEC §14); a request that finds it still running joins it, and if it
 * failed, fetches again within the request's own bound, so a failed or stalled INIT fetch
 * neither poisons later requests nor lengthens the first one's wait past that bound. Once a secret was verified, an
 * expired cache is refreshed in the background ("stale-while-revalidate", RFC 5861 §3) and
 * the last verified secret keeps working meanwhile: no request waits on Secrets Manager
 * again, and an outage of it costs nothing while the secret stays the same.
 */
import { parseApiKeySecret } from '../core/api-key';
import { describeError, SecretUnavailableError } from '../core/errors';
import { afterPendingWrites } from '../core/pending-writes';
import type { ApiKeySource, SecretSource } from '../core/ports';
import { callDeadline } from '../core/time-budget';
import { parseWebhookSecret } from '../core/webhook-secrets';
import { abortSignalAt, sdkClientOptions } from './deadline';
import { lazy } from './lazy';
import { cjsExports } from './load-module';

/**
 * A signature mismatch may refetch the secret (a rotation), and a failed background refresh
 * is retried, but at most this often per container: otherwise every forged request would
 * cost a Secrets Manager call.
 */
export const MIN_REFRESH_INTERVAL_MS = 10_000;

/**
 * Reads a SecretString by id, giving up at `deadlineMs`. `load`, when there, loads what a fetch
 * needs (the SDK client) without fetching; `prefetch` waits for it.
 */
export type SecretStringFetcher = ((secretId: string, deadlineMs: number) => Promise<string>) & { load?: () => Promise<void> };

export interface SecretSourceOptions {
  secretArn?: string;
  plainSecret?: string;
  cacheSeconds: number;
  now: () => number;
  /** Defaults to the AWS SDK. */
  fetchSecretString?: SecretStringFetcher;
}

/**
 * Starts the first fetch now (Lambda INIT), bounded by the secret's own limit. Resolves once the
 * fetch is under way (its client loaded and its request started), never waits for the answer,
 * and never rejects: a failed or stalled fetch is the first request's to retry.
 */
export type SecretPrefetch = { prefetch(): Promise<void> };

/** The webhook secret (contract §3, §8): WEBHOOK_SECRET_ARN wins over ELEVENLABS_WEBHOOK_SECRET. */
export function createSecretSource(options: SecretSourceOptions): SecretSource & SecretPrefetch {
  const { secretArn, plainSecret } = options;
  if (!secretArn) {
    const secrets = plainSecret ? parseWebhookSecret(plainSecret) : undefined;
    const current = async () => {
      if (!secrets) throw new SecretUnavailableError('no webhook secret configured');
      return secrets;
    };
    return { current, refreshed: async () => undefined, staleReason: () => undefined, prefetch: async () => undefined };
  }
  const cache = createCachedSecret({ ...options, secretId: secretArn, parse: parseWebhookSecret });
  return {
    current: (deadlineMs) =>
      cache.current(deadlineMs).catch((error: unknown) => Promise.reject(new SecretUnavailableError(describeError(error)))),
    refreshed: (deadlineMs) => cache.refreshed(deadlineMs),
    staleReason: () => cache.staleReason(),
    prefetch: () => cache.prefetch(),
  };
}

export interface ApiKeySourceOptions {
  secretArn?: string;
  plainKey?: string;
  cacheSeconds: number;
  now: () => number;
  fetchSecretString?: SecretStringFetcher;
}

/**
 * The ElevenLabs API key (contract §8): ELEVENLABS_API_KEY_SECRET_ARN wins over ELEVENLABS_API_KEY;
 * neither (or an empty value) means recovery is off. A fetch failure throws, so the audio
 * check is retried rather than reported missing.
 */
export function createApiKeySource(options: ApiKeySourceOptions): ApiKeySource {
  if (!options.secretArn) {
    const key = options.plainKey ? parseApiKeySecret(options.plainKey) : undefined;
    return { current: async () => key };
  }
  const cache = createCachedSecret({ ...options, secretId: options.secretArn, parse: parseApiKeySecret });
  return { current: (deadlineMs) => cache.current(deadlineMs) };
}

export interface CachedSecret<T> {
  /** The cached value; fetched (bounded) only when none was ever fetched, else refreshed in the background. */
  current(deadlineMs: number): Promise<T>;
  /** A fresh fetch after a mismatch, at most every MIN_REFRESH_INTERVAL_MS; undefined if not fetched. */
  refreshed(deadlineMs: number): Promise<T | undefined>;
  /** Why the last background refresh failed, while the cached value is still in use. */
  staleReason(): string | undefined;
  /** Starts the first fetch ahead of any request (see `SecretPrefetch`); its failure is left for the first request to retry. */
  prefetch(): Promise<void>;
}

export interface CachedSecretOptions<T> {
  secretId: string;
  /** Turns the SecretString into the value; throws a log-safe error when it is unusable. */
  parse: (secretString: string) => T;
  cacheSeconds: number;
  now: () => number;
  fetchSecretString?: SecretStringFetcher;
}

/** A Secrets Manager value cached per container, with the fault rules described at the top. */
function createCachedSecret<T>(options: CachedSecretOptions<T>): CachedSecret<T> {
  const { secretId, parse, cacheSeconds, now } = options;
  const fetchSecretString = options.fetchSecretString ?? secretsManagerFetcher();
  let cached: { value: T; fetchedAt: number } | undefined;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  let lastError: string | undefined;
  let inFlight: { value: Promise<T>; ahead: boolean } | undefined;

  /** One fetch at a time per container; concurrent callers share it. `ahead`: started by `prefetch`. */
  const fetchOnce = (deadlineMs: number, ahead = false): Promise<T> => {
    inFlight ??= {
      ahead,
      value: (async () => {
        const startedAt = now();
        lastAttemptAt = startedAt;
        try {
          const value = parse(await fetchSecretString(secretId, callDeadline('secret', startedAt, deadlineMs)));
          cached = { value, fetchedAt: now() };
          lastError = undefined;
          return value;
        } catch (error) {
          lastError = describeError(error);
          throw error;
        } finally {
          inFlight = undefined;
        }
      })(),
    };
    return inFlight.value;
  };

  return {
    async current(deadlineMs) {
      if (!cached) {
        // This request's own bound, from its start: joining a prefetch does not extend it, and
        // a prefetch that failed (before any request asked) is tried again within it.
        const bound = callDeadline('secret', now(), deadlineMs);
        const joined = inFlight?.ahead
          ? await inFlight.value.then(
              (value) => ({ value }),
              () => undefined,
            )
          : undefined;
        return joined ? joined.value : fetchOnce(bound);
      }
      const expired = now() - cached.fetchedAt >= cacheSeconds * 1000;
      const mayRetry = lastError === undefined || now() - lastAttemptAt >= MIN_REFRESH_INTERVAL_MS;
      if (expired && !inFlight && mayRetry) {
        // Background refresh with its own bound; its failure is reported by staleReason().
        fetchOnce(Number.POSITIVE_INFINITY).catch(() => undefined);
      }
      return cached.value;
    },
    async refreshed(deadlineMs) {
      if (inFlight) return inFlight.value.catch(() => undefined);
      if (now() - lastAttemptAt < MIN_REFRESH_INTERVAL_MS) return undefined;
      return fetchOnce(deadlineMs).catch(() => undefined);
    },
    staleReason: () => (cached && lastError !== undefined ? lastError : undefined),
    async prefetch() {
      if (cached || inFlight) return;
      fetchOnce(Number.POSITIVE_INFINITY, true).catch(() => undefined);
      try {
        await fetchSecretString.load?.();
      } catch {
        // The fetch meets the same failure and is the first request's to retry.
      }
      // The fetch continues from the same load; its SDK middleware runs to the socket before
      // anything else takes the CPU (core/pending-writes.ts).
      await afterPendingWrites();
    },
  };
}

function secretsManagerFetcher(): SecretStringFetcher {
  const client = lazy(async () => {
    const { SecretsManagerClient, GetSecretValueCommand } = cjsExports(await import('./sdk/secrets-manager'));
    return { client: new SecretsManagerClient(sdkClientOptions('secret')), GetSecretValueCommand };
  });
  const fetchSecret: SecretStringFetcher = async (secretId, deadlineMs) => {
    const { client: sm, GetSecretValueCommand } = await client();
    const result = await sm.send(new GetSecretValueCommand({ SecretId: secretId }), { abortSignal: abortSignalAt(deadlineMs) });
    if (result.SecretString === undefined) throw new Error('secret has no SecretString (binary secrets are not supported)');
    return result.SecretString;
  };
  fetchSecret.load = async () => {
    await client();
  };
  return fetchSecret;
}
