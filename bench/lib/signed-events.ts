/**
 * Signed sample events for the benchmarks, built from the seed fixtures the tests use
 * (test/fixtures/samples.ts) and signed the way ElevenLabs signs (test/fixtures/signing.ts).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type SampleOptions, sampleEvent } from '../../test/fixtures/samples';
import { signatureHeaders } from '../../test/fixtures/signing';

export interface SignedBody {
  body: string;
  headers: Record<string, string>;
}

/** `count` transcription events with distinct conversation ids, each with its own signature. */
export function signedTranscriptions(secret: string, count: number, nowMs = Date.now()): SignedBody[] {
  return Array.from({ length: count }, () => signedBody(secret, 'transcription', { nowMs }));
}

export function signedBody(secret: string, kind: 'transcription' | 'audio', options: SampleOptions = {}): SignedBody {
  const body = JSON.stringify(sampleEvent(kind, options));
  return { body, headers: signatureHeaders(secret, body, options.nowMs ?? Date.now()) };
}

/**
 * The HTTP API (payload 2.0) event API Gateway would hand the Lambda for this request, as
 * scripts/lib/local-server.ts builds it: JSON arrives as text, not base64.
 */
export function apiGatewayEvent({ body, headers }: SignedBody, requestId: string): APIGatewayProxyEventV2 {
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: 'POST /webhooks/elevenlabs',
    rawPath: '/webhooks/elevenlabs',
    rawQueryString: '',
    headers: { ...headers, host: '127.0.0.1', 'content-length': String(Buffer.byteLength(body)) },
    requestContext: {
      accountId: 'bench',
      apiId: 'bench',
      domainName: '127.0.0.1',
      domainPrefix: 'bench',
      http: { method: 'POST', path: '/webhooks/elevenlabs', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId,
      routeKey: 'POST /webhooks/elevenlabs',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    body,
    isBase64Encoded: false,
  };
}
