/**
 * The stack's props checked and resolved before anything is built: a bad value fails the
 * synth with the prop's name, never at deploy time or on the first webhook. Props that become
 * the receiver's environment are checked with the receiver's own parsers, so a value that
 * synthesises is one the receiver accepts.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { parseConfigurationSet } from '../lambda/config/sms-worker-config';
import { parseOriginationIdentity } from '../lambda/config/text-back-fields';
import { DEFAULT_ELEVENLABS_API_BASE_URL } from '../lambda/core/audio-check';
import { parseNameFields } from '../lambda/core/contact-name';
import { parseNumberFields } from '../lambda/core/contact-number';
import { DEFAULT_AUDIO_CHECK_DELAY_SECONDS, MAX_AUDIO_CHECK_DELAY_SECONDS } from '../lambda/core/keep-call';
import { parseDefaultCountry } from '../lambda/core/phone-number';
import { DEFAULT_LOOKBACK_HOURS, DEFAULT_SETTLE_MINUTES } from '../lambda/core/reconcile';
import { parseSourceAllowlist } from '../lambda/core/source-ip';
import { parseVoicemailPhrases } from '../lambda/core/speech-phrases';
import { DEFAULT_QUIET_HOURS, DEFAULT_SMS_TIME_ZONE, parseQuietWindow, parseTimeZone } from '../lambda/core/text-back/quiet-hours';
import { parseSmsTemplate } from '../lambda/core/text-back/template';
import { MAX_NO_TRAFFIC_HOURS } from './alarms';
import { ContextError } from './context';
import { parseSmsConfigurationSet, parseSmsIdentity, type TextBackSettings } from './text-back';
import type { WebhookStackProps } from './webhook-stack';

/** contract §1: where CRM payloads go unless told otherwise. */
export const DEFAULT_CRM_WEBHOOK_URL = 'https://qr4h1dage6.execute-api.ap-southeast-2.amazonaws.com/crm/calls/webhook/is';
const DEFAULT_AUDIO_RETENTION_DAYS = 365;
/** contract §9: recordings and the event archive move to Glacier Instant Retrieval after this. */
const DEFAULT_ARCHIVE_AFTER_DAYS = 30;
/** Where alarm descriptions point for their runbook entry, unless `runbookUrl` says otherwise. */
const DEFAULT_RUNBOOK_URL = 'docs/runbook.md';
const DEFAULT_LOG_RETENTION_DAYS = 90;

export interface StackSettings {
  crmWebhookUrl: string;
  elevenLabsApiBaseUrl: string;
  audioCheckDelaySeconds: number;
  audioRetentionDays: number;
  archiveAfterDays: number;
  runbookUrl: string;
  logRetention: RetentionDays;
  /** The receiver's own optional variables (its source allowlist), set only when asked for. */
  receiverOptions: Readonly<Record<string, string>>;
  /** ALLOWED_AGENT_IDS, when asked for: the receiver, the call check and the reconciler all keep to it (contract §2 step 5, §12). */
  agentOptions: Readonly<Record<string, string>>;
  /** The CRM mapping variables (contract §5), for everything that builds a record: the receiver and the audio worker's call check. */
  crmMappingOptions: Readonly<Record<string, string>>;
  /** contract §12: how often the reconciler runs, and its window. */
  reconcile: { everyMinutes: number; lookbackHours: number; settleMinutes: number };
  /** contract §13: undefined = texting off (no SMS queue, no SMS worker). */
  textBack?: TextBackSettings;
}

/** contract §12: the reconciler's schedule (minutes) and window (its config's own bounds, lambda/config/reconciler-config.ts). */
const RECONCILE_BOUNDS = {
  reconcileEveryMinutes: { default: 60, min: 5, max: 1440 },
  reconcileLookbackHours: { default: DEFAULT_LOOKBACK_HOURS, min: 1, max: 720 },
  reconcileSettleMinutes: { default: DEFAULT_SETTLE_MINUTES, min: 5, max: 1440 },
} as const;

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+/;

