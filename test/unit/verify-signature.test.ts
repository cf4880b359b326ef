import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SignatureError } from '../../lambda/core/errors';
import {
  assertTimestampFresh,
  bearerToken,
  checkWebhookHeaders,
  computeSignature,
  formatSignatureHeader,
  parseSignatureHeader,
  signatureMatches,
  signWebhook,
  tokensEqual,
  verifyWebhook,
} from '../../lambda/core/verify-signature';

/**
 * Known answers computed outside this code base, with
 * `printf '%s' "$t.$body" | openssl dgst -sha256 -hmac "$secret"` and Python's hmac module.
 */
const VECTORS = [
  {
    secret: 'wsec_test_secret',
    timestamp: 1739537297,
    body: '{"type":"post_call_transcription","data":{"conversation_id":"abc"}}',
    hex: 'df465cfdef87efbde1a96d3b134acdefc97e79c14fd4cf189be4f241e8f48286',
  },
  { secret: 'another-secret', timestamp: 1700000000, body: '', hex: '5e372a7fc105a6f861179aa6af75bd388bec35e609da1aab99a0566c5ac08c9b' },
  {
    secret: 's3cr3t',
    timestamp: 1759931652,
    body: 'héllo wörld ✓',
    hex: 'daf548e13b22d176d841d30780fe1e7fa3d15a16f34c8bcedfbadae2792c5c8c',
  },
  {
    secret: 'wsec_test_secret',
    timestamp: 1739537297,
    body: readFileSync(new URL('../../support/fixtures/events/transcription.json', import.meta.url)),
    hex: '6729160b4cb7756eaa12808072178549e33bf74f44bd32f686226f22272aa50c',
  },
];

describe('computeSignature (known answers)', () => {
  it.each(VECTORS)('HMAC-SHA256 of "$timestamp." + body under "$secret"', ({ secret, timestamp, body, hex }) => {
    expect(computeSignature(secret, timestamp, body)).toBe(hex);
  });

  it.each(VECTORS)('a string body and its UTF-8 bytes sign the same ($timestamp)', ({ secret, timestamp, body, hex }) => {
    const asString = typeof body === 'string' ? body : body.toString('utf8');
    expect(computeSignature(secret, timestamp, Buffer.from(asString, 'utf8'))).toBe(hex);
    expect(computeSignature(secret, timestamp, asString)).toBe(hex);
  });
});

describe('parseSignatureHeader', () => {
  it.each([
    ['t=1,v0=abc', { timestamp: 1, signatures: ['abc'] }],
    ['t=1739537297,v0=AA,v0=bb', { timestamp: 1739537297, signatures: ['aa', 'bb'] }],
    [' t = 5 , v0 = ff ', { timestamp: 5, signatures: ['ff'] }],
    ['v0=ff,t=5', { timestamp: 5, signatures: ['ff'] }],
    ['t=5,v1=future-scheme,v0=ff', { timestamp: 5, signatures: ['ff'] }],
  ])('reads %j', (header, expected) => {
    expect(parseSignatureHeader(header)).toEqual(expected);
  });

  it.each([
    ['no timestamp', 'v0=abc'],
    ['no signature', 't=123'],
    ['non-numeric t', 't=abc,v0=ff'],
    ['negative t', 't=-5,v0=ff'],
    ['fractional t', 't=1.5,v0=ff'],
    ['exponent t', 't=1e9,v0=ff'],
    ['empty t', 't=,v0=ff'],
    ['two timestamps', 't=1,t=2,v0=ff'],
    ['no equals sign', 't=1,v0'],
    ['empty part', 't=1,,v0=ff'],
    ['plain hex', 'deadbeef'],
    ['too many signatures', `t=1,${Array.from({ length: 9 }, () => 'v0=ff').join(',')}`],
    ['too long', `t=1,v0=${'a'.repeat(3000)}`],
  ])('rejects %s as malformed', (_name, header) => {
    expect(() => parseSignatureHeader(header)).toThrowError(new SignatureError('malformed signature header'));
  });
});

describe('assertTimestampFresh', () => {
  const now = 1_800_000_000_000; // ms
  const nowSeconds = now / 1000;
  it.each([
    ['now', nowSeconds, true],
    ['at the past edge', nowSeconds - 1800, true],
    ['at the future edge', nowSeconds + 1800, true],
    ['just too old', nowSeconds - 1801, false],
    ['just too far in the future', nowSeconds + 1801, false],
    ['a day old', nowSeconds - 86_400, false],
    ['zero', 0, false],
  ])('%s', (_name, timestamp, fresh) => {
    const check = () => assertTimestampFresh(timestamp, now, 1800);
    if (fresh) expect(check).not.toThrow();
    else expect(check).toThrowError(new SignatureError('timestamp outside tolerance'));
  });

  it('uses the configured tolerance', () => {
    expect(() => assertTimestampFresh(nowSeconds - 61, now, 60)).toThrow(SignatureError);
    expect(() => assertTimestampFresh(nowSeconds - 60, now, 60)).not.toThrow();
  });
});

