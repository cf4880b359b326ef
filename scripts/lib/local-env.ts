/** Where local runs keep their state, and how they find the webhook secret. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Git-ignored; LOCAL_DATA_DIR moves it (the tests do, to keep the checkout clean). */
export const LOCAL_DIR = process.env.LOCAL_DATA_DIR || join(ROOT, '.local');
export const SECRET_FILE = join(LOCAL_DIR, 'webhook-secret');
export const DEFAULT_PORT = 3000;
export const LOCAL_BUCKET = 'elevenlabs-audio-local';

/** Loads `.env` into process.env (existing variables win), if the file exists. */
export function loadDotEnv(): void {
  const file = join(ROOT, '.env');
  if (existsSync(file)) process.loadEnvFile(file);
}

/** The secret from the environment or `.env`, else the one `npm start` generated earlier. */
export function findSecret(): string | undefined {
  return process.env.ELEVENLABS_WEBHOOK_SECRET || (existsSync(SECRET_FILE) ? readFileSync(SECRET_FILE, 'utf8').trim() : undefined);
}

/** Returns the configured secret, or generates one (kept in .local/ so `npm run send` finds it). */
export function secretOrGenerate(): { secret: string; generated: boolean } {
  const found = findSecret();
  if (found) return { secret: found, generated: false };
  mkdirSync(LOCAL_DIR, { recursive: true });
  const secret = `wsec_${randomBytes(24).toString('hex')}`;
  writeFileSync(SECRET_FILE, `${secret}\n`, { mode: 0o600 });
  return { secret, generated: true };
}
