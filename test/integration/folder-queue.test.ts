/**
 * `npm start`'s folder queue: the receiver writes failed forwards there, and the drainer
 * delivers them with the retry worker's logic once the CRM is back.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCrmForwarder } from '../../lambda/adapters/crm-client';
import { retryQueueOver } from '../../lambda/adapters/queue';
import type { RetryQueueMessage } from '../../lambda/core/ports';
import { createFolderDrainer, folderSender, MAX_RECEIVES, parseQueueFileName, queueFileName } from '../../support/folder-queue';
import { type CrmStandIn, startCrmStandIn } from '../../support/stand-ins/crm';

let crm: CrmStandIn;
let dir: string;

beforeAll(async () => {
  crm = await startCrmStandIn();
});
afterAll(() => crm.close());
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'retry-folder-'));
  crm.respond({ status: 200 });
  return () => rm(dir, { recursive: true, force: true });
});

const message = (n: number): RetryQueueMessage => ({
  crmPayload: { type: 'conversationAICall', subject: `S${n}`, to: '+61400000000', name: 'N', summary: 'x', status: 'held', duration: n },
  eventType: 'post_call_transcription',
  conversationId: `conv_${n}`,
  attempts: 3,
  lastError: 'HTTP 503',
  firstAttemptAt: '2026-11-22T10:00:00.000Z',
});
const forwarder = () => createCrmForwarder({ url: crm.url, timeoutMs: 1000, maxAttempts: 1 });
const files = () => readdirSync(dir).filter((f) => f.endsWith('.json'));

const FAR = Number.MAX_SAFE_INTEGER;

describe('the folder retry queue', () => {
  it('writes one complete JSON file per message, with nothing half-written left behind', async () => {
    const queue = retryQueueOver(folderSender(dir));
    await Promise.all([1, 2, 3].map((n) => queue.enqueue(message(n), FAR)));
    expect(files()).toHaveLength(3);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const bodies = files().map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
    expect(bodies).toEqual(expect.arrayContaining([message(1), message(2), message(3)]));
  });

  it('keeps messages while the CRM fails and delivers them once it is back', async () => {
    const queue = retryQueueOver(folderSender(dir));
    await queue.enqueue(message(1), FAR);
    await queue.enqueue(message(2), FAR);
    const drainer = createFolderDrainer(dir, forwarder());
    crm.respond({ status: 503 });
    expect(await drainer.drainOnce()).toEqual({ delivered: 0, kept: 2, deadLettered: 0 });
    expect(files()).toHaveLength(2);
    crm.respond({ status: 200 });
    const before = crm.accepted.length;
    expect(await drainer.drainOnce()).toEqual({ delivered: 2, kept: 0, deadLettered: 0 });
    expect(files()).toEqual([]);
    expect(crm.accepted.slice(before)).toEqual([message(1).crmPayload, message(2).crmPayload]);
  });

  it('moves a permanently refused payload to dead-letter/ at once', async () => {
    await retryQueueOver(folderSender(dir)).enqueue(message(3), FAR);
    crm.respond({ status: 400 });
    expect(await createFolderDrainer(dir, forwarder()).drainOnce()).toEqual({ delivered: 0, kept: 0, deadLettered: 1 });
    expect(files()).toEqual([]);
    expect(readdirSync(join(dir, 'dead-letter'))).toHaveLength(1);
  });

  it(`dead-letters a message after ${MAX_RECEIVES} failed drains, like SQS maxReceiveCount, counting across restarts`, async () => {
    await retryQueueOver(folderSender(dir)).enqueue(message(4), FAR);
    crm.respond({ status: 503 });
    const before = crm.received.length;
    const [original] = files();
    // Three drains, then `npm start` restarts: a new drainer must carry on counting from 3.
    const first = createFolderDrainer(dir, forwarder());
    for (let i = 1; i <= 3; i++) expect((await first.drainOnce()).kept).toBe(1);
    expect(files()).toEqual([original!.replace(/\.json$/, '.failed-3.json')]);
    expect(JSON.parse(readFileSync(join(dir, files()[0]!), 'utf8'))).toEqual(message(4)); // the body is untouched
    const restarted = createFolderDrainer(dir, forwarder());
    expect(await restarted.countWaiting()).toBe(1);
    for (let i = 4; i < MAX_RECEIVES; i++) expect((await restarted.drainOnce()).kept).toBe(1);
    expect(await restarted.drainOnce()).toEqual({ delivered: 0, kept: 0, deadLettered: 1 });
    expect(files()).toEqual([]);
    expect(readdirSync(join(dir, 'dead-letter'))).toEqual([original]);
    expect(crm.received.length - before).toBe(MAX_RECEIVES);
  });

  it('reads queue file names: the receiver’s, and those carrying a failed-drain count', () => {
    expect(parseQueueFileName('1795-000001-abc.json')).toEqual({ id: '1795-000001-abc', failedDrains: 0 });
    expect(parseQueueFileName('1795-000001-abc.failed-7.json')).toEqual({ id: '1795-000001-abc', failedDrains: 7 });
    expect(parseQueueFileName('.1795-000001-abc.json.tmp')).toBeUndefined();
    expect(parseQueueFileName('dead-letter')).toBeUndefined();
    expect(queueFileName({ id: 'x', failedDrains: 2 })).toBe('x.failed-2.json');
  });

  it('does nothing when the folder does not exist yet', async () => {
    expect(await createFolderDrainer(join(dir, 'missing'), forwarder()).drainOnce()).toEqual({ delivered: 0, kept: 0, deadLettered: 0 });
  });
});
