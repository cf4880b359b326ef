/**
 * CRM_NUMBER_FIELDS and CRM_VOICEMAIL_PHRASES (contract §5, §8): parsed once, with the core's
 * own parsers (shared with the CDK stack), errors that name the variable and never its value.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambda/config/receiver-config';
import { parseNumberFields } from '../../lambda/core/contact-number';
import { ConfigurationError } from '../../lambda/core/errors';
import { parseVoicemailPhrases } from '../../lambda/core/speech-phrases';

const minimal = { CRM_WEBHOOK_URL: 'https://crm.example/calls' };
const crmMapping = (env: Record<string, string>) => loadConfig({ ...minimal, ...env }).pipeline.crmMapping;

describe('CRM_NUMBER_FIELDS', () => {
  it('is unset by default (the contract §5 list applies)', () => {
    expect(crmMapping({}).numberFields).toBeUndefined();
    expect(crmMapping({ CRM_NUMBER_FIELDS: '  ' }).numberFields).toBeUndefined();
  });

  it('reads a comma list in any spelling, trimmed, empty entries dropped', () => {
    expect(crmMapping({ CRM_NUMBER_FIELDS: 'Lead Phone, whatsapp_number,,Teléfono,電話' }).numberFields).toEqual([
      'Lead Phone',
      'whatsapp_number',
      'Teléfono',
      '電話',
    ]);
  });

  it.each<[string, string, string]>([
    ['only commas', ',,', 'must name at least one field'],
    ['a dot path', 'phone,contact.phone', 'must be a comma list of field names'],
    ['markup', '<img src=x onerror=alert(1)>', 'must be a comma list of field names'],
    ['a regular expression', '(a+)+$', 'must be a comma list of field names'],
    ['a control character', 'phone\u0000', 'must be a comma list of field names'],
    ['a lone surrogate', 'phone\uD800', 'must be a comma list of field names'],
    ['separators only', '_, -', 'must be a comma list of field names'],
    ['a 65-character name', 'p'.repeat(65), 'must be a comma list of field names'],
    ['33 names', Array.from({ length: 33 }, (_, i) => `phone${i}`).join(','), 'must name at most 32 fields'],
    ['over 4 KB', 'phone,'.repeat(700), 'must be at most 4096 characters'],
  ])('refuses %s, naming the variable', (_case, value, message) => {
    expect(() => loadConfig({ ...minimal, CRM_NUMBER_FIELDS: value })).toThrow(ConfigurationError);
    expect(() => loadConfig({ ...minimal, CRM_NUMBER_FIELDS: value })).toThrow(`CRM_NUMBER_FIELDS ${message}`);
  });

  it('the parser is the one the stack uses, and it throws without the variable name', () => {
    expect(parseNumberFields(' phone ,mobile')).toEqual(['phone', 'mobile']);
    expect(() => parseNumberFields('a.b')).toThrow(/^must be a comma list/);
  });
});

describe('CRM_VOICEMAIL_PHRASES', () => {
  it('is unset by default (the built-in phrases apply)', () => {
    expect(crmMapping({}).voicemailPhrases).toBeUndefined();
    expect(crmMapping({ CRM_VOICEMAIL_PHRASES: '   ' }).voicemailPhrases).toBeUndefined();
  });

  it('reads phrases in any language, with accents, apostrophes, dots and dashes, as written', () => {
    expect(
      crmMapping({ CRM_VOICEMAIL_PHRASES: " Buzón personal, l’abonné est absent , Dr. Okafor's line,,请留言, self-service line" })
        .voicemailPhrases,
    ).toEqual(['Buzón personal', 'l’abonné est absent', "Dr. Okafor's line", '请留言', 'self-service line']);
  });

  it.each<[string, string, string]>([
    ['only commas', ', ,', 'must name at least one phrase'],
    ['a regular expression', 'leave (a|your)+ message', 'must be a comma list of phrases'],
    ['regex syntax alone', '.*', 'must be a comma list of phrases'],
    ['markup', '<script>alert(1)</script>', 'must be a comma list of phrases'],
    ['a control character', 'leave a message\u0007', 'must be a comma list of phrases'],
    ['a lone surrogate', 'leave \uDC00 message', 'must be a comma list of phrases'],
    ['a single letter (would match nearly every message)', 'a', 'must be a comma list of phrases'],
    ['punctuation only', "'-.", 'must be a comma list of phrases'],
    ['a 101-character phrase', 'x'.repeat(101), 'must be a comma list of phrases'],
    ['65 phrases', Array.from({ length: 65 }, (_, i) => `phrase ${i}`).join(','), 'must name at most 64 phrases'],
    ['over 4 KB', 'leave a note,'.repeat(400), 'must be at most 4096 characters'],
  ])('refuses %s, naming the variable', (_case, value, message) => {
    expect(() => loadConfig({ ...minimal, CRM_VOICEMAIL_PHRASES: value })).toThrow(ConfigurationError);
    expect(() => loadConfig({ ...minimal, CRM_VOICEMAIL_PHRASES: value })).toThrow(`CRM_VOICEMAIL_PHRASES ${message}`);
  });

  it('the parser is the one the stack uses, and it throws without the variable name', () => {
    expect(parseVoicemailPhrases('leave a note, ring back later')).toEqual(['leave a note', 'ring back later']);
    expect(() => parseVoicemailPhrases('x')).toThrow(/^must be a comma list/);
  });
});

describe('errors never echo the value', () => {
  it.each([
    ['CRM_NUMBER_FIELDS', 'phone,wsec_leaky.value'],
    ['CRM_VOICEMAIL_PHRASES', 'wsec_leaky_value(secret)'],
    ['CRM_VOICEMAIL_PHRASES', `wsec_leaky_value ${'x'.repeat(5000)}`],
  ])('%s', (variable, value) => {
    expect(() => loadConfig({ ...minimal, [variable]: value })).toThrow(variable);
    expect(() => loadConfig({ ...minimal, [variable]: value })).not.toThrow(/leaky/);
  });

  it('reports both new variables with the others at once', () => {
    let message = '';
    try {
      loadConfig({ ...minimal, CRM_NUMBER_FIELDS: 'a.b', CRM_VOICEMAIL_PHRASES: 'x', CRM_TIMEOUT_MS: 'y' });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const name of ['CRM_TIMEOUT_MS', 'CRM_NUMBER_FIELDS', 'CRM_VOICEMAIL_PHRASES']) expect(message).toContain(name);
  });
});
