/**
 * A local HTTP server in front of the real handler: each `POST /webhooks/elevenlabs` becomes
 * an API Gateway HTTP API (payload 2.0) event, the way API Gateway would build it
 * (support/api-gateway-event.ts). Lambda's size limit applies to that whole event (contract §6).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import { PayloadTooLargeError, toErrorResponse } from '../../lambda/core/errors';
import { eventBytes, eventSkeleton, LAMBDA_MAX_EVENT_BYTES, WEBHOOK_PATH, withBody } from '../../support/api-gateway-event';

export { LAMBDA_MAX_EVENT_BYTES, WEBHOOK_PATH };

export type LocalHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResult>;

/** One answered request, for the per-request log line. */
export interface ServedRequest {
  method: string;
  /** The path without its query string. */
  path: string;
  statusCode: number;
  /** From the first byte of the request to the answer. */
  latencyMs: number;
  /** The API Gateway request id, when the handler ran: its log line carries the same id. */
  requestId?: string;
  /** For answers the local server gives itself (404, 405, 413, 502); the handler's log line has the others. */
  outcome?: string;
  /** The response body (JSON). */
  body: string;
}

export interface LocalServerOptions {
  handler: LocalHandler;
  /** The whole event's limit in bytes (envelope included); Lambda's by default. */
  maxEventBytes?: number;
  onServed?: (request: ServedRequest) => void;
}

/** The user agent of `npm run reset`'s and a second `npm start`'s "is it running?" probe. */
export const LIVENESS_PROBE_USER_AGENT = 'elevenlabs-local-liveness-check';

export function createLocalServer({ handler, maxEventBytes = LAMBDA_MAX_EVENT_BYTES, onServed }: LocalServerOptions): Server {
  return createServer((req, res) => {
    if (req.headers['user-agent'] === LIVENESS_PROBE_USER_AGENT) {
      // Answered, not logged: another local command asking whether this server is up.
      req.resume();
      res.writeHead(204).end();
      return;
    }
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const answer = (statusCode: number, body: string, extra: Partial<ServedRequest> = {}, headers: Record<string, string> = {}) => {
      if (res.headersSent) return;
      res.writeHead(statusCode, { 'content-type': 'application/json', ...headers });
      res.end(body);
      onServed?.({ method: req.method ?? '', path, statusCode, latencyMs: performance.now() - started, body, ...extra });
    };

    if (path !== WEBHOOK_PATH) {
      req.resume(); // read what was sent so keep-alive clients see the answer, not a reset
      return answer(404, '{"error":"not found"}', { outcome: 'not_found' });
    }
    if (req.method !== 'POST') {
      req.resume();
      return answer(405, '{"error":"method not allowed"}', { outcome: 'method_not_allowed' }, { allow: 'POST' });
    }

    const skeleton = eventSkeleton({
      headers: headersOf(req),
      httpVersion: req.httpVersion,
      sourceIp: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
      nowMs: Date.now(),
    });
    // The encoded body is never smaller than the bytes received (base64 grows them by a third,
    // JSON escaping only adds), so past this many bytes the event is over the limit for sure.
    const maxBodyBytes = maxEventBytes - eventBytes(skeleton);
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (over) return; // keep reading to the end so the client sees the 413, not a reset
      if (size > maxBodyBytes) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const tooLarge = () => {
        const { statusCode, body } = toErrorResponse(new PayloadTooLargeError());
        answer(statusCode, JSON.stringify(body), { outcome: 'payload_too_large' });
      };
      if (over) return tooLarge();
      const event = withBody(skeleton, Buffer.concat(chunks, size));
      chunks.length = 0;
      if (eventBytes(event) > maxEventBytes) return tooLarge();
      const requestId = event.requestContext.requestId;
      handler(event)
        .then((result) => answer(result.statusCode, result.body, { requestId }, result.headers as Record<string, string>))
        .catch(() => answer(502, '{"error":"handler failed"}', { outcome: 'handler_failed' }));
    });
    req.on('error', () => res.destroy());
  });
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}
