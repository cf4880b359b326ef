/**
 * `npm start`'s queues: a folder on disk stands in for each SQS queue (a `file:///path` queue
 * URL), written through the receiver's own queue ports (lambda/adapters/queue.ts) and drained
 * with the workers' own logic. Dev-only: nothing here is in a Lambda bundle.
 *
 * A message is one JSON file named `<visible-at epoch ms>-<sequence>-<uuid>.json`, so names
 * sort in the order messages become visible and a delayed message (SQS DelaySeconds) simply
 * carries a later time; a drain takes only those whose time has come. SQS keeps a message's
 * receive count beside its body (ApproximateReceiveCount); here it is kept in the file name
 * (`<id>.failed-3.json`), renamed after each failed drain, so the count survives a restart of
 * `npm start` and the body stays byte for byte what the receiver queued. Like SQS with
 * maxReceiveCount 8, a message that fails 8 drains moves to `dead-letter/`.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSqsSender, type MessageSender } from '../lambda/adapters/queue';
import type { CrmForwarder } from '../lambda/core/ports';
import { processRetry } from '../lambda/core/process-retry';
import { RETRY_WORKER_TIMEOUT_MS, requestBudget } from '../lambda/core/time-budget';

/** A folder for `file:` queue URLs, SQS for anything else: what `npm start` and the CLIs send with. */
export function localQueueSender(queueUrl: string): MessageSender {
  return queueUrl.startsWith('file:') ? folderSender(fileURLToPath(queueUrl)) : createSqsSender(queueUrl);
}

/** Orders files written in the same millisecond by this process (names sort as they were sent). */
let sequence = 0;

/** One JSON file per message, written to a temp name then renamed so readers never see half a file. */
export function folderSender(directory: string): MessageSender {
  return async (body, _deadlineMs, delaySeconds = 0) => {
    await mkdir(directory, { recursive: true });
    sequence = (sequence + 1) % 1_000_000;
    const visibleAt = Date.now() + delaySeconds * 1000;
    const name = `${visibleAt}-${String(sequence).padStart(6, '0')}-${randomUUID()}.json`;
    const temp = join(directory, `.${name}.tmp`);
    await writeFile(temp, body, { mode: 0o600 });
    await rename(temp, join(directory, name));
  };
}

/** When a folder message becomes visible: the epoch ms its name starts with (0 if it has none). */
function folderMessageVisibleAt(name: string): number {
  const match = /^(\d{10,16})-/.exec(name);
  return match ? Number(match[1]) : 0;
}

export const MAX_RECEIVES = 8;
export const DEAD_LETTER_FOLDER = 'dead-letter';

export interface DrainSummary {
  delivered: number;
  kept: number;
  deadLettered: number;
}

export interface QueueFile {
  /** The name the receiver gave the message, without `.json`. */
  id: string;
  /** Drains that failed so far. */
  failedDrains: number;
}

const QUEUE_FILE = /^([^.][^/]*?)(?:\.failed-(\d+))?\.json$/;

/** Reads a queue file name; undefined for anything else (temp files, folders, notes). */
export function parseQueueFileName(name: string): QueueFile | undefined {
  const match = QUEUE_FILE.exec(name);
  if (!match) return undefined;
  const [, id = '', failedDrains] = match;
  return { id, failedDrains: failedDrains === undefined ? 0 : Number(failedDrains) };
}

export function queueFileName({ id, failedDrains }: QueueFile): string {
  return failedDrains === 0 ? `${id}.json` : `${id}.failed-${failedDrains}.json`;
}

/**
 * Moves every message in `<directory>/dead-letter/` back into `directory` with a fresh receive
 * count (the local counterpart of an SQS message-move task); `dryRun` only counts. A message
 * keeps its name, so it is visible at once and keeps its place in the order.
 */
export async function redriveFolder(directory: string, { dryRun = false } = {}): Promise<{ moved: number }> {
  const deadLetterDir = join(directory, DEAD_LETTER_FOLDER);
  const names = (await readdir(deadLetterDir).catch(() => [] as string[])).filter((name) => parseQueueFileName(name) !== undefined);
  if (dryRun) return { moved: names.length };
  await mkdir(directory, { recursive: true });
  let moved = 0;
  for (const name of names.sort()) {
    const { id } = parseQueueFileName(name) ?? { id: name };
    // Taken by a concurrent redrive meanwhile: not ours to count.
    if (
      await rename(join(deadLetterDir, name), join(directory, queueFileName({ id, failedDrains: 0 }))).then(
        () => true,
        () => false,
      )
    )
      moved += 1;
  }
  return { moved };
}

