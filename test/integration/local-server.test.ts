/**
 * The local server in front of the real handler (`npm start`), in process: the API Gateway
 * 2.0 event it builds, Lambda's size limit on that whole event (contract §6: read to the end, then
 * 413, so the client sees the answer and not a reset), and one record per answered request for
 * the log line. The CLI itself is tested in local-cli.test.ts and local-start.test.ts.
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createReceiver } from '../../lambda/create-receiver';
import {
  createLocalServer,
  LAMBDA_MAX_EVENT_BYTES,
  LIVENESS_PROBE_USER_AGENT,
  type ServedRequest,
  WEBHOOK_PATH,
} from '../../scripts/lib/local-server';
import { createRequestLog } from '../../scripts/lib/request-log';
import { eventBytes } from '../../support/api-gateway-event';
import { sampleEvent } from '../../support/fixtures/samples';
import { signatureHeaders } from '../../support/fixtures/signing';
import { type LocalAws, startLocalAws } from '../helpers/local-aws';

const SECRET = 'wsec_local_server_secret';
let local: LocalAws;
let port: number;
let server: ReturnType<typeof createLocalServer>;
let served: ServedRequest[] = [];
let printed: string[] = [];
/** Sizes of the events the handler received, as Lambda would count them. */
let handledEventBytes: number[] = [];

