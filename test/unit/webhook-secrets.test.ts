import { describe, expect, it } from 'vitest';
import { parseWebhookSecret } from '../../lambda/core/webhook-secrets';

describe('parseWebhookSecret (contract §8, WEBHOOK_SECRET_ARN)', () => {
  it.each([
    ['a plain secret', 'wsec_abc', { hmacSecrets: ['wsec_abc'] }],
    ['a plain secret with a trailing newline', 'wsec_abc\n', { hmacSecrets: ['wsec_abc'] }],
    ['JSON with the current secret', '{"hmacSecret":"new"}', { hmacSecrets: ['new'] }],
    [
      'JSON with previous secrets',
      '{"hmacSecret":"new","previousHmacSecrets":["old","older",""]}',
      { hmacSecrets: ['new', 'old', 'older'] },
    ],
    ['JSON repeating the current secret as previous', '{"hmacSecret":"new","previousHmacSecrets":["new"]}', { hmacSecrets: ['new'] }],
    ['JSON with a bearer token', '{"hmacSecret":"new","bearerToken":"tok"}', { hmacSecrets: ['new'], bearerToken: 'tok' }],
    ['JSON with an empty bearer token', '{"hmacSecret":"new","bearerToken":""}', { hmacSecrets: ['new'] }],
  ])('reads %s', (_name, value, expected) => {
    expect(parseWebhookSecret(value)).toEqual(expected);
  });

  it.each([
    ['an empty string', '', 'secret is empty'],
    ['whitespace', '  \n', 'secret is empty'],
    ['the stack placeholder', '{"hmacSecret":""}', 'not configured'],
    ['broken JSON', '{"hmacSecret":', 'does not parse'],
    ['JSON without hmacSecret', '{"secret":"x"}', 'hmacSecret'],
    ['JSON with a non-string previous secret', '{"hmacSecret":"x","previousHmacSecrets":[1]}', 'previousHmacSecrets'],
  ])('refuses %s', (_name, value, message) => {
    expect(() => parseWebhookSecret(value)).toThrow(message);
  });

  it('never puts the secret value in its errors', () => {
    expect(() => parseWebhookSecret('{"hmacSecret": 12345678}')).toThrow(/hmacSecret/);
    expect(() => parseWebhookSecret('{"hmacSecret": 12345678}')).not.toThrow(/12345678/);
  });
});