/**
 * What a handler decided about one message: gone (done or dead-lettered by the handler), try
 * again on the next drain, or try again no sooner than `retryInMs` from now (SQS's
 * ChangeMessageVisibility: a backoff, or a text waiting out quiet hours).
 */
export type FolderVerdict = 'done' | 'retry' | 'dead_letter' | { retryInMs: number };

export interface FolderDrainSummary {
  done: number;
  kept: number;
  deadLettered: number;
}

export interface FolderQueueDrainer {
  /** One pass over the messages that are visible now; overlapping calls share the pass in progress. */
  drainOnce(): Promise<FolderDrainSummary>;
  /** How many messages wait, and when the next of them becomes visible (delayed messages). */
  waiting(): Promise<{ count: number; nextVisibleAt?: number }>;
}

/**
 * Drains a folder queue with `handle`, the way an SQS event source
 * drives a worker: only messages whose visible-at time has come, their receive count kept in
 * the file name, and after `maxReceives` failed drains a message moves to `dead-letter/`.
 */
export function createFolderQueueDrainer(
  directory: string,
  handle: (body: string, receiveCount: number) => Promise<FolderVerdict>,
  { maxReceives = MAX_RECEIVES, now = Date.now }: { maxReceives?: number; now?: () => number } = {},
): FolderQueueDrainer {
  const deadLetterDir = join(directory, DEAD_LETTER_FOLDER);
  let running: Promise<FolderDrainSummary> | undefined;

  async function queued(): Promise<string[]> {
    try {
      return (await readdir(directory)).filter((name) => parseQueueFileName(name) !== undefined).sort();
    } catch {
      return []; // no folder yet: nothing waits
    }
  }

  async function drain(): Promise<FolderDrainSummary> {
    const summary: FolderDrainSummary = { done: 0, kept: 0, deadLettered: 0 };
    for (const name of await queued()) {
      if (folderMessageVisibleAt(name) > now()) continue; // delayed: not visible yet
      const file = join(directory, name);
      const body = await readFile(file, 'utf8').catch(() => undefined);
      if (body === undefined) continue; // taken by someone else meanwhile
      const queuedFile = parseQueueFileName(name);
      if (!queuedFile) continue; // queued() lists queue files only
      const verdict = await handle(body, queuedFile.failedDrains + 1);
      if (verdict === 'done' || verdict === 'dead_letter') {
        await unlink(file);
        summary[verdict === 'done' ? 'done' : 'deadLettered'] += 1;
        continue;
      }
      const failedDrains = queuedFile.failedDrains + 1;
      if (failedDrains >= maxReceives) {
        await mkdir(deadLetterDir, { recursive: true });
        await rename(file, join(deadLetterDir, queueFileName({ id: queuedFile.id, failedDrains: 0 })));
        summary.deadLettered += 1;
      } else {
        // A later visible-at time is a later name: the message waits, as behind a longer SQS visibility.
        const id = verdict === 'retry' ? queuedFile.id : `${now() + verdict.retryInMs}${queuedFile.id.slice(queuedFile.id.indexOf('-'))}`;
        await rename(file, join(directory, queueFileName({ id, failedDrains })));
        summary.kept += 1;
      }
    }
    return summary;
  }

  return {
    drainOnce() {
      running ??= drain().finally(() => (running = undefined));
      return running;
    },
    async waiting() {
      const names = await queued();
      const times = names.map(folderMessageVisibleAt).filter((t) => t > now());
      return { count: names.length, ...(times.length ? { nextVisibleAt: Math.min(...times) } : {}) };
    },
  };
}

/** The retry folder: drained with the retry worker's own logic (processRetry). */
export function createFolderDrainer(directory: string, crm: CrmForwarder, maxReceives = MAX_RECEIVES) {
  const deadLetter = folderSender(join(directory, DEAD_LETTER_FOLDER));
  const folder = createFolderQueueDrainer(
    directory,
    async (body) => {
      // Each message gets the time a worker invocation would have.
      const budget = requestBudget(Date.now(), undefined, RETRY_WORKER_TIMEOUT_MS);
      const { verdict } = await processRetry({ body }, { crm, deadLetter, now: Date.now }, budget);
      return verdict === 'delivered' || verdict === 'deduplicated' ? 'done' : verdict;
    },
    { maxReceives },
  );
  return {
    async drainOnce(): Promise<DrainSummary> {
      const { done, kept, deadLettered } = await folder.drainOnce();
      return { delivered: done, kept, deadLettered };
    },
    /** How many messages wait in the folder now. */
    async countWaiting(): Promise<number> {
      return (await folder.waiting()).count;
    },
  };
}
