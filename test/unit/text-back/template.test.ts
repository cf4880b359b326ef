/**
 * contract §13 "What": SMS_TEMPLATE filled with {name} and {subject}, at most 480 characters,
 * the opt-out words never cut, and a template with no STOP refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fillTemplate, MAX_SMS_CHARS, parseSmsTemplate } from '../../../lambda/core/text-back/template';

const TEMPLATE = 'Hi {name}, Coastal Dental tried to call you about {subject}. Call us on 02 5550 9876. Reply STOP to opt out.';
const template = parseSmsTemplate(TEMPLATE);
const OPT_OUT = 'Reply STOP to opt out.';

describe('parseSmsTemplate', () => {
  it.each([
    ['no STOP at all', 'Hi {name}, we called about {subject}.', /STOP/],
    ['stop in lower case only', 'Hi {name}, reply stop to opt out.', /STOP/],
    ['STOP inside another word', 'Hi {name}, STOPPING by soon.', /STOP/],
    ['empty', '   ', /empty/],
    ['longer than 480 characters', `${'x'.repeat(480)} STOP`, /480/],
    ['an unknown placeholder', 'Hi {firstName}, reply STOP to opt out.', /placeholders/],
    ['a control character', 'Hi {name}\u0007, reply STOP to opt out.', /control/],
    ['a right-to-left override', 'Hi {name}\u202E, reply STOP to opt out.', /invisible/],
    ['a tab', 'Hi {name},\treply STOP to opt out.', /control/],
  ])('refuses %s', (_label, value, message) => {
    expect(() => parseSmsTemplate(value)).toThrow(message);
  });

  it.each([
    ['STOP at the very end', 'We called about {subject}. STOP'],
    ['line breaks', 'Hi {name},\nwe called about {subject}.\nReply STOP to opt out.'],
    ['Windows line breaks, normalised', 'Hi {name},\r\nReply STOP to opt out.'],
    ['no placeholders', 'Sorry we missed you. Reply STOP to opt out.'],
    ['a placeholder used twice', '{name}, {name}! Reply STOP to opt out.'],
    ['braces that are not placeholders', 'Hi {name} :-{ Reply STOP to opt out.'],
    ['exactly 480 characters', `${'x'.repeat(475)} STOP`],
  ])('accepts %s', (_label, value) => {
    expect(parseSmsTemplate(value).text).not.toMatch(/\r/);
  });

  it('never repeats the value in its error (it may hold anything)', () => {
    const secretish = 'wsec_do_not_echo {name}';
    expect(() => parseSmsTemplate(secretish)).toThrow(expect.objectContaining({ message: expect.not.stringContaining('wsec') }));
  });
});

describe('fillTemplate', () => {
  it('fills {name} and {subject}', () => {
    expect(fillTemplate(template, { name: 'Priya Raman', subject: 'your check-up' })).toBe(
      'Hi Priya Raman, Coastal Dental tried to call you about your check-up. Call us on 02 5550 9876. Reply STOP to opt out.',
    );
  });

  it.each([
    ['Hi {name}, reply STOP to opt out.', 'Hi, reply STOP to opt out.'],
    ['Hello {name} we called. STOP', 'Hello we called. STOP'],
    ['{name}: STOP', ': STOP'],
    ['Hi\n{name}, STOP', 'Hi\n, STOP'],
  ])('"Unknown" leaves {name} empty, with the spaces before it: %j', (text, expected) => {
    expect(fillTemplate(parseSmsTemplate(text), { name: 'Unknown', subject: 's' })).toBe(expected);
  });

  it('fills every use of a placeholder', () => {
    expect(fillTemplate(parseSmsTemplate('{name}/{name}/{subject} STOP'), { name: 'A', subject: 'B' })).toBe('A/A/B STOP');
  });

  it.each([
    ['a line break', 'Priya\nRaman', 'Priya Raman'],
    ['a run of whitespace and tabs', 'Priya \t  Raman ', 'Priya Raman'],
    ['a bell and a NUL', 'Pri\u0007ya\u0000', 'Priya'],
    ['a right-to-left override', '\u202Eayirp', 'ayirp'],
    ['zero-width spaces', 'Pr\u200Biya\uFEFF', 'Priya'],
  ])('cleans %s out of a value', (_label, name, cleaned) => {
    expect(fillTemplate(parseSmsTemplate('{name} STOP'), { name, subject: '' })).toBe(`${cleaned} STOP`);
  });

  it('never reads a value as a placeholder (one pass)', () => {
    expect(fillTemplate(template, { name: '{subject}', subject: '{name}' })).toBe(
      'Hi {subject}, Coastal Dental tried to call you about {name}. Call us on 02 5550 9876. Reply STOP to opt out.',
    );
  });

  it('cuts the longest value first and keeps the template whole', () => {
    const long = parseSmsTemplate(`${'Coastal Dental. '.repeat(24)}Hi {name}, about {subject}. ${OPT_OUT}`);
    const text = fillTemplate(long, { name: 'Priya', subject: 'S'.repeat(200) });
    expect(text.length).toBeLessThanOrEqual(MAX_SMS_CHARS);
    expect(text).toContain('Hi Priya, about SSS');
    expect(text).toContain('...');
    expect(text.endsWith(OPT_OUT)).toBe(true);
  });

  it('with both values long, each gets an equal share', () => {
    const long = parseSmsTemplate(`${'x'.repeat(300)} {name}|{subject} STOP`);
    const text = fillTemplate(long, { name: 'N'.repeat(200), subject: 'S'.repeat(200) });
    expect(text.length).toBeLessThanOrEqual(MAX_SMS_CHARS);
    const [name, subject] = text.slice(301, -5).split('|');
    expect(Math.abs(name!.length - subject!.length)).toBeLessThanOrEqual(1);
    expect(name!.endsWith('...')).toBe(true);
  });

  it('a value always keeps at least the room of its placeholder (a template is at most 480 characters)', () => {
    const tight = parseSmsTemplate(`${'x'.repeat(468)} {name} STOP`);
    expect(tight.text).toHaveLength(MAX_SMS_CHARS);
    expect(fillTemplate(tight, { name: 'Priya Raman', subject: '' })).toBe(`${'x'.repeat(468)} Pri... STOP`);
  });

  it('never cuts an emoji in half', () => {
    const tight = parseSmsTemplate(`${'x'.repeat(466)} {name} STOP`);
    const text = fillTemplate(tight, { name: '😀😀😀😀😀', subject: '' });
    expect(text.length).toBeLessThanOrEqual(MAX_SMS_CHARS);
    expect(text).toMatch(/ 😀+\.\.\. STOP$/u);
    // No lone surrogate: half an emoji is not text.
    expect(text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  });

  it('whatever the values: at most 480 characters, the opt-out intact, no control characters', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200, unit: 'binary' }),
        fc.string({ maxLength: 200, unit: 'binary' }),
        fc.integer({ min: 0, max: 400 }),
        (name, subject, padding) => {
          const t = parseSmsTemplate(`${'p'.repeat(padding)}Hi {name}, {subject}. {name}! ${OPT_OUT}`);
          const text = fillTemplate(t, { name, subject });
          expect(text.length).toBeLessThanOrEqual(MAX_SMS_CHARS);
          expect(text.endsWith(OPT_OUT)).toBe(true);
          expect(text).not.toMatch(/[\p{Cc}\p{Cf}]/u);
        },
      ),
    );
  });
});
