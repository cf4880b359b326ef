import { describe, expect, it } from 'vitest';
import { toApiGatewayResult, toWebhookRequest } from '../../lambda/adapters/api-gateway';
import { apiGatewayEvent, restApiEvent } from '../../support/api-gateway-event';

describe('toWebhookRequest', () => {
  it('reads an HTTP API (2.0) event: body as sent, lower-case headers, source IP', () => {
    const request = toWebhookRequest(apiGatewayEvent('{"a":"é"}', { 'ElevenLabs-Signature': 't=1,v0=x' }, { sourceIp: '34.59.11.47' }));
    expect(request).toEqual({
      body: '{"a":"é"}',
      headers: { 'content-type': 'application/json', 'elevenlabs-signature': 't=1,v0=x' },
      sourceIp: '34.59.11.47',
    });
  });

  it('reads a REST API (1.0) event with mixed-case headers', () => {
    const request = toWebhookRequest(
      restApiEvent('{}', { 'ElevenLabs-SIGNATURE': 't=1,v0=x', Authorization: 'Bearer t' }, { sourceIp: '35.204.38.71' }),
    );
    expect(request.headers['elevenlabs-signature']).toBe('t=1,v0=x');
    expect(request.headers.authorization).toBe('Bearer t');
    expect(request.sourceIp).toBe('35.204.38.71');
  });

  it('decodes a base64 body to the exact bytes (contract §2.1)', () => {
    const request = toWebhookRequest(restApiEvent('{"a":"é ✓"}', {}, { base64: true }));
    expect(Buffer.isBuffer(request.body)).toBe(true);
    expect((request.body as Buffer).toString('utf8')).toBe('{"a":"é ✓"}');
  });

  it('treats a missing body as empty', () => {
    const event = apiGatewayEvent('', {});
    delete (event as { body?: string }).body;
    expect(toWebhookRequest(event).body).toBe('');
  });
});

describe('toApiGatewayResult', () => {
  it('answers JSON, not cacheable', () => {
    expect(toApiGatewayResult(401, { error: 'missing signature' })).toEqual({
      statusCode: 401,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: '{"error":"missing signature"}',
    });
  });
});

describe('events that are not what API Gateway sends', () => {
  it.each([
    ['no requestContext', { headers: { 'X-A': 'b' }, body: 'x' }, { body: 'x', headers: { 'x-a': 'b' }, sourceIp: undefined }],
    ['nothing at all', {}, { body: '', headers: {}, sourceIp: undefined }],
    ['headers that are not strings', { headers: { a: 1, b: null, c: 'ok' } }, { body: '', headers: { c: 'ok' }, sourceIp: undefined }],
    ['a requestContext without http or identity', { requestContext: {} }, { body: '', headers: {}, sourceIp: undefined }],
  ])('reads %s without throwing', (_name, event, expected) => {
    expect(toWebhookRequest(event as never)).toEqual(expected);
  });

  it('adds extra headers such as Retry-After to the result', () => {
    expect(toApiGatewayResult(429, { error: 'duplicate delivery in progress' }, { 'retry-after': '30' }).headers).toMatchObject({
      'retry-after': '30',
    });
  });
});
