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
import { createMessageSender } from '../../lambda/adapters/queue';
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
  return { id: match[1]!, failedDrains: match[2] === undefined ? 0 : Number(match[2]) };
}

export function queueFileName({ id, failedDrains }: QueueFile): string {
  return failedDrains === 0 ? `${id}.json` : `${id}.failed-${failedDrains}.json`;
}

export function createFolderDrainer(directory: string, crm: CrmForwarder, maxReceives = MAX_RECEIVES) {
  const deadLetterDir = join(directory, DEAD_LETTER_FOLDER);
  const deadLetter = createMessageSender(pathToFileURL(deadLetterDir).href);
  let running: Promise<DrainSummary> | undefined;

  async function waitingFiles(): Promise<string[]> {
    try {
      return (await readdir(directory)).filter((name) => parseQueueFileName(name) !== undefined).sort();
    } catch {
      return []; // no folder yet: nothing has failed
    }
  }

  async function drain(): Promise<DrainSummary> {
    const summary: DrainSummary = { delivered: 0, kept: 0, deadLettered: 0 };
    for (const name of await waitingFiles()) {
      const file = join(directory, name);
      const body = await readFile(file, 'utf8').catch(() => undefined);
      if (body === undefined) continue; // taken by someone else meanwhile
      // Each message gets the time a worker invocation would have.
      const { deadlineMs } = requestBudget(Date.now(), undefined, RETRY_WORKER_TIMEOUT_MS);
      const { verdict } = await processRetry(body, { crm, deadLetter }, deadlineMs);
      if (verdict !== 'retry') {
        await unlink(file);
        summary[verdict === 'delivered' ? 'delivered' : 'deadLettered'] += 1;
        continue;
      }
      const queued = parseQueueFileName(name)!;
      const failedDrains = queued.failedDrains + 1;
      if (failedDrains >= maxReceives) {
        await mkdir(deadLetterDir, { recursive: true });
        await rename(file, join(deadLetterDir, queueFileName({ id: queued.id, failedDrains: 0 })));
        summary.deadLettered += 1;
      } else {
        await rename(file, join(directory, queueFileName({ id: queued.id, failedDrains })));
        summary.kept += 1;
      }
    }
    return summary;
  }

  return {
    /** One pass over the folder; overlapping calls share the pass in progress. */
    drainOnce(): Promise<DrainSummary> {
      running ??= drain().finally(() => (running = undefined));
      return running;
    },
    /** How many messages wait in the folder now. */
    async countWaiting(): Promise<number> {
      return (await waitingFiles()).length;
    },
  };
}
