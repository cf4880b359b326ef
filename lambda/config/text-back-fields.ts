/**
 * The text-back settings (contract §8, §13) every entry point that touches it reads the same way.
 * Texting is on when SMS_ORIGINATION_IDENTITY is set.
 *
 * The receiver (and the audio worker's call check) need only the trigger's part: spread
 * `TextBackTriggerEnvShape` into the schema, add `z.superRefine(requireSmsQueueWhenTexting)`, and
 * read `textBackTriggerSettings(env)` in the transform (undefined = texting off). The SMS worker
 * reads everything (sms-worker-config.ts).
 */
import * as z from 'zod/mini';
import { SMS_STATUSES, type SmsStatus } from '../core/text-back/sms-message';
import { optionalParsed, optionalText, parsedWith, queueUrl } from './env-fields';

/**
 * What SendTextMessage's OriginationIdentity accepts: a phone number (E.164), a phone number
 * id, a sender id, a pool id, or the ARN of one of them (API reference: pattern
 * `[A-Za-z0-9_:/+-]+`, at most 256 characters). The stack is stricter: it must be able to grant
 * the identity by ARN (infra/text-back.ts).
 */
const ORIGINATION_IDENTITY = /^[A-Za-z0-9_:/+-]{1,256}$/;

/** SMS_ORIGINATION_IDENTITY, checked; throws with a message completing "SMS_ORIGINATION_IDENTITY …". */
export function parseOriginationIdentity(value: string): string {
  if (!ORIGINATION_IDENTITY.test(value)) {
    throw new Error('must be an End User Messaging SMS phone number, sender id or pool (its id or ARN)');
  }
  return value;
}

/**
 * SMS_ON_STATUSES: a comma list of "no answer" and/or "voicemail", any case, with `-` or `_` for
 * the space; default both. "held" and "failed" are refused: a call someone answered, or one that
 * broke on our side, never gets a text (contract §13).
 */
function parseSmsOnStatuses(value: string | undefined): SmsStatus[] {
  if (value === undefined) return [...SMS_STATUSES];
  const entries = value
    .split(',')
    .map((entry) =>
      entry
        .trim()
        .toLowerCase()
        .replace(/[\s_-]+/g, ' '),
    )
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw new Error('must name "no answer" and/or "voicemail"');
  const unknown = entries.filter((entry) => !(SMS_STATUSES as readonly string[]).includes(entry));
  if (unknown.length > 0) throw new Error('may name only "no answer" and "voicemail" (a held or failed call never gets a text)');
  return [...new Set(entries)] as SmsStatus[];
}

export const TextBackTriggerEnvShape = {
  SMS_ORIGINATION_IDENTITY: optionalParsed(parseOriginationIdentity),
  SMS_QUEUE_URL: queueUrl,
  SMS_ON_STATUSES: z.pipe(optionalText, parsedWith(parseSmsOnStatuses)),
};

interface TriggerEnv {
  SMS_ORIGINATION_IDENTITY?: string;
  SMS_QUEUE_URL?: string;
  SMS_ON_STATUSES: SmsStatus[];
}

/** With texting on, the queue the texts wait on must be named. */
export function requireSmsQueueWhenTexting(
  env: Pick<TriggerEnv, 'SMS_ORIGINATION_IDENTITY' | 'SMS_QUEUE_URL'>,
  ctx: z.core.$RefinementCtx,
): void {
  if (env.SMS_ORIGINATION_IDENTITY && !env.SMS_QUEUE_URL) {
    ctx.addIssue({ code: 'custom', path: ['SMS_QUEUE_URL'], message: 'is required when SMS_ORIGINATION_IDENTITY is set (texting on)' });
  }
}

export interface TextBackTriggerSettings {
  /** Where the receiver and the call check queue text-backs. */
  queueUrl: string;
  onStatuses: readonly SmsStatus[];
}

/** The trigger's settings, or undefined when texting is off. */
export function textBackTriggerSettings(env: TriggerEnv): TextBackTriggerSettings | undefined {
  if (!env.SMS_ORIGINATION_IDENTITY || !env.SMS_QUEUE_URL) return undefined;
  return { queueUrl: env.SMS_QUEUE_URL, onStatuses: env.SMS_ON_STATUSES };
}
