/**
 * Load: 500 signed events sent concurrently (bounded) to the local server while the CRM fails
 * a third of its requests. Afterwards the CRM and the retry queue together hold exactly one
 * payload per event; then the retry worker drains the queue and the CRM holds all 500.
 */
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReceiver } from '../../lambda/create-receiver';
import { createRetryWorker } from '../../lambda/create-retry-worker';
import { createLocalServer, WEBHOOK_PATH } from '../../scripts/lib/local-server';
import { sampleEvent } from '../../support/fixtures/samples';
import { signatureHeaders } from '../../support/fixtures/signing';
import { type LocalAws, startLocalAws } from '../helpers/local-aws';

const LOAD_EVENTS = 500;
const CONCURRENCY = 25;
const SECRET = 'wsec_load';
let local: LocalAws;
let server: ReturnType<typeof createLocalServer>;
let port: number;

beforeAll(async () => {
  local = await startLocalAws();
  const handler = createReceiver(
    { ...local.env, WEBHOOK_SECRET_ARN: '', ELEVENLABS_WEBHOOK_SECRET: SECRET, CRM_MAX_ATTEMPTS: '2', CRM_TIMEOUT_MS: '2000' },
    { write: () => undefined, crm: { backoffBaseMs: 2 } },
  );
  server = createLocalServer({ handler });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await local.close();
});

function post(agent: Agent, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: WEBHOOK_PATH, method: 'POST', agent, headers: signatureHeaders(SECRET, body) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe(`load: ${LOAD_EVENTS} events, ${CONCURRENCY} at a time, CRM failing every third request`, () => {
  it('loses nothing and duplicates nothing', async () => {
    // Every third CRM request fails, so some events succeed on their second attempt and
    // some exhaust both attempts and are queued.
    local.crm.respond((index) => (index % 3 === 0 ? { status: 503 } : { status: 200 }));
    const subjects = Array.from({ length: LOAD_EVENTS }, (_, i) => `load-${i}`);
    const bodies = subjects.map((subject, i) => {
      const event = sampleEvent(i % 2 ? 'failure' : 'transcription', { conversationId: `conv_load_${i}` });
      event.data.conversation_initiation_client_data ??= { dynamic_variables: {} };
      event.data.conversation_initiation_client_data.dynamic_variables.subject = subject;
      return JSON.stringify(event);
    });

    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const statuses: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++]!;
          statuses.push((await post(agent, body)).status);
        }
      }),
    );
    agent.destroy();

    expect(statuses).toHaveLength(LOAD_EVENTS);
    expect(statuses.every((s) => s === 200)).toBe(true);

    const accepted = local.crm.accepted.map((p) => (p as { subject: string }).subject);
    const queued = local.aws.messages('crm-retry').map((m) => JSON.parse(m).crmPayload.subject as string);
    expect(queued.length).toBeGreaterThan(0); // the failure path really ran
    const counts = new Map<string, number>();
    for (const subject of [...accepted, ...queued]) counts.set(subject, (counts.get(subject) ?? 0) + 1);
    const lost = subjects.filter((s) => !counts.has(s));
    const duplicated = subjects.filter((s) => (counts.get(s) ?? 0) > 1);
    expect({ lost, duplicated }).toEqual({ lost: [], duplicated: [] });
    // Every event was either forwarded or queued, and the CRM failed some: both paths were taken.
    expect(accepted.length + queued.length).toBe(LOAD_EVENTS);
    expect(queued.length).toBeGreaterThan(0);

    // The retry worker drains the queue once the CRM is healthy again.
    local.crm.respond({ status: 200 });
    const worker = createRetryWorker({ CRM_WEBHOOK_URL: local.crm.url }, { write: () => undefined });
    const records = local.aws
      .messages('crm-retry')
      .map((body, i) => ({ messageId: `m${i}`, body, attributes: { ApproximateReceiveCount: '1' } }));
    for (let i = 0; i < records.length; i += 10) {
      const result = await worker({ Records: records.slice(i, i + 10) } as unknown as SQSEvent);
      expect(result.batchItemFailures).toEqual([]);
    }
    const delivered = new Set(local.crm.accepted.map((p) => (p as { subject: string }).subject));
    expect(subjects.filter((s) => !delivered.has(s))).toEqual([]);
    expect(local.crm.accepted).toHaveLength(LOAD_EVENTS);
  });
});
