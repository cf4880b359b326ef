/**
 * `npm start`'s per-request line, from the real receiver's JSON line: short and free of
 * personal data (contract §7), or the JSON line itself with LOG_FORMAT=json.
 */
import { describe, expect, it } from 'vitest';
import { createReceiver } from '../../lambda/create-receiver';
import type { ServedRequest } from '../../scripts/lib/local-server';
import { createRequestLog, formatOtherLine, formatRequestLine } from '../../scripts/lib/request-log';
import { eventSkeleton, withBody } from '../../support/api-gateway-event';
import { sampleEvent } from '../../support/fixtures/samples';
import { signatureHeaders } from '../../support/fixtures/signing';

const SECRET = 'wsec_request_log_secret';

/** The receiver with a CRM that accepts everything, as the local server would call it. */
async function handle(format: 'short' | 'json', body: string, headers: Record<string, string>) {
  const printed: string[] = [];
  const log = createRequestLog(format, (line) => printed.push(line));
  const handler = createReceiver(
    { ELEVENLABS_WEBHOOK_SECRET: SECRET, CRM_WEBHOOK_URL: 'http://127.0.0.1:9/crm' },
    { write: log.write, deps: { crm: { forward: async () => ({ ok: true, attempts: 1 }) } } },
  );
  const event = withBody(eventSkeleton({ headers, httpVersion: '1.1', sourceIp: '127.0.0.1', nowMs: Date.now() }), Buffer.from(body));
  const result = await handler(event);
  const outcome = log.served({
    method: 'POST',
    path: '/webhooks/elevenlabs',
    statusCode: result.statusCode,
    latencyMs: 12.4,
    requestId: event.requestContext.requestId,
    body: result.body,
  });
  return { printed, outcome };
}

describe('the short line', () => {
  it('is method, path, status, outcome and ms, from the receiver’s own JSON line', async () => {
    const body = JSON.stringify(sampleEvent('transcription'));
    const headers = signatureHeaders(SECRET, body);
    const { printed, outcome } = await handle('short', body, headers);
    expect(outcome).toBe('forwarded');
    expect(printed).toEqual(['POST /webhooks/elevenlabs 200 forwarded 12 ms']);
    // Nothing personal or secret: not the secret, the signature, the name, the summary or the number.
    for (const secretOrPersonal of [SECRET, headers['elevenlabs-signature']!, 'angelo', 'Angelo', 'fun fact', '61413052898', '052898']) {
      expect(printed.join('\n')).not.toContain(secretOrPersonal);
    }
  });

  it('adds the public reason for refusals and skips', async () => {
    expect((await handle('short', '{}', { 'content-type': 'application/json' })).printed).toEqual([
      'POST /webhooks/elevenlabs 401 signature_rejected 12 ms (missing signature)',
    ]);
    const ping = JSON.stringify({ type: 'ping', data: { conversation_id: 'c1' } });
    expect((await handle('short', ping, signatureHeaders(SECRET, ping))).printed).toEqual([
      'POST /webhooks/elevenlabs 200 skipped 12 ms (unsupported event type: ping)',
    ]);
  });

  it('covers requests the local server answers itself, without repeating the outcome', () => {
    const served = (statusCode: number, outcome: string, body: string, path = '/webhooks/elevenlabs'): ServedRequest => ({
      method: 'POST',
      path,
      statusCode,
      latencyMs: 3,
      outcome,
      body,
    });
    expect(formatRequestLine(served(413, 'payload_too_large', '{"error":"payload too large"}'))).toBe(
      'POST /webhooks/elevenlabs 413 payload_too_large 3 ms',
    );
    expect(formatRequestLine(served(404, 'not_found', '{"error":"not found"}', '/x\u001b[31m'))).toBe('POST /x?[31m 404 not_found 3 ms');
    expect(formatRequestLine({ ...served(200, '', ''), outcome: undefined }, { outcome: 'queued' })).toBe(
      'POST /webhooks/elevenlabs 200 queued 3 ms (CRM failed; waiting in the retry queue)',
    );
  });

  it('says why a local CRM forward failed, as the handler logged it', () => {
    const served = (statusCode: number, body: string): ServedRequest => ({
      method: 'POST',
      path: '/webhooks/elevenlabs',
      statusCode,
      latencyMs: 3,
      body,
    });
    expect(formatRequestLine(served(200, ''), { outcome: 'queued', error: 'CRM: TypeError: connect ECONNREFUSED 127.0.0.1:9' })).toBe(
      'POST /webhooks/elevenlabs 200 queued 3 ms (CRM failed: TypeError: connect ECONNREFUSED 127.0.0.1:9; waiting in the retry queue)',
    );
    expect(
      formatRequestLine(served(500, '{"error":"event could not be forwarded or queued"}'), {
        outcome: 'forward_not_durable',
        error: 'CRM failed (HTTP 503); retry queue refused: EACCES\u001b[2J',
      }),
    ).toBe('POST /webhooks/elevenlabs 500 forward_not_durable 3 ms (CRM failed (HTTP 503); retry queue refused: EACCES?[2J)');
  });

  it('shortens other receiver lines to level and message', () => {
    expect(formatOtherLine({ level: 'error', message: 'invalid configuration', error: 'CRM_WEBHOOK_URL is required' })).toBe(
      'error invalid configuration: CRM_WEBHOOK_URL is required',
    );
  });
});

describe('LOG_FORMAT=json', () => {
  it('prints the JSON line Lambda writes, unchanged, and a JSON line for local answers', async () => {
    const body = JSON.stringify(sampleEvent('failure'));
    const { printed } = await handle('json', body, signatureHeaders(SECRET, body));
    expect(printed).toHaveLength(1);
    expect(JSON.parse(printed[0]!)).toMatchObject({
      message: 'webhook request',
      outcome: 'forwarded',
      statusCode: 200,
      _aws: expect.any(Object),
    });

    const lines: string[] = [];
    createRequestLog('json', (line) => lines.push(line)).served({
      method: 'GET',
      path: '/webhooks/elevenlabs',
      statusCode: 405,
      latencyMs: 1,
      outcome: 'method_not_allowed',
      body: '',
    });
    expect(JSON.parse(lines[0]!)).toMatchObject({
      message: 'local server request',
      method: 'GET',
      statusCode: 405,
      outcome: 'method_not_allowed',
    });
  });
});
