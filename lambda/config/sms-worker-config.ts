/**
 * The SMS worker's configuration (contract §8, §13). The worker exists only when texting is on,
 * so its identity, template and idempotency table are required; a template that names no way to
 * opt out is refused here, at start, naming SMS_TEMPLATE.
 */
import * as z from 'zod/mini';
import { DEFAULT_QUIET_HOURS, DEFAULT_SMS_TIME_ZONE, parseQuietWindow, parseTimeZone } from '../core/text-back/quiet-hours';
import type { TextBackSettings } from '../core/text-back/send-text-back';
import { parseSmsTemplate } from '../core/text-back/template';
import { type Env, integer, optionalParsed, optionalText, parsedWith, parseEnv, queueUrl, refuseFolderQueuesOnLambda } from './env-fields';
import { parseOriginationIdentity, TextBackTriggerEnvShape } from './text-back-fields';

/** contract §13: one text per number per day unless told otherwise; at most a month. */
const DEFAULT_SMS_MIN_HOURS_BETWEEN = 24;
export const MAX_SMS_MIN_HOURS_BETWEEN = 720;
/** SendTextMessage's ConfigurationSetName: a name or an ARN. */
const CONFIGURATION_SET = /^[A-Za-z0-9_:/-]{1,256}$/;

export interface SmsWorkerConfig {
  settings: TextBackSettings;
  originationIdentity: string;
  configurationSet?: string;
  idempotencyTable: string;
  /** The queue the worker drains: quiet-hours waits and backoff change visibilities there. */
  smsQueueUrl?: string;
  /** Where refused and unreadable texts go at once (the SMS queue's DLQ). */
  deadLetterQueueUrl?: string;
}

/** SMS_CONFIGURATION_SET, checked; throws with a message completing "SMS_CONFIGURATION_SET …". */
export function parseConfigurationSet(value: string): string {
  if (!CONFIGURATION_SET.test(value)) throw new Error('must be an End User Messaging SMS configuration set name or ARN');
  return value;
}

/** Required, unlike in the receiver's schema: the worker runs only when texting is on. */
const required = (why: string) => z.pipe(optionalText, z.string({ error: `is required ${why}` }));

/** Unset or blank is `fallback`; either way the value is read by `parse`. */
const withDefault = <T>(fallback: string, parse: (value: string) => T) =>
  z.pipe(
    z.pipe(
      optionalText,
      z.transform((v: string | undefined) => v ?? fallback),
    ),
    parsedWith(parse),
  );

const SmsWorkerEnvSchema = z.object({
  ...TextBackTriggerEnvShape,
  SMS_ORIGINATION_IDENTITY: z.pipe(
    required('(the phone number, sender id or pool texts are sent from)'),
    parsedWith(parseOriginationIdentity),
  ),
  SMS_TEMPLATE: z.pipe(
    required('when texting is on (the text, naming your business and saying "Reply STOP to opt out")'),
    parsedWith(parseSmsTemplate),
  ),
  SMS_DEAD_LETTER_QUEUE_URL: queueUrl,
  SMS_MIN_HOURS_BETWEEN: integer(DEFAULT_SMS_MIN_HOURS_BETWEEN, 1, MAX_SMS_MIN_HOURS_BETWEEN),
  SMS_QUIET_HOURS: withDefault(DEFAULT_QUIET_HOURS, parseQuietWindow),
  SMS_TIMEZONE: withDefault(DEFAULT_SMS_TIME_ZONE, parseTimeZone),
  SMS_CONFIGURATION_SET: optionalParsed(parseConfigurationSet),
  IDEMPOTENCY_TABLE: required('when texting is on (one text per number per SMS_MIN_HOURS_BETWEEN)'),
  AWS_LAMBDA_FUNCTION_NAME: optionalText,
});

const SmsWorkerSchema = z.pipe(
  SmsWorkerEnvSchema.check(
    z.superRefine((env, ctx) => {
      // Without it a quiet-hours wait or a backoff cannot lengthen the visibility: the message comes back every few minutes.
      if (env.AWS_LAMBDA_FUNCTION_NAME && !env.SMS_QUEUE_URL) {
        ctx.addIssue({ code: 'custom', path: ['SMS_QUEUE_URL'], message: 'is required on Lambda (the queue this worker drains)' });
      }
    }),
    refuseFolderQueuesOnLambda(['SMS_QUEUE_URL', 'SMS_DEAD_LETTER_QUEUE_URL']),
  ),
  z.transform(
    (e): SmsWorkerConfig => ({
      settings: {
        template: e.SMS_TEMPLATE,
        onStatuses: e.SMS_ON_STATUSES,
        minHoursBetween: e.SMS_MIN_HOURS_BETWEEN,
        quietHours: { ...e.SMS_QUIET_HOURS, timeZone: e.SMS_TIMEZONE },
      },
      originationIdentity: e.SMS_ORIGINATION_IDENTITY,
      ...(e.SMS_CONFIGURATION_SET ? { configurationSet: e.SMS_CONFIGURATION_SET } : {}),
      idempotencyTable: e.IDEMPOTENCY_TABLE,
      smsQueueUrl: e.SMS_QUEUE_URL,
      deadLetterQueueUrl: e.SMS_DEAD_LETTER_QUEUE_URL,
    }),
  ),
);

/** Parses the SMS worker's environment (contract §8, §13). */
export function loadSmsWorkerConfig(env: Env): SmsWorkerConfig {
  return parseEnv(SmsWorkerSchema, env);
}