/**
 * Fails the synth with the prop's name, before anything reaches CloudFormation: a `ContextError`
 * whose message is one line naming the option and what it may be (infra/app.ts prints it alone).
 */
export function settingsOf(props: WebhookStackProps): StackSettings {
  try {
    return resolveSettings(props);
  } catch (error) {
    throw error instanceof ContextError ? error : new ContextError((error as Error).message);
  }
}

function resolveSettings(props: WebhookStackProps): StackSettings {
  const addresses = addressesOf(props);
  const audioRetentionDays = props.audioRetentionDays ?? DEFAULT_AUDIO_RETENTION_DAYS;
  check(
    Number.isInteger(audioRetentionDays) && audioRetentionDays >= 1,
    `audioRetentionDays must be a whole number of days ≥ 1, got ${audioRetentionDays}`,
  );
  const archiveAfterDays = props.archiveAfterDays ?? DEFAULT_ARCHIVE_AFTER_DAYS;
  check(
    Number.isInteger(archiveAfterDays) && archiveAfterDays >= 1 && archiveAfterDays < audioRetentionDays,
    `archiveAfterDays must be a whole number of days ≥ 1 and below audioRetentionDays (${audioRetentionDays}), got ${archiveAfterDays}`,
  );
  const { noTrafficHours, reservedConcurrency } = props;
  check(
    noTrafficHours === undefined || (Number.isInteger(noTrafficHours) && noTrafficHours >= 1 && noTrafficHours <= MAX_NO_TRAFFIC_HOURS),
    `noTrafficHours must be a whole number of hours from 1 to ${MAX_NO_TRAFFIC_HOURS}, got ${noTrafficHours}`,
  );
  const audioCheckDelaySeconds = props.audioCheckDelaySeconds ?? DEFAULT_AUDIO_CHECK_DELAY_SECONDS;
  check(
    Number.isInteger(audioCheckDelaySeconds) && audioCheckDelaySeconds >= 0 && audioCheckDelaySeconds <= MAX_AUDIO_CHECK_DELAY_SECONDS,
    `audioCheckDelaySeconds must be a whole number from 0 to ${MAX_AUDIO_CHECK_DELAY_SECONDS} (SQS DelaySeconds), got ${audioCheckDelaySeconds}`,
  );
  check(
    reservedConcurrency === undefined || (Number.isInteger(reservedConcurrency) && reservedConcurrency >= 1),
    `reservedConcurrency must be a whole number ≥ 1, got ${reservedConcurrency}`,
  );
  return {
    ...addresses,
    audioCheckDelaySeconds,
    audioRetentionDays,
    archiveAfterDays,
    logRetention: logRetentionOf(props.logRetentionDays ?? DEFAULT_LOG_RETENTION_DAYS),
    receiverOptions: receiverOptionsOf(props),
    agentOptions: props.allowedAgentIds?.length ? { ALLOWED_AGENT_IDS: props.allowedAgentIds.join(',') } : {},
    crmMappingOptions: crmMappingOptionsOf(props),
    reconcile: reconcileOf(props),
    ...textBackOf(props),
  };
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

/** URLs, ARNs and the alarm email, checked; the URLs resolved to their defaults. */
function addressesOf(props: WebhookStackProps): Pick<StackSettings, 'crmWebhookUrl' | 'elevenLabsApiBaseUrl' | 'runbookUrl'> {
  const crmWebhookUrl = props.crmWebhookUrl ?? DEFAULT_CRM_WEBHOOK_URL;
  check(
    /^https?:\/\/[^\s/]+/.test(crmWebhookUrl) && URL.canParse(crmWebhookUrl),
    `crmWebhookUrl must be an http(s) URL, got "${crmWebhookUrl}"`,
  );
  for (const name of ['webhookSecretArn', 'elevenLabsApiKeySecretArn'] as const) {
    const arn = props[name];
    check(
      arn === undefined || SECRET_ARN.test(arn),
      `${name} must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)`,
    );
  }
  check(
    props.alarmEmail === undefined || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(props.alarmEmail),
    `alarmEmail must be an email address, got "${props.alarmEmail}"`,
  );
  const elevenLabsApiBaseUrl = (props.elevenLabsApiBaseUrl ?? DEFAULT_ELEVENLABS_API_BASE_URL).replace(/\/+$/, '');
  check(
    /^https:\/\/[^\s/]+$/.test(elevenLabsApiBaseUrl),
    `elevenLabsApiBaseUrl must be an https origin such as https://api.elevenlabs.io, got "${elevenLabsApiBaseUrl}"`,
  );
  const runbookUrl = props.runbookUrl ?? DEFAULT_RUNBOOK_URL;
  check(
    runbookUrl === DEFAULT_RUNBOOK_URL || /^https:\/\/\S+$/.test(runbookUrl),
    `runbookUrl must be an https URL of docs/runbook.md in your repository, got "${runbookUrl}"`,
  );
  return { crmWebhookUrl, elevenLabsApiBaseUrl, runbookUrl };
}

function logRetentionOf(days: number): RetentionDays {
  const allowed = Object.values(RetentionDays).filter((v): v is RetentionDays => typeof v === 'number' && v > 0);
  check(
    allowed.includes(days as RetentionDays),
    `logRetentionDays must be one of CloudWatch Logs' values (${allowed.join(', ')}), got ${days}`,
  );
  return days as RetentionDays;
}

/** contract §12: a whole number within its bounds, else the synth fails naming the prop. */
function reconcileOf(props: WebhookStackProps): StackSettings['reconcile'] {
  const read = (name: keyof typeof RECONCILE_BOUNDS) => {
    const { default: fallback, min, max } = RECONCILE_BOUNDS[name];
    const value = props[name] ?? fallback;
    check(Number.isInteger(value) && value >= min && value <= max, `${name} must be a whole number from ${min} to ${max}, got ${value}`);
    return value;
  };
  const reconcile = {
    everyMinutes: read('reconcileEveryMinutes'),
    lookbackHours: read('reconcileLookbackHours'),
    settleMinutes: read('reconcileSettleMinutes'),
  };
  // Each run's window must cover at least the time since the last run, or calls between two windows are never checked.
  const windowMinutes = reconcile.lookbackHours * 60 - reconcile.settleMinutes;
  check(
    windowMinutes >= reconcile.everyMinutes,
    `the reconciler's window (reconcileLookbackHours ${reconcile.lookbackHours} h minus reconcileSettleMinutes ${reconcile.settleMinutes} min = ${windowMinutes} min) must be at least reconcileEveryMinutes (${reconcile.everyMinutes}), or calls between runs are never checked`,
  );
  return reconcile;
}

/** ALLOWED_SOURCE_IPS (contract §8): the receiver's own. */
function receiverOptionsOf(props: WebhookStackProps): Record<string, string> {
  const options: Record<string, string> = {};
  if (props.allowedSourceIps !== undefined) {
    const entries = typeof props.allowedSourceIps === 'string' ? props.allowedSourceIps.split(',') : [...props.allowedSourceIps];
    const value = entries
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '')
      .join(',');
    checkedProp('allowedSourceIps:', () => parseSourceAllowlist(value));
    options.ALLOWED_SOURCE_IPS = value;
  }
  return options;
}

