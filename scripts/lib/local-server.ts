/**
 * A local HTTP server in front of the real handler: each `POST /webhooks/elevenlabs` becomes
 * an API Gateway HTTP API (payload 2.0) event, the way API Gateway would build it.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import { PayloadTooLargeError, toErrorResponse } from '../../lambda/core/errors';

/** Lambda's synchronous invocation payload limit (SPEC §6). */
export const LAMBDA_MAX_EVENT_BYTES = 6_291_456;
export const WEBHOOK_PATH = '/webhooks/elevenlabs';

export type LocalHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResult>;

export interface LocalServerOptions {
  handler: LocalHandler;
  maxBodyBytes?: number;
}

/** API Gateway passes these as text; anything else arrives base64-encoded. */
const TEXT_CONTENT = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+json)/i;

export function createLocalServer({ handler, maxBodyBytes = LAMBDA_MAX_EVENT_BYTES }: LocalServerOptions): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== WEBHOOK_PATH) return sendJson(res, 404, { error: 'not found' });
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' }, { allow: 'POST' });
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBodyBytes) return tooLarge(req, res);

    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxBodyBytes) {
        refused = true; // chunked bodies announce no length: count as they stream in
        tooLarge(req, res);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      handler(toEvent(req, Buffer.concat(chunks, size)))
        .then((result) => {
          res.writeHead(result.statusCode, result.headers as Record<string, string>);
          res.end(result.body);
        })
        .catch(() => sendJson(res, 502, { error: 'handler failed' }));
    });
    req.on('error', () => res.destroy());
  });
}

function tooLarge(req: IncomingMessage, res: ServerResponse): void {
  const { statusCode, body } = toErrorResponse(new PayloadTooLargeError());
  sendJson(res, statusCode, body, { connection: 'close' });
  // Stop reading: the rest of the body is not worth receiving.
  res.on('finish', () => req.destroy());
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function toEvent(req: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const text = TEXT_CONTENT.test(headers['content-type'] ?? '');
  const now = Date.now();
  const sourceIp = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  return {
    version: '2.0',
    routeKey: `POST ${WEBHOOK_PATH}`,
    rawPath: WEBHOOK_PATH,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: { method: 'POST', path: WEBHOOK_PATH, protocol: `HTTP/${req.httpVersion}`, sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: `POST ${WEBHOOK_PATH}`,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    body: text ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !text,
  };
}
