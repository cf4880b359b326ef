/**
 * The webhook secret from Secrets Manager (WEBHOOK_SECRET_ARN) or the environment
 * (ELEVENLABS_WEBHOOK_SECRET), cached per container for SECRET_CACHE_SECONDS (SPEC §8).
 * The SDK client is loaded on first use only, so a container configured with a plain
 * secret never pays for it.
 *
 * Faults (SPEC §11): a fetch is bounded (core/time-budget.ts), so a cold start against a
 * stalled Secrets Manager fails closed within seconds. Once a secret was verified, an
 * expired cache is refreshed in the background ("stale-while-revalidate", RFC 5861 §3) and
 * the last verified secret keeps working meanwhile: no request waits on Secrets Manager
 * again, and an outage of it costs nothing while the secret stays the same.
 */
import { SecretUnavailableError } from '../core/errors';
import type { SecretSource } from '../core/ports';
import { callDeadline } from '../core/time-budget';
import { parseWebhookSecret, type WebhookSecrets } from '../core/webhook-secrets';
import { abortSignalAt, sdkClientOptions } from './deadline';
import { lazy } from './lazy';
import { cjsExports } from './load-module';

/**
 * A signature mismatch may refetch the secret (a rotation), and a failed background refresh
 * is retried, but at most this often per container: otherwise every forged request would
 * cost a Secrets Manager call.
 */
export const MIN_REFRESH_INTERVAL_MS = 10_000;

/** Reads a SecretString by id, giving up at `deadlineMs`. */
export type SecretStringFetcher = (secretId: string, deadlineMs: number) => Promise<string>;

export interface SecretSourceOptions {
  secretArn?: string;
  plainSecret?: string;
  cacheSeconds: number;
  now: () => number;
  /** Defaults to the AWS SDK. */
  fetchSecretString?: SecretStringFetcher;
}

export function createSecretSource(options: SecretSourceOptions): SecretSource {
  const { secretArn, plainSecret, cacheSeconds, now } = options;
  if (!secretArn) {
    // WEBHOOK_SECRET_ARN wins; without it the plain secret is all there is (SPEC §8).
    const secrets = plainSecret ? parseWebhookSecret(plainSecret) : undefined;
    const current = async () => {
      if (!secrets) throw new SecretUnavailableError('no webhook secret configured');
      return secrets;
    };
    return { current, refreshed: async () => undefined, staleReason: () => undefined };
  }

  const fetchSecretString = options.fetchSecretString ?? secretsManagerFetcher();
  let cached: { secrets: WebhookSecrets; fetchedAt: number } | undefined;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  let lastError: string | undefined;
  let inFlight: Promise<WebhookSecrets> | undefined;

  /** One fetch at a time per container; concurrent callers share it. */
  const fetchOnce = (deadlineMs: number): Promise<WebhookSecrets> => {
    inFlight ??= (async () => {
      const startedAt = now();
      lastAttemptAt = startedAt;
      try {
        const secrets = parseWebhookSecret(await fetchSecretString(secretArn, callDeadline('secret', startedAt, deadlineMs)));
        cached = { secrets, fetchedAt: now() };
        lastError = undefined;
        return secrets;
      } catch (error) {
        lastError = safeReason(error);
        throw new SecretUnavailableError(lastError);
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };

  return {
    async current(deadlineMs) {
      if (!cached) return fetchOnce(deadlineMs);
      const expired = now() - cached.fetchedAt >= cacheSeconds * 1000;
      const mayRetry = lastError === undefined || now() - lastAttemptAt >= MIN_REFRESH_INTERVAL_MS;
      if (expired && !inFlight && mayRetry) {
        // Background refresh with its own bound; its failure is reported by staleReason().
        fetchOnce(Number.POSITIVE_INFINITY).catch(() => undefined);
      }
      return cached.secrets;
    },
    async refreshed(deadlineMs) {
      if (inFlight) return inFlight.catch(() => undefined);
      if (now() - lastAttemptAt < MIN_REFRESH_INTERVAL_MS) return undefined;
      return fetchOnce(deadlineMs).catch(() => undefined);
    },
    staleReason: () => (cached && lastError !== undefined ? lastError : undefined),
  };
}

/** The error's name and message, which for the SDK and our parser never contain the value. */
function safeReason(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 200);
  return 'unknown error';
}

function secretsManagerFetcher(): SecretStringFetcher {
  const client = lazy(async () => {
    const { SecretsManagerClient, GetSecretValueCommand } = cjsExports(await import('@aws-sdk/client-secrets-manager'));
    return { client: new SecretsManagerClient(sdkClientOptions('secret')), GetSecretValueCommand };
  });
  return async (secretId, deadlineMs) => {
    const { client: sm, GetSecretValueCommand } = await client();
    const result = await sm.send(new GetSecretValueCommand({ SecretId: secretId }), { abortSignal: abortSignalAt(deadlineMs) });
    if (result.SecretString === undefined) throw new Error('secret has no SecretString (binary secrets are not supported)');
    return result.SecretString;
  };
}
