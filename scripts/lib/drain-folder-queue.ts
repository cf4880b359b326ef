/**
 * The local stand-in for the SQS retry worker: drains `npm start`'s retry folder with the same
 * worker logic (processRetry), so a CRM that comes back receives the queued payloads.
 * Like SQS with maxReceiveCount 8, a message that fails 8 drains moves to `dead-letter/`.
 */
import { mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageSender } from '../../lambda/adapters/retry-queue';
import type { CrmForwarder } from '../../lambda/core/ports';
import { processRetry } from '../../lambda/core/process-retry';
import { RETRY_WORKER_TIMEOUT_MS, requestBudget } from '../../lambda/core/time-budget';

export const MAX_RECEIVES = 8;

export interface DrainSummary {
  delivered: number;
  kept: number;
  deadLettered: number;
}

export function createFolderDrainer(directory: string, crm: CrmForwarder, maxReceives = MAX_RECEIVES) {
  const deadLetterDir = join(directory, 'dead-letter');
  const deadLetter = createMessageSender(pathToFileURL(deadLetterDir).href);
  const receives = new Map<string, number>();
  let running: Promise<DrainSummary> | undefined;

  async function drain(): Promise<DrainSummary> {
    const summary: DrainSummary = { delivered: 0, kept: 0, deadLettered: 0 };
    let names: string[];
    try {
      names = (await readdir(directory)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
    } catch {
      return summary; // no folder yet: nothing has failed
    }
    for (const name of names) {
      const file = join(directory, name);
      const body = await readFile(file, 'utf8').catch(() => undefined);
      if (body === undefined) continue; // taken by someone else meanwhile
      // Each message gets the time a worker invocation would have.
      const { deadlineMs } = requestBudget(Date.now(), undefined, RETRY_WORKER_TIMEOUT_MS);
      const { verdict } = await processRetry(body, { crm, deadLetter }, deadlineMs);
      if (verdict !== 'retry') {
        await unlink(file);
        receives.delete(name);
        summary[verdict === 'delivered' ? 'delivered' : 'deadLettered'] += 1;
        continue;
      }
      const count = (receives.get(name) ?? 0) + 1;
      if (count >= maxReceives) {
        await mkdir(deadLetterDir, { recursive: true });
        await rename(file, join(deadLetterDir, name));
        receives.delete(name);
        summary.deadLettered += 1;
      } else {
        receives.set(name, count);
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
  };
}
