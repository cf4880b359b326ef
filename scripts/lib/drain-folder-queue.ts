/**
 * The local stand-in for the SQS retry worker: drains `npm start`'s retry folder with the same
 * worker logic (processRetry), so a CRM that comes back receives the queued payloads.
 * Like SQS with maxReceiveCount 8, a message that fails 8 drains moves to `dead-letter/`.
 *
 * SQS keeps a message's receive count beside its body (ApproximateReceiveCount); here it is
 * kept in the file name (`<id>.failed-3.json`), renamed after each failed drain, so the count
 * survives a restart of `npm start` and the body stays byte for byte what the receiver queued.
 */
import { mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageSender, folderMessageVisibleAt } from '../../lambda/adapters/queue';
import type { CrmForwarder } from '../../lambda/core/ports';
import { processRetry } from '../../lambda/core/process-retry';
import { RETRY_WORKER_TIMEOUT_MS, requestBudget } from '../../lambda/core/time-budget';

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

/** What a handler decided about one message: gone (done or dead-lettered by the handler), or try again. */
export type FolderVerdict = 'done' | 'retry' | 'dead_letter';

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
 * Drains a folder queue (lambda/adapters/queue.ts) with `handle`, the way an SQS event source
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
      if (verdict !== 'retry') {
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
        await rename(file, join(directory, queueFileName({ id: queuedFile.id, failedDrains })));
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
  const deadLetter = createMessageSender(pathToFileURL(join(directory, DEAD_LETTER_FOLDER)).href);
  const folder = createFolderQueueDrainer(
    directory,
    async (body) => {
      // Each message gets the time a worker invocation would have.
      const { deadlineMs } = requestBudget(Date.now(), undefined, RETRY_WORKER_TIMEOUT_MS);
      const { verdict } = await processRetry(body, { crm, deadLetter }, deadlineMs);
      return verdict === 'delivered' ? 'done' : verdict;
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
