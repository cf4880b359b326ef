/** The local server's event size equals what Lambda counts: the JSON event's UTF-8 bytes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventBytes, eventSkeleton, isTextContent, jsonStringBytes, withBody } from '../../support/api-gateway-event';
import { binaryString } from '../helpers/binary-string';

/** Fixed, so a failure reproduces (fast-check prints the seed and path of a counterexample). */
const SEED = 20261204;

const meta = (contentType: string) => ({
  headers: { 'content-type': contentType, host: '127.0.0.1:3000', 'elevenlabs-signature': 't=1,v0=ab' },
  httpVersion: '1.1',
  sourceIp: '127.0.0.1',
  nowMs: Date.UTC(2026, 10, 25),
});

describe('eventBytes', () => {
  it.each([
    ['plain ASCII', 'hello'],
    ['quotes and backslashes', '{"a":"b\\\\c"}'],
    ['control characters', 'a\nb\tc\rd\be\ff\u0001\u001f'],
    ['non-ASCII', 'Zoë — 日本語 😀'],
    ['lone surrogates', 'a\ud800b\udc00c'],
    ['empty', ''],
  ])('matches JSON.stringify for %s', (_, text) => {
    expect(jsonStringBytes(text)).toBe(Buffer.byteLength(JSON.stringify(text)) - 2);
  });

  it('matches JSON.stringify for any text body, and for any bytes as API Gateway encodes them', () => {
    fc.assert(
      fc.property(binaryString(), (text) => {
        const event = withBody(eventSkeleton(meta('application/json')), Buffer.from(text, 'utf8'));
        expect(eventBytes(event)).toBe(Buffer.byteLength(JSON.stringify(event)));
      }),
      { seed: SEED, numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom('application/json', 'audio/mpeg', ''), (bytes, type) => {
        const event = withBody(eventSkeleton(meta(type)), Buffer.from(bytes));
        expect(eventBytes(event)).toBe(Buffer.byteLength(JSON.stringify(event)));
      }),
      { seed: SEED + 1, numRuns: 200 },
    );
  });

  it('encodes text content types as text and everything else as base64, as API Gateway does', () => {
    expect(isTextContent({ 'content-type': 'application/json; charset=utf-8' })).toBe(true);
    expect(isTextContent({ 'content-type': 'application/cloudevents+json' })).toBe(true);
    expect(isTextContent({ 'content-type': 'audio/mpeg' })).toBe(false);
    expect(withBody(eventSkeleton(meta('audio/mpeg')), Buffer.from('abc'))).toMatchObject({ body: 'YWJj', isBase64Encoded: true });
  });
});
