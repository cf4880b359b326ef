/**
 * What the webhook secret holds (contract §8, WEBHOOK_SECRET_ARN): either the HMAC secret
 * itself, or JSON `{"hmacSecret", "previousHmacSecrets"?: [...], "bearerToken"?}` so a
 * rotation can accept the old and new secret side by side.
 */
import * as z from 'zod/mini';
import './zod-messages';

export interface WebhookSecrets {
  /** Current first, then previous ones; every entry is non-empty. */
  hmacSecrets: string[];
  bearerToken?: string;
}

const SecretJsonSchema = z.object({
  hmacSecret: z.string(),
  previousHmacSecrets: z.optional(z.array(z.string())),
  bearerToken: z.optional(z.string()),
});

/**
 * Parses a SecretString. Throws with a log-safe reason (never the value) when it holds
 * no usable HMAC secret, so the receiver fails closed.
 */
export function parseWebhookSecret(secretString: string): WebhookSecrets {
  const text = secretString.trim();
  if (text === '') throw new Error('secret is empty');
  if (!text.startsWith('{')) return { hmacSecrets: [text] };

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('secret looks like JSON but does not parse');
  }
  const parsed = SecretJsonSchema.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))];
    throw new Error(`secret JSON has invalid fields: ${fields.join(', ')}`);
  }
  const current = parsed.data.hmacSecret.trim();
  if (current === '') throw new Error('secret JSON has an empty hmacSecret (not configured yet)');
  const previous = (parsed.data.previousHmacSecrets ?? []).map((s) => s.trim()).filter((s) => s !== '');
  const bearer = parsed.data.bearerToken?.trim();
  return {
    hmacSecrets: [current, ...previous.filter((s) => s !== current)],
    ...(bearer ? { bearerToken: bearer } : {}),
  };
}