describe('signatureMatches', () => {
  const body = '{"type":"post_call_audio"}';
  const t = 1_800_000_000;
  const good = computeSignature('current', t, body);

  it.each([
    ['the only v0 matches', [good], ['current'], true],
    ['a later v0 matches', ['0'.repeat(64), good], ['current'], true],
    ['matched by a previous secret (rotation)', [computeSignature('old', t, body)], ['current', 'old'], true],
    ['no v0 matches', ['0'.repeat(64)], ['current'], false],
    ['wrong secret', [good], ['other'], false],
    ['truncated signature', [good.slice(0, 63)], ['current'], false],
    ['signature with the v0= prefix repeated', [`v0=${good}`], ['current'], false],
    ['no secrets at all', [good], [], false],
  ])('%s', (_name, signatures, secrets, expected) => {
    expect(signatureMatches({ timestamp: t, signatures }, body, secrets)).toBe(expected);
  });

  it('accepts upper-case hex in the header', () => {
    const parsed = parseSignatureHeader(`t=${t},v0=${good.toUpperCase()}`);
    expect(signatureMatches(parsed, body, ['current'])).toBe(true);
  });

  it('binds the timestamp: the same hex under another t does not match', () => {
    expect(signatureMatches({ timestamp: t + 1, signatures: [good] }, body, ['current'])).toBe(false);
  });

  it('binds the body: one changed byte does not match', () => {
    expect(signatureMatches({ timestamp: t, signatures: [good] }, body.replace('audio', 'audiO'), ['current'])).toBe(false);
  });

  it('round-trips with formatSignatureHeader', () => {
    const parsed = parseSignatureHeader(formatSignatureHeader('current', t, body));
    expect(signatureMatches(parsed, body, ['current'])).toBe(true);
  });
});

describe('bearer tokens', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['Bearer   abc  ', 'abc'],
    ['Basic abc', undefined],
    ['Bearer', undefined],
    ['Bearer a b', undefined],
    [undefined, undefined],
  ])('bearerToken(%j) is %j', (header, expected) => {
    expect(bearerToken(header)).toBe(expected);
  });

  it.each([
    ['abc', 'abc', true],
    ['abc', 'abd', false],
    ['abc', 'abcd', false],
    ['', '', false],
  ])('tokensEqual(%j, %j) is %j', (a, b, expected) => {
    expect(tokensEqual(a, b)).toBe(expected);
  });
});

describe('verifyWebhook: the one entry point (pipeline, benchmark, send tool)', () => {
  const NOW_MS = Date.parse('2026-11-22T10:00:00Z');
  const T_NOW = Math.floor(NOW_MS / 1000);
  const options = { toleranceSeconds: 1800 };
  const body = '{"type":"post_call_transcription","data":{"conversation_id":"c"}}';
  const signed = (secret: string, t = T_NOW) => ({ 'elevenlabs-signature': formatSignatureHeader(secret, t, body) });

  it.each([
    ['a signature by the current secret', signed('wsec_current'), { hmacSecrets: ['wsec_current', 'wsec_old'] }, 'hmac'],
    ['a signature by the previous secret (rotation)', signed('wsec_old'), { hmacSecrets: ['wsec_current', 'wsec_old'] }, 'hmac'],
    [
      'the configured bearer token',
      { authorization: 'Bearer tok_123' },
      { hmacSecrets: ['wsec_current'], bearerToken: 'tok_123' },
      'bearer',
    ],
    [
      'a bearer token next to a valid signature',
      { ...signed('wsec_current'), authorization: 'Bearer nope' },
      { hmacSecrets: ['wsec_current'], bearerToken: 'tok_123' },
      'hmac',
    ],
  ])('accepts %s', (_name, headers, secrets, by) => {
    expect(verifyWebhook(body, headers, secrets, NOW_MS, options)).toBe(by);
  });

  it.each([
    ['nothing', {}, 'missing signature'],
    ['a wrong bearer token alone', { authorization: 'Bearer nope' }, 'missing signature'],
    ['a malformed header', { 'elevenlabs-signature': 't=abc,v0=00' }, 'malformed signature header'],
    ['a stale timestamp', signed('wsec_current', T_NOW - 1801), 'timestamp outside tolerance'],
    ['a timestamp from the future', signed('wsec_current', T_NOW + 1801), 'timestamp outside tolerance'],
    ['another secret', signed('wsec_other'), 'signature mismatch'],
  ])('refuses %s: %s', (_name, headers, reason) => {
    expect(() => verifyWebhook(body, headers, { hmacSecrets: ['wsec_current'], bearerToken: 'tok_123' }, NOW_MS, options)).toThrow(reason);
  });

  it('checkWebhookHeaders refuses junk without any secret, and signWebhook signs what verifyWebhook accepts', () => {
    expect(() => checkWebhookHeaders({}, NOW_MS, options)).toThrow('missing signature');
    const headers = signWebhook('wsec_round_trip', body, NOW_MS);
    expect(checkWebhookHeaders(headers, NOW_MS, options).signature?.timestamp).toBe(T_NOW);
    expect(verifyWebhook(body, headers, { hmacSecrets: ['wsec_round_trip'] }, NOW_MS, options)).toBe('hmac');
    expect(() => verifyWebhook(`${body} `, headers, { hmacSecrets: ['wsec_round_trip'] }, NOW_MS, options)).toThrow('signature mismatch');
  });
});
