/**
 * The webhook secret from Secrets Manager (WEBHOOK_SECRET_ARN) or the environment
 * (ELEVENLABS_WEBHOOK_SECRET), cached per container for SECRET_CACHE_SECONDS (SPEC §8).
 * The SDK client is loaded on first use only, so a container configured with a plain
 * secret never pays for it.
 */
import { SecretUnavailableError } from '../core/errors';
import { lazy } from './lazy';
import { cjsExports } from './load-module';
import type { SecretSource } from '../core/ports';
import { parseWebhookSecret, type WebhookSecrets } from '../core/webhook-secrets';

/**
 * A signature mismatch may refetch the secret (a rotation), but at most this often per
 * container: otherwise every forged request would cost a Secrets Manager call.
 */
export const MIN_REFRESH_INTERVAL_MS = 10_000;

export interface SecretSourceOptions {
  secretArn?: string;
  plainSecret?: string;
  cacheSeconds: number;
  now: () => number;
  /** Reads a SecretString by id; defaults to the AWS SDK. */
  fetchSecretString?: (secretId: string) => Promise<string>;
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
    return { current, refreshed: async () => undefined };
  }

  const fetchSecretString = options.fetchSecretString ?? secretsManagerFetcher();
  let cached: { secrets: WebhookSecrets; fetchedAt: number } | undefined;
  let lastAttemptAt = -Infinity;
  let inFlight: Promise<WebhookSecrets> | undefined;

  /** One fetch at a time per container; concurrent callers share it. */
  const fetchOnce = (): Promise<WebhookSecrets> => {
    inFlight ??= (async () => {
      lastAttemptAt = now();
      try {
        const secrets = parseWebhookSecret(await fetchSecretString(secretArn));
        cached = { secrets, fetchedAt: now() };
        return secrets;
      } catch (error) {
        throw new SecretUnavailableError(safeReason(error));
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };

  return {
    async current() {
      if (cached && now() - cached.fetchedAt < cacheSeconds * 1000) return cached.secrets;
      try {
        return await fetchOnce();
      } catch (error) {
        // Stay closed, but keep working on the last secret we verified with if Secrets
        // Manager blips after the cache expires: the secret is still the secret.
        if (cached) return cached.secrets;
        throw error;
      }
    },
    async refreshed() {
      if (now() - lastAttemptAt < MIN_REFRESH_INTERVAL_MS) return undefined;
      return fetchOnce().catch(() => undefined);
    },
  };
}

/** The error's name and message, which for the SDK and our parser never contain the value. */
function safeReason(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 200);
  return 'unknown error';
}

function secretsManagerFetcher(): (secretId: string) => Promise<string> {
  const fetcher = lazy(async () => {
    const { SecretsManagerClient, GetSecretValueCommand } = cjsExports(await import('@aws-sdk/client-secrets-manager'));
    // Fail fast: a Lambda waiting on Secrets Manager is a webhook timing out.
    const client = new SecretsManagerClient({
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 2_000, requestTimeout: 3_000 },
    });
    return async (secretId: string) => {
      const result = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      if (result.SecretString === undefined) throw new Error('secret has no SecretString (binary secrets are not supported)');
      return result.SecretString;
    };
  });
  return async (secretId) => (await fetcher())(secretId);
}
