/**
 * The local tools' own settings (`npm start`, `npm run send`, `npm run reset`), read in one
 * place. `.env` is applied first and fills only what the environment leaves unset (existing
 * variables win, as with `node --env-file`), so every local setting can live in `.env`.
 * The receiver's settings are not parsed here: `lambda/config/receiver-config.ts` (`loadConfig`) stays their
 * only reader. Unlike the receiver's errors, these name the bad value: none of them is a secret.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import * as z from 'zod';
import { CliError } from './cli';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DEFAULT_DATA_DIR = join(ROOT, '.local');
const DEFAULT_ENV_FILE = join(ROOT, '.env');
const DEFAULT_PORT = 3000;
const DEFAULT_DRAIN_INTERVAL_MS = 15_000;
export const LOCAL_BUCKET = 'elevenlabs-audio-local';
export const LOCAL_IDEMPOTENCY_TABLE = 'elevenlabs-webhook-idempotency-local';

export type LogFormat = 'short' | 'json';

export interface LocalConfig {
  /** Absolute; everything `npm start` keeps lives here. */
  dataDir: string;
  port: number;
  host: string;
  retryDrainIntervalMs: number;
  logFormat: LogFormat;
}

export type Env = Record<string, string | undefined>;

/** A local setting that cannot work; the message is one line that names the variable. */
export class LocalConfigError extends CliError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'LocalConfigError';
  }
}

/** Where each kind of local state lives inside the data folder. */
export function localPaths(dataDir: string) {
  return {
    dataDir,
    /** Written by `npm start`: marks the folder as one `npm run reset` may empty. */
    marker: join(dataDir, '.elevenlabs-local-data'),
    /** The secret `npm start` generated on a first run with none configured. */
    secretFile: join(dataDir, 'webhook-secret'),
    /** The running server: pid, URL and the secret it verifies with (mode 0600). */
    serverFile: join(dataDir, 'server.json'),
    s3Dir: join(dataDir, 's3'),
    dynamoDir: join(dataDir, 'dynamodb'),
    retryDir: join(dataDir, 'retry-queue'),
    audioCheckDir: join(dataDir, 'audio-checks'),
    /** contract §13: the SMS folder queue, when texting is on. */
    smsDir: join(dataDir, 'texts'),
  };
}

/** Entries `npm start` creates; a folder holding only these (or nothing) is a local data folder. */
export const KNOWN_ENTRIES = [
  '.elevenlabs-local-data',
  'webhook-secret',
  'server.json',
  's3',
  'dynamodb',
  'retry-queue',
  'audio-checks',
  'texts',
];

export interface LoadedEnv {
  env: Env;
  /** Names whose value came from the `.env` file rather than the environment. */
  fromDotEnv: ReadonlySet<string>;
  /** The file read, if any. */
  envFile?: string;
}

/**
 * `env` with the `.env` file applied under it. `LOCAL_ENV_FILE` (from the environment only)
 * names another file; the tests use it so a developer's own `.env` never changes their run.
 */
export function loadLocalEnv(env: Env): LoadedEnv {
  const named = env.LOCAL_ENV_FILE?.trim();
  const file = named ? resolve(ROOT, named) : DEFAULT_ENV_FILE;
  if (!existsSync(file)) {
    if (named) throw new LocalConfigError(`LOCAL_ENV_FILE names ${file}, which does not exist`);
    return { env: { ...env }, fromDotEnv: new Set() };
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new LocalConfigError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return { ...mergeDotEnv(env, parseEnv(text)), envFile: file };
}

/** Pure: `.env` values fill only names the environment does not set (an empty value counts as set). */
export function mergeDotEnv(env: Env, dotEnv: Env): { env: Env; fromDotEnv: Set<string> } {
  const merged: Env = { ...env };
  const fromDotEnv = new Set<string>();
  for (const [name, value] of Object.entries(dotEnv)) {
    if (merged[name] !== undefined || value === undefined) continue;
    merged[name] = value;
    fromDotEnv.add(name);
  }
  return { env: merged, fromDotEnv };
}

const quoted = (value: string) => JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);

type Parsed<T> = { value: T } | { problem: string };

/** An optional setting: empty or blank means "use the default" (the `.env.example` convention). */
function setting<T>(parse: (value: string) => Parsed<T>) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): T | undefined => {
      const value = raw?.trim();
      if (value === undefined || value === '') return undefined;
      const parsed = parse(value);
      if ('value' in parsed) return parsed.value;
      ctx.addIssue({ code: 'custom', message: `${parsed.problem} (got ${quoted(value)})` });
      return z.NEVER;
    });
}

function wholeNumber(min: number, max: number, what: string) {
  return setting<number>((value) => {
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    return Number.isSafeInteger(n) && n >= min && n <= max ? { value: n } : { problem: `must be ${what}` };
  });
}

const LocalEnvSchema = z.object({
  LOCAL_DATA_DIR: setting<string>((value) => ({ value: resolve(ROOT, value) })),
  PORT: wholeNumber(0, 65_535, 'a port number from 0 to 65535 (0 picks a free port)'),
  HOST: setting<string>((value) =>
    isIP(value) !== 0 || /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(value) ? { value } : { problem: 'must be an IP address or a host name' },
  ),
  RETRY_DRAIN_INTERVAL_MS: wholeNumber(100, 86_400_000, 'a whole number of milliseconds from 100 to 86400000'),
  LOG_FORMAT: setting<LogFormat>((value) =>
    value === 'short' || value === 'json'
      ? { value }
      : { problem: 'must be "short" (one line per request) or "json" (the JSON line Lambda writes)' },
  ),
});

/** Parses the local settings from `env` (after `.env`); throws one `LocalConfigError` naming the variable. */
export function loadLocalConfig(env: Env): LocalConfig {
  const parsed = LocalEnvSchema.safeParse(env);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    throw new LocalConfigError(issue ? `${issue.path.join('.')} ${issue.message}` : 'invalid settings');
  }
  const e = parsed.data;
  return {
    dataDir: e.LOCAL_DATA_DIR ?? DEFAULT_DATA_DIR,
    port: e.PORT ?? DEFAULT_PORT,
    host: e.HOST ?? '127.0.0.1',
    retryDrainIntervalMs: e.RETRY_DRAIN_INTERVAL_MS ?? DEFAULT_DRAIN_INTERVAL_MS,
    logFormat: e.LOG_FORMAT ?? 'short',
  };
}

/** A path as the user would type it: relative to the repository when inside it. */
export function shownPath(path: string): string {
  if (!isAbsolute(path)) return path;
  return path.startsWith(ROOT) && path.length > ROOT.length ? path.slice(ROOT.length).replace(/^\/+/, '') : path;
}
