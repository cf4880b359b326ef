/**
 * The one builder of API Gateway events, as Lambda receives them from the HTTP API (payload
 * 2.0; REST payload 1.0 for the adapter's other shape): the local server builds its events
 * with it, and so do the tests and the benchmark. Also the event's size as Lambda would count
 * it. Lambda's 6,291,456-byte limit is on the invocation payload,
 * the whole JSON event (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html),
 * so headers and the encoded body count, not only the bytes the caller sent.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { WEBHOOK_PATH } from '../infra/webhook-path';

export { WEBHOOK_PATH };

/** Lambda's synchronous invocation payload limit (contract §6). */
export const LAMBDA_MAX_EVENT_BYTES = 6_291_456;

/**
 * API Gateway passes these content types as text; anything else arrives base64-encoded
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
 */
const TEXT_CONTENT = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+json)/i;

export interface RequestMeta {
  headers: Record<string, string>;
  httpVersion: string;
  sourceIp: string;
  nowMs: number;
  requestId?: string;
}

/** True when API Gateway would pass this body as text rather than base64. */
export function isTextContent(headers: Record<string, string>): boolean {
  return TEXT_CONTENT.test(headers['content-type'] ?? '');
}

/** The event with an empty body: what is known when the request's headers arrive. */
export function eventSkeleton(meta: RequestMeta): APIGatewayProxyEventV2 {
  const { headers } = meta;
  const text = isTextContent(headers);
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
      http: {
        method: 'POST',
        path: WEBHOOK_PATH,
        protocol: `HTTP/${meta.httpVersion}`,
        sourceIp: meta.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: meta.requestId ?? randomUUID(),
      routeKey: `POST ${WEBHOOK_PATH}`,
      stage: '$default',
      time: new Date(meta.nowMs).toUTCString(),
      timeEpoch: meta.nowMs,
    },
    body: '',
    isBase64Encoded: !text,
  };
}

/** The skeleton with the body in, encoded as API Gateway would encode it. */
export function withBody(skeleton: APIGatewayProxyEventV2, body: Buffer): APIGatewayProxyEventV2 {
  return { ...skeleton, body: skeleton.isBase64Encoded ? body.toString('base64') : body.toString('utf8') };
}

/** `Buffer.byteLength(JSON.stringify(event))`, without building that second copy of the body. */
export function eventBytes(event: APIGatewayProxyEventV2): number {
  return Buffer.byteLength(JSON.stringify({ ...event, body: '' }), 'utf8') + jsonStringBytes(event.body ?? '');
}

/**
 * UTF-8 bytes of `JSON.stringify(text)` minus its two quotes: `"` and `\` and the control
 * characters are escaped (ECMA-262 QuoteJSONString), as are lone surrogates.
 */
export function jsonStringBytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20) bytes += code === 8 || code === 9 || code === 10 || code === 12 || code === 13 ? 2 : 6;
    else if (code === 0x22 || code === 0x5c) bytes += 2;
    else if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4; // a surrogate pair: one 4-byte UTF-8 sequence
        i++;
      } else bytes += 6; // lone high surrogate: \udXXX
    } else if (code >= 0xdc00 && code <= 0xdfff)
      bytes += 6; // lone low surrogate
    else bytes += 3;
  }
  return bytes;
}

/**
 * The event for one POST of `body` with `headers` (any case; API Gateway lower-cases them),
 * JSON by default: what a handler test or the benchmark hands the receiver.
 */
export function apiGatewayEvent(
  body: string,
  headers: Record<string, string>,
  { sourceIp = '127.0.0.1', requestId, nowMs = Date.now() }: { sourceIp?: string; requestId?: string; nowMs?: number } = {},
): APIGatewayProxyEventV2 {
  const lower = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  const meta = { headers: { 'content-type': 'application/json', ...lower }, httpVersion: '1.1', sourceIp, nowMs, requestId };
  return withBody(eventSkeleton(meta), Buffer.from(body, 'utf8'));
}

/** A REST API (payload 1.0) event: header names as the caller sent them, maybe a base64 body. */
export function restApiEvent(
  body: string,
  headers: Record<string, string>,
  options: { base64?: boolean; sourceIp?: string } = {},
): APIGatewayProxyEvent {
  return {
    resource: WEBHOOK_PATH,
    path: WEBHOOK_PATH,
    httpMethod: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      requestId: 'rest-req',
      identity: { sourceIp: options.sourceIp ?? '127.0.0.1' },
    } as APIGatewayProxyEvent['requestContext'],
    body: options.base64 ? Buffer.from(body, 'utf8').toString('base64') : body,
    isBase64Encoded: options.base64 ?? false,
  };
}
