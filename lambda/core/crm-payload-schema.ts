/**
 * The CRM payload (contract §5, the CRM's own payload format): one schema, shared
 * by the receiver (which builds payloads that fit it), the retry worker (which reads them back
 * from the queue) and any tool that replays a call. One shape means whatever the receiver
 * queues the worker accepts, and every payload is far below SQS's 256 KiB message limit
 * (20,000 + 3 × 200 + 32 characters of text, at most 3 bytes each in UTF-8).
 *
 * Text bounds count UTF-16 code units (`string.length`), which is what zod's `maxLength` counts
 * and never less than the number of characters, so a value within it is within the CRM's
 * bound however "character" is counted.
 */
import * as z from 'zod/mini';
import './zod-messages';

const CRM_STATUSES = ['held', 'no answer', 'voicemail', 'failed'] as const;
export type CrmStatus = (typeof CRM_STATUSES)[number];

/** contract §5 bounds of the text fields. */
export const CRM_TEXT_LIMITS = { subject: 200, name: 200, to: 32, summary: 20_000 } as const;
/** contract §5: a day; longer is not a phone call we can believe, and the CRM gets the cap. */
export const MAX_CALL_DURATION_SECS = 86_400;
/** What a cut text field ends with. */
export const ELLIPSIS = '…';

export const CrmPayloadSchema = z.strictObject({
  type: z.literal('conversationAICall'),
  subject: z.string().check(z.maxLength(CRM_TEXT_LIMITS.subject)),
  to: z.string().check(z.maxLength(CRM_TEXT_LIMITS.to)),
  name: z.string().check(z.maxLength(CRM_TEXT_LIMITS.name)),
  summary: z.string().check(z.maxLength(CRM_TEXT_LIMITS.summary)),
  status: z.enum(CRM_STATUSES),
  duration: z.number().check(z.int(), z.gte(0), z.lte(MAX_CALL_DURATION_SECS)),
});

/** Exactly the CRM's contract: these seven fields, nothing else. */
export type CrmPayload = z.output<typeof CrmPayloadSchema>;

/**
 * `value` if it fits in `max` code units; else its start, cut so that with `…` appended it is
 * exactly within `max`. The cut never splits a surrogate pair (half an emoji is not text), and
 * whitespace before the `…` is dropped.
 */
export function fitText(value: string, max: number): string {
  if (value.length <= max) return value;
  let end = Math.max(0, max - ELLIPSIS.length);
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1; // a high surrogate whose pair would be cut off
  return value.slice(0, end).trimEnd() + ELLIPSIS;
}

/**
 * Whole seconds within 0–86,400: fractions rounded down (a call of 22.9 s did not last 23 s),
 * negative, NaN or unreadable → 0, above the cap → the cap. `!(value > 0)` also turns -0 into
 * 0, which JSON would otherwise silently change on the way through the retry queue.
 */
export function fitDuration(value: unknown): number {
  if (typeof value !== 'number' || !(value > 0)) return 0;
  return Math.min(Math.floor(value), MAX_CALL_DURATION_SECS);
}

/** contract §5 defaults, for a field a payload lacks: what the receiver would have written. */
export const CRM_FIELD_DEFAULTS = {
  subject: 'Conversational AI call',
  to: 'Unknown',
  name: 'Unknown',
  summary: 'No summary available.',
} as const;

export type FittedField = Exclude<keyof CrmPayload, 'type'>;

/**
 * Any JSON object fitted into a payload today's schema accepts, with the receiver's own rules
 * (contract §5): text cut to its bound with `…`, a missing or non-text field given its default,
 * `duration` a whole number 0–86,400 (a numeric string read as a number), `status` one of the
 * four (spelling variants such as `no-answer` read as `no answer`; anything else `failed`, the
 * status that makes a human look), unknown fields dropped. What had to change is listed, so the
 * worker can log it without logging values.
 */
export function fitCrmPayload(raw: Readonly<Record<string, unknown>>): { payload: CrmPayload; fitted: FittedField[] } {
  const fitted: FittedField[] = [];
  const textField = (field: keyof typeof CRM_FIELD_DEFAULTS) => {
    const value = raw[field];
    const fittedValue = typeof value === 'string' ? fitText(value, CRM_TEXT_LIMITS[field]) : CRM_FIELD_DEFAULTS[field];
    if (fittedValue !== value) fitted.push(field);
    return fittedValue;
  };
  const payload: CrmPayload = {
    type: 'conversationAICall',
    subject: textField('subject'),
    to: textField('to'),
    name: textField('name'),
    summary: textField('summary'),
    status: fitStatus(raw.status),
    duration: fitDuration(
      typeof raw.duration === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(raw.duration) ? Number(raw.duration) : raw.duration,
    ),
  };
  if (payload.status !== raw.status) fitted.push('status');
  if (payload.duration !== raw.duration) fitted.push('duration');
  return { payload, fitted };
}

function fitStatus(value: unknown): CrmStatus {
  const spelled =
    typeof value === 'string'
      ? value
          .trim()
          .toLowerCase()
          .replace(/[\s_-]+/g, ' ')
      : '';
  return (CRM_STATUSES as readonly string[]).includes(spelled) ? (spelled as CrmStatus) : 'failed';
}
