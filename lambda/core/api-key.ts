/**
 * What the ElevenLabs API-key secret holds (contract §8 ELEVENLABS_API_KEY_SECRET_ARN): the key
 * itself, or JSON `{"apiKey": "..."}`. Empty — the stack's placeholder `{"apiKey":""}` — means
 * recovery is off: the audio worker then reports every missing recording as `AudioMissing`.
 */
import * as z from 'zod/mini';
import './zod-messages';

const ApiKeyJsonSchema = z.object({ apiKey: z.string() });

/** The key, or undefined when none is configured. Throws a log-safe error (never the value). */
export function parseApiKeySecret(secretString: string): string | undefined {
  const text = secretString.trim();
  if (text === '') return undefined;
  if (!text.startsWith('{')) return text;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('API key secret looks like JSON but does not parse');
  }
  const parsed = ApiKeyJsonSchema.safeParse(json);
  if (!parsed.success) throw new Error('API key secret JSON needs a string field "apiKey"');
  const key = parsed.data.apiKey.trim();
  return key === '' ? undefined : key;
}
