/**
 * API Gateway events ⇄ the pipeline's request and response. Accepts HTTP API payload 2.0
 * and REST API payload 1.0 (SPEC §9); header names are folded to lower case (RFC 9110 §5.1).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { WebhookRequest } from '../core/handle-webhook';

export type ApiGatewayEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent;

export function toWebhookRequest(event: ApiGatewayEvent): WebhookRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined && value !== null) headers[name.toLowerCase()] = value;
  }
  const raw = event.body ?? '';
  return {
    // SPEC §2.1: the bytes as sent. A UTF-8 body stays a string (the HMAC hashes it as UTF-8,
    // the same bytes as Buffer.from(body, 'utf8')) so a 6 MB audio event is not copied again.
    body: event.isBase64Encoded ? Buffer.from(raw, 'base64') : raw,
    headers,
    sourceIp: sourceIpOf(event),
  };
}

function sourceIpOf(event: ApiGatewayEvent): string | undefined {
  if ('http' in event.requestContext) return event.requestContext.http.sourceIp;
  return (event as APIGatewayProxyEvent).requestContext?.identity?.sourceIp ?? undefined;
}

/** API Gateway's request id, else Lambda's, else a new one (local runs). */
export function requestIdOf(event: ApiGatewayEvent, lambdaRequestId: string | undefined): string {
  return event.requestContext?.requestId ?? lambdaRequestId ?? randomUUID();
}

export function toApiGatewayResult(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}
