/**
 * Signed sample events for the benchmarks, built from the seed fixtures the tests use
 * (support/fixtures/samples.ts) and signed the way ElevenLabs signs (support/fixtures/signing.ts).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { apiGatewayEvent } from '../../support/api-gateway-event';
import { type SampleOptions, sampleEvent } from '../../support/fixtures/samples';
import { signatureHeaders } from '../../support/fixtures/signing';

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

/** The HTTP API event for a signed body, from the one event builder the local server uses. */
export function gatewayEvent({ body, headers }: SignedBody, requestId: string): APIGatewayProxyEventV2 {
  return apiGatewayEvent(body, headers, { requestId });
}
