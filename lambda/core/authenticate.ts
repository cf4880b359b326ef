/**
 * contract §3: who sent this request. Cheap checks (header shape, timestamp) run before the secret
 * is loaded, so junk never costs a Secrets Manager call; a mismatch refetches the secret once,
 * in case it was rotated.
 */
import { SignatureError } from './errors';
import type { SecretSource } from './ports';
import { checkWebhookHeaders, type RawBody, verifyPresented } from './verify-signature';
import type { WebhookSecrets } from './webhook-secrets';

export interface SignedRequest {
  body: RawBody;
  headers: Readonly<Record<string, string | undefined>>;
}

export interface AuthenticateDeps {
  secrets: SecretSource;
  now: () => number;
  toleranceSeconds: number;
}

export async function authenticate(request: SignedRequest, deadlineMs: number, deps: AuthenticateDeps): Promise<'hmac' | 'bearer'> {
  // No secret needed to refuse a missing or malformed header or a stale timestamp; what the
  // headers present is parsed once, here, and checked against each set of secrets below.
  const presented = checkWebhookHeaders(request.headers, deps.now(), { toleranceSeconds: deps.toleranceSeconds });
  const verify = (secrets: WebhookSecrets) => verifyPresented(presented, request.body, secrets);
  try {
    return verify(await deps.secrets.current(deadlineMs));
  } catch (error) {
    if (!(error instanceof SignatureError)) throw error;
    // Rate-limited by the secret source (adapters/secrets.ts MIN_REFRESH_INTERVAL_MS), so a flood of bad
    // signatures cannot turn into a flood of Secrets Manager calls.
    const refreshed = await deps.secrets.refreshed(deadlineMs);
    if (!refreshed) throw error;
    return verify(refreshed);
  }
}
