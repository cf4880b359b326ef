/**
 * API Gateway events ⇄ the pipeline's request and response. Accepts HTTP API payload 2.0
 * and REST API payload 1.0 (contract §9); header names are folded to lower case (RFC 9110 §5.1).
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import type { WebhookRequest } from '../core/handle-webhook';

export type ApiGatewayEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent;

/**
 * Reads whatever Lambda was given. A direct invocation or a test event may lack
 * `requestContext`, `headers` or `body`: it is then answered by the normal rules (no signature
 * → 401), never with a 500 (contract §2 step 1).
 */
export function toWebhookRequest(event: ApiGatewayEvent): WebhookRequest {
  const headers: Record<string, string> = {};
  const given: unknown = event?.headers;
  if (typeof given === 'object' && given !== null) {
    for (const [name, value] of Object.entries(given)) {
      if (typeof value === 'string') headers[name.toLowerCase()] = value;
    }
  }
  const raw = typeof event?.body === 'string' ? event.body : '';
  return {
    // contract §2.1: the bytes as sent. A UTF-8 body stays a string (the HMAC hashes it as UTF-8,
    // the same bytes as Buffer.from(body, 'utf8')) so a 6 MB audio event is not copied again.
    body: event.isBase64Encoded ? Buffer.from(raw, 'base64') : raw,
    headers,
    sourceIp: sourceIpOf(event),
  };
}

/** Payload 2.0 has `requestContext.http.sourceIp`, 1.0 `requestContext.identity.sourceIp`. */
function sourceIpOf(event: ApiGatewayEvent): string | undefined {
  const context = event?.requestContext as { http?: { sourceIp?: unknown }; identity?: { sourceIp?: unknown } } | undefined;
  const ip = context?.http?.sourceIp ?? context?.identity?.sourceIp;
  return typeof ip === 'string' ? ip : undefined;
}

/** API Gateway's request id, else Lambda's, else a new one (local runs). */
export function requestIdOf(event: ApiGatewayEvent, lambdaRequestId: string | undefined): string {
  const id: unknown = event?.requestContext?.requestId;
  return (typeof id === 'string' ? id : undefined) ?? lambdaRequestId ?? randomUUID();
}

export function toApiGatewayResult(
  statusCode: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}