/** The CRM mapping variables (contract §5, §8), checked with the parsers the Lambdas use. */
function crmMappingOptionsOf(props: WebhookStackProps): Record<string, string> {
  const options: Record<string, string> = {};
  if (props.crmDefaultSubject) options.CRM_DEFAULT_SUBJECT = props.crmDefaultSubject;
  if (props.crmSubjectsByAgent && Object.keys(props.crmSubjectsByAgent).length > 0) {
    options.CRM_SUBJECTS_BY_AGENT = JSON.stringify(props.crmSubjectsByAgent);
  }
  const { crmNameFields, crmNumberFields, crmVoicemailPhrases, crmDefaultCountry } = props;
  if (crmNameFields?.length)
    options.CRM_NAME_FIELDS = checkedProp('crmNameFields', () => listValue(crmNameFields, parseNameFields, 'field name'));
  if (crmNumberFields?.length)
    options.CRM_NUMBER_FIELDS = checkedProp('crmNumberFields', () => listValue(crmNumberFields, parseNumberFields, 'field name'));
  if (crmVoicemailPhrases?.length) {
    options.CRM_VOICEMAIL_PHRASES = checkedProp('crmVoicemailPhrases', () =>
      listValue(crmVoicemailPhrases, parseVoicemailPhrases, 'phrase'),
    );
  }
  if (crmDefaultCountry !== undefined)
    options.CRM_DEFAULT_COUNTRY = checkedProp('crmDefaultCountry', () => parseDefaultCountry(crmDefaultCountry));
  return options;
}

