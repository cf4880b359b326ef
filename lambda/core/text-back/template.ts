/**
 * The text itself (contract §13): `SMS_TEMPLATE` with `{name}` and `{subject}` filled in, at most
 * 480 characters. The template is the operator's words and is kept whole; the values come from
 * the call (a name a caller spoke, a campaign name) and are what gives way:
 *
 * - A value is cleaned first: control and invisible format characters (bidi overrides,
 *   zero-width spaces) are removed, whitespace runs become one space. A value can never add a
 *   line, hide text, or be read as a placeholder (filling is one pass over the template).
 * - `{name}` is empty when the CRM name is "Unknown"; an empty value takes the spaces before it
 *   along, so "Hi {name}, …" reads "Hi, …".
 * - When the filled text would pass 480 characters, the values are cut (never the template, so
 *   the opt-out words always arrive): the longest value is shortened first, until every value
 *   fits an equal share of the room the template leaves, and a cut value ends in "..." (ASCII:
 *   one "…" would switch the whole text from GSM-7 to UCS-2, 70 instead of 160 characters a part).
 *
 * Lengths count UTF-16 code units (`string.length`), never fewer than characters, so a text
 * within the bound is within it however the carrier counts.
 */

/** contract §13: at most this many characters after filling (three 160-character SMS parts' worth). */
export const MAX_SMS_CHARS = 480;

const PLACEHOLDER = /\{(name|subject)\}/g;
const ANY_PLACEHOLDER = /\{[A-Za-z_][A-Za-z0-9_]*\}/g;
/** contract §13: a text must say how to opt out; carriers and End User Messaging honour the STOP keyword. */
const OPT_OUT_WORD = /\bSTOP\b/;
/** Controls other than the line feed (a template may use lines), and invisible format characters. */
const TEMPLATE_FORBIDDEN = /[\p{Cc}\p{Cf}]/u;
const UNKNOWN_NAME = 'Unknown';
const CUT_MARK = '...';

/** A template that passed `parseSmsTemplate`. */
export interface SmsTemplate {
  readonly text: string;
}

export interface TemplateValues {
  name: string;
  subject: string;
}

/**
 * Checks `SMS_TEMPLATE` (contract §8: reported at start, naming the variable; the message never
 * repeats the value). Throws an Error whose message completes "SMS_TEMPLATE …".
 */
export function parseSmsTemplate(value: string): SmsTemplate {
  const text = value.replace(/\r\n?/g, '\n').trim();
  if (text === '') throw new Error('must not be empty');
  if (text.length > MAX_SMS_CHARS) throw new Error(`must be at most ${MAX_SMS_CHARS} characters (the filled text's limit)`);
  if ([...text].some((c) => c !== '\n' && TEMPLATE_FORBIDDEN.test(c))) {
    throw new Error('must not contain control or invisible characters (line breaks are allowed)');
  }
  if (!OPT_OUT_WORD.test(text)) throw new Error('must say how to opt out: it must contain the word STOP (e.g. "Reply STOP to opt out")');
  if ([...text.matchAll(ANY_PLACEHOLDER)].some((m) => m[0] !== '{name}' && m[0] !== '{subject}')) {
    throw new Error('may use only the placeholders {name} and {subject}');
  }
  return { text };
}

/** The text to send: the template with its placeholders filled, at most MAX_SMS_CHARS long. */
export function fillTemplate(template: SmsTemplate, values: TemplateValues): string {
  const cleaned = {
    name: values.name === UNKNOWN_NAME ? '' : cleanValue(values.name),
    subject: cleanValue(values.subject),
  };
  const uses = { name: 0, subject: 0 };
  for (const match of template.text.matchAll(PLACEHOLDER)) uses[match[1] as keyof TemplateValues] += 1;
  const fixedLength = template.text.replace(PLACEHOLDER, '').length;
  const share = valueShare(cleaned, uses, MAX_SMS_CHARS - fixedLength);
  const fitted = { name: cutTo(cleaned.name, share), subject: cutTo(cleaned.subject, share) };
  return template.text.replace(/[ \t]*\{(name|subject)\}/g, (whole, key: keyof TemplateValues) => {
    const value = fitted[key];
    return value === '' ? '' : whole.slice(0, whole.length - key.length - 2) + value;
  });
}

function cleanValue(value: string): string {
  return value
    .replace(/[\p{Cc}\p{Cf}]/gu, (c) => (/\s/.test(c) ? ' ' : ''))
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The largest length L such that every value cut to at most L fits `room` (water-filling: a
 * value shorter than L keeps its length and leaves the rest to the others).
 */
function valueShare(values: TemplateValues, uses: Record<keyof TemplateValues, number>, room: number): number {
  const used = (limit: number) =>
    (Object.keys(values) as (keyof TemplateValues)[]).reduce((sum, key) => sum + uses[key] * Math.min(values[key].length, limit), 0);
  let low = 0;
  let high = Math.max(values.name.length, values.subject.length);
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (used(mid) <= room) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** `value` if it fits `max`; else its start and "..." within `max`, never splitting a surrogate pair. */
function cutTo(value: string, max: number): string {
  if (value.length <= max) return value;
  if (max <= CUT_MARK.length) return '';
  let end = max - CUT_MARK.length;
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return value.slice(0, end).trimEnd() + CUT_MARK;
}