beforeAll(async () => {
  local = await startLocalAws();
  const env = { ...local.env, ELEVENLABS_WEBHOOK_SECRET: SECRET, WEBHOOK_SECRET_ARN: '' };
  const log = createRequestLog('short', (line) => printed.push(line));
  const handler = createReceiver(env, { write: log.write });
  server = createLocalServer({
    handler: (event) => {
      handledEventBytes.push(Buffer.byteLength(JSON.stringify(event)));
      return handler(event);
    },
    onServed: (request) => {
      served.push(request);
      log.served(request);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await local.close();
});
beforeEach(() => {
  served = [];
  printed = [];
  handledEventBytes = [];
});

/** A raw HTTP/1.1 request, so tests control framing (Content-Length or chunked). */
function post(
  path: string,
  body: Buffer | string,
  headers: Record<string, string | number> = {},
  chunked = false,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    // A reset or broken pipe fails the test: the client must see the answer.
    req.on('error', reject);
    if (chunked) {
      const data = Buffer.from(body);
      const step = 1 << 20;
      for (let i = 0; i < data.length; i += step) req.write(data.subarray(i, i + step));
      req.end();
    } else {
      req.end(body);
    }
  });
}

const url = () => `http://127.0.0.1:${port}${WEBHOOK_PATH}`;
const json = { 'content-type': 'application/json' };

describe('the local server', () => {
  it('turns a signed POST into an API Gateway 2.0 event for the real handler', async () => {
    const body = JSON.stringify(sampleEvent('transcription'));
    const response = await post(WEBHOOK_PATH, body, signatureHeaders(SECRET, body));
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ received: true, forwarded: true });
    expect(served).toEqual([
      expect.objectContaining({ method: 'POST', path: WEBHOOK_PATH, statusCode: 200, requestId: expect.any(String) }),
    ]);
  });

  it('answers 401 for an unsigned request', async () => {
    const response = await post(WEBHOOK_PATH, '{}', json);
    expect(response).toEqual({ status: 401, body: '{"error":"missing signature"}' });
  });

  it('answers 404 elsewhere and 405 for other methods, and reports both', async () => {
    expect((await post('/other?token=abc', '{}')).status).toBe(404);
    const status = await new Promise<number>((resolve) => {
      request({ host: '127.0.0.1', port, path: WEBHOOK_PATH, method: 'GET' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).end();
    });
    expect(status).toBe(405);
    expect(served.map((s) => [s.method, s.path, s.statusCode, s.outcome])).toEqual([
      ['POST', '/other', 404, 'not_found'],
      ['GET', WEBHOOK_PATH, 405, 'method_not_allowed'],
    ]);
  });

  it("answers the local commands' liveness probe with 204 and leaves it out of the log", async () => {
    const status = await new Promise<number>((resolve) => {
      request(
        { host: '127.0.0.1', port, path: WEBHOOK_PATH, method: 'GET', headers: { 'user-agent': LIVENESS_PROBE_USER_AGENT } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      ).end();
    });
    expect(status).toBe(204);
    expect(served).toEqual([]);
    expect(printed).toEqual([]);
  });
});

describe('Lambda’s 6,291,456-byte limit on the whole event', () => {
  it('answers 413 to a Content-Length body over the limit, after reading it (fetch sees the 413)', async () => {
    const before = local.crm.received.length;
    const response = await fetch(url(), { method: 'POST', headers: json, body: Buffer.alloc(LAMBDA_MAX_EVENT_BYTES + 1, 0x20) });
    expect(response.status).toBe(413);
    expect(await response.text()).toBe('{"error":"payload too large"}');
    expect(local.crm.received.length).toBe(before);
    expect(served).toEqual([expect.objectContaining({ statusCode: 413, outcome: 'payload_too_large' })]);
    expect(handledEventBytes).toEqual([]);
  });

  it('answers 413 to a chunked body that grows past the limit', async () => {
    const response = await post(
      WEBHOOK_PATH,
      Buffer.alloc(LAMBDA_MAX_EVENT_BYTES + 10, 0x20),
      { ...json, 'transfer-encoding': 'chunked' },
      true,
    );
    expect(response).toEqual({ status: 413, body: '{"error":"payload too large"}' });
  });

  it('answers 413 to a body just under the limit whose event (headers, envelope) is over it', async () => {
    const response = await post(WEBHOOK_PATH, Buffer.alloc(LAMBDA_MAX_EVENT_BYTES - 100, 0x20), json);
    expect(response.status).toBe(413);
    const chunked = await post(
      WEBHOOK_PATH,
      Buffer.alloc(LAMBDA_MAX_EVENT_BYTES - 100, 0x20),
      { ...json, 'transfer-encoding': 'chunked' },
      true,
    );
    expect(chunked.status).toBe(413);
    expect(handledEventBytes).toEqual([]);
  });

  it('counts JSON escaping: quotes in a text body make its event larger than the body', async () => {
    // 4.5 MB of `"` is 9 MB once escaped inside the event's JSON string.
    const response = await post(WEBHOOK_PATH, Buffer.alloc(4_500_000, 0x22), json);
    expect(response.status).toBe(413);
  });

  it('counts base64: a binary body of 5 MB is a 6.7 MB event', async () => {
    const response = await post(WEBHOOK_PATH, Buffer.alloc(5_000_000, 0x01), { 'content-type': 'application/octet-stream' });
    expect(response.status).toBe(413);
    expect(handledEventBytes).toEqual([]);
  });

  it('passes an event just under the limit to the handler (which then judges its content)', async () => {
    const response = await post(WEBHOOK_PATH, Buffer.alloc(LAMBDA_MAX_EVENT_BYTES - 3_000, 0x20), json);
    expect(response.status).toBe(401);
    expect(handledEventBytes).toHaveLength(1);
    expect(handledEventBytes[0]).toBeLessThanOrEqual(LAMBDA_MAX_EVENT_BYTES);
    expect(handledEventBytes[0]).toBeGreaterThan(LAMBDA_MAX_EVENT_BYTES - 3_000);
  });

  it('stays usable after refusing: the next request on a new connection is handled', async () => {
    await post(WEBHOOK_PATH, Buffer.alloc(LAMBDA_MAX_EVENT_BYTES + 1, 0x20), json);
    const body = JSON.stringify(sampleEvent('failure'));
    expect((await post(WEBHOOK_PATH, body, signatureHeaders(SECRET, body))).status).toBe(200);
  });

  it('measures the event exactly as JSON.stringify would', () => {
    const body = JSON.stringify(sampleEvent('transcription'));
    const event = { version: '2.0', headers: { 'content-type': 'application/json' }, body, isBase64Encoded: false } as never;
    expect(eventBytes(event)).toBe(Buffer.byteLength(JSON.stringify(event)));
  });
});

describe('the per-request line (short format)', () => {
  it('prints method, path, status, outcome and latency for handled and refused requests', async () => {
    const body = JSON.stringify(sampleEvent('transcription'));
    await post(WEBHOOK_PATH, body, signatureHeaders(SECRET, body));
    await post(WEBHOOK_PATH, '{}', json);
    await post('/nowhere', '');
    await post(WEBHOOK_PATH, Buffer.alloc(LAMBDA_MAX_EVENT_BYTES + 1, 0x20), json);
    expect(printed).toEqual([
      expect.stringMatching(/^POST \/webhooks\/elevenlabs 200 forwarded \d+ ms$/),
      expect.stringMatching(/^POST \/webhooks\/elevenlabs 401 signature_rejected \d+ ms \(missing signature\)$/),
      expect.stringMatching(/^POST \/nowhere 404 not_found \d+ ms$/),
      expect.stringMatching(/^POST \/webhooks\/elevenlabs 413 payload_too_large \d+ ms$/),
    ]);
  });
});
