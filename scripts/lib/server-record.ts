/**
 * `server.json` in the data folder: the running `npm start`'s pid, URL, the secret it verifies
 * with (mode 0600, like `webhook-secret`) and where its local parts are (`env`: the embedded S3
 * and DynamoDB, the bucket, the CRM sink, the folder queues). `npm run send` reads it to sign with
 * the right secret and find the URL; `backfill --local` and `replay --local` to work against the
 * same bucket, CRM and queues; `npm run reset` and a second `npm start` to tell whether a server
 * is still using the folder. Removed when `npm start` stops; a record left by
 * a crash is recognised as stale by the liveness check.
 */
import { chmodSync, existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import * as z from 'zod';
import { LIVENESS_PROBE_USER_AGENT } from './local-server';

const RecordSchema = z.object({
  pid: z.number().int().positive(),
  url: z.string().url(),
  secret: z.string().min(1),
  secretSource: z.enum(['environment', 'dotenv', 'saved', 'generated']),
  startedAt: z.string(),
  /** The environment npm start's Lambdas run with, for the names in LOCAL_TARGET_NAMES. */
  env: z.record(z.string(), z.string()).optional(),
});

/** What `--local` CLIs take from a running `npm start`: where its parts are (none of it secret). */
export const LOCAL_TARGET_NAMES = [
  'AWS_ENDPOINT_URL_S3',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_REGION',
  'AUDIO_BUCKET',
  'IDEMPOTENCY_TABLE',
  'ARCHIVE_EVENTS',
  'CRM_WEBHOOK_URL',
  'CRM_RETRY_QUEUE_URL',
  'AUDIO_CHECK_QUEUE_URL',
] as const;

export type ServerRecord = z.output<typeof RecordSchema>;

/** Written once at start; a reader that catches it half-written treats it as absent. */
export function writeServerRecord(file: string, record: ServerRecord): void {
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // `mode` applies only when the file is new
}

/** The record, or undefined when there is none or it cannot be read. */
export function readServerRecord(file: string): ServerRecord | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const parsed = RecordSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the record if it is still this process's (a newer server may have replaced it). */
export function removeServerRecord(file: string, pid: number): void {
  if (readServerRecord(file)?.pid !== pid) return;
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
}

/** The recorded process exists and something answers HTTP at the recorded URL. */
export async function isServerAlive(record: ServerRecord, timeoutMs = 1_000): Promise<boolean> {
  try {
    process.kill(record.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false; // EPERM: exists, another user's
  }
  return new Promise((resolve) => {
    const probe = request(
      record.url,
      { method: 'GET', timeout: timeoutMs, headers: { 'user-agent': LIVENESS_PROBE_USER_AGENT } },
      (res) => {
        res.resume();
        resolve(true);
      },
    );
    probe.on('timeout', () => probe.destroy());
    probe.on('error', () => resolve(false));
    probe.end();
  });
}

/** Whether `target` is the recorded server: same port and path, both on this machine. */
export function isSameServer(target: URL, recordUrl: string): boolean {
  const recorded = new URL(recordUrl);
  const local = (url: URL) => isLocalHost(url.hostname);
  return (
    target.port === recorded.port &&
    target.pathname === recorded.pathname &&
    (target.hostname === recorded.hostname || (local(target) && local(recorded)))
  );
}

/** 127.0.0.1, localhost or ::1: this machine. Anything else is treated as a deployment. */
export function isLocalHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]' || hostname === '::1';
}