/** Runs one of the receiver's parsers on a prop; its error names the prop (never the value). */
function checkedProp<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new Error(`${name} ${(error as Error).message}`);
  }
}

/**
 * CRM_NAME_FIELDS, CRM_NUMBER_FIELDS and CRM_VOICEMAIL_PHRASES are comma lists read by `parse`,
 * so one entry must be one item (no commas inside).
 */
function listValue(entries: readonly string[], parse: (value: string) => string[], item: string): string {
  const items = entries.map((entry) => entry.trim()).filter((entry) => entry !== '');
  const parsed = parse(items.join(','));
  if (parsed.length !== items.length) throw new Error(`must hold one ${item} per entry`);
  return parsed.join(',');
}

/**
 * contract §13: texting is on with `smsOriginationIdentity`; the template is then required. Each
 * value is checked with the SMS worker's own parser, the identity and configuration set also
 * for what IAM can grant (infra/text-back.ts). A text-back option without the identity is refused
 * rather than ignored: texting would silently stay off.
 */
function textBackOf(props: WebhookStackProps): { textBack?: TextBackSettings } {
  const { smsOriginationIdentity, smsTemplate, smsTimezone, smsQuietHours, smsConfigurationSet } = props;
  if (smsOriginationIdentity === undefined) {
    const stray = Object.entries({ smsTemplate, smsTimezone, smsQuietHours, smsConfigurationSet }).find(([, v]) => v !== undefined);
    check(stray === undefined, `${stray?.[0]} needs smsOriginationIdentity: texting is off without it`);
    return {};
  }
  checkedProp('smsOriginationIdentity', () => parseOriginationIdentity(smsOriginationIdentity));
  check(
    smsTemplate !== undefined,
    'smsTemplate is required with smsOriginationIdentity: the text, naming your business, with {name}/{subject} and "Reply STOP to opt out"',
  );
  const timeZone = smsTimezone ?? DEFAULT_SMS_TIME_ZONE;
  const quietHours = smsQuietHours ?? DEFAULT_QUIET_HOURS;
  checkedProp('smsQuietHours', () => parseQuietWindow(quietHours));
  return {
    textBack: {
      identity: parseSmsIdentity(smsOriginationIdentity),
      template: checkedProp('smsTemplate', () => parseSmsTemplate(smsTemplate as string)).text,
      timeZone: checkedProp('smsTimezone', () => parseTimeZone(timeZone)),
      quietHours,
      ...(smsConfigurationSet === undefined
        ? {}
        : {
            configurationSet: parseSmsConfigurationSet(
              checkedProp('smsConfigurationSet', () => parseConfigurationSet(smsConfigurationSet)),
            ),
          }),
    },
  };
}
