/**
 * Turns `cdk deploy -c name=value` context and the environment into the stack's props.
 * Context values from the command line are strings; values from cdk.json or cdk.context.json
 * may be JSON. Both are accepted.
 */
import type { Environment } from 'aws-cdk-lib';
import { parseSubjectsByAgent } from '../lambda/core/subjects-by-agent';
import type { WebhookStackProps } from './webhook-stack';

export const DEFAULT_STACK_NAME = 'ElevenLabsWebhook';
export const DEFAULT_REGION = 'ap-southeast-2';

/** What `app.node.tryGetContext` does, so this module can be tested without an App. */
export type ContextReader = (key: string) => unknown;

export interface AppSettings {
  readonly stackName: string;
  readonly env: Environment;
  readonly props: WebhookStackProps;
}

/** How a context value is read: text, a whole number, true or false, a comma list (or JSON list), a JSON map of agent subjects. */
type ContextKind = 'text' | 'whole' | 'flag' | 'list' | 'subjects';

/**
 * Every `-c` option the stack takes (contract §9), in one table: how its value is read and, when
 * it becomes a Lambda environment variable, which (contract §8). The props, the README's options
 * table and the settings test (test/infra/settings.test.ts) all follow this list.
 */
export const CONTEXT_OPTIONS = {
  alarmEmail: { kind: 'text' },
  crmWebhookUrl: { kind: 'text', env: 'CRM_WEBHOOK_URL' },
  webhookSecretArn: { kind: 'text', env: 'WEBHOOK_SECRET_ARN' },
  allowedSourceIps: { kind: 'list', env: 'ALLOWED_SOURCE_IPS' },
  allowedAgentIds: { kind: 'list', env: 'ALLOWED_AGENT_IDS' },
  crmDefaultSubject: { kind: 'text', env: 'CRM_DEFAULT_SUBJECT' },
  crmSubjectsByAgent: { kind: 'subjects', env: 'CRM_SUBJECTS_BY_AGENT' },
  crmNameFields: { kind: 'list', env: 'CRM_NAME_FIELDS' },
  crmNumberFields: { kind: 'list', env: 'CRM_NUMBER_FIELDS' },
  crmVoicemailPhrases: { kind: 'list', env: 'CRM_VOICEMAIL_PHRASES' },
  crmDefaultCountry: { kind: 'text', env: 'CRM_DEFAULT_COUNTRY' },
  elevenLabsApiKeySecretArn: { kind: 'text', env: 'ELEVENLABS_API_KEY_SECRET_ARN' },
  elevenLabsApiBaseUrl: { kind: 'text', env: 'ELEVENLABS_API_BASE_URL' },
  audioCheckDelaySeconds: { kind: 'whole', env: 'AUDIO_CHECK_DELAY_SECONDS' },
  reconcileEveryMinutes: { kind: 'whole' },
  reconcileLookbackHours: { kind: 'whole', env: 'RECONCILE_LOOKBACK_HOURS' },
  reconcileSettleMinutes: { kind: 'whole', env: 'RECONCILE_SETTLE_MINUTES' },
  smsOriginationIdentity: { kind: 'text', env: 'SMS_ORIGINATION_IDENTITY' },
  smsTemplate: { kind: 'text', env: 'SMS_TEMPLATE' },
  smsTimezone: { kind: 'text', env: 'SMS_TIMEZONE' },
  smsQuietHours: { kind: 'text', env: 'SMS_QUIET_HOURS' },
  smsConfigurationSet: { kind: 'text', env: 'SMS_CONFIGURATION_SET' },
  audioRetentionDays: { kind: 'whole' },
  archiveAfterDays: { kind: 'whole' },
  noTrafficHours: { kind: 'whole' },
  runbookUrl: { kind: 'text' },
  reservedConcurrency: { kind: 'whole' },
  logRetentionDays: { kind: 'whole' },
  compileCache: { kind: 'flag' },
} as const satisfies Partial<Record<keyof WebhookStackProps, { kind: ContextKind; env?: string }>>;

/** Where the stack is deployed (not props): `-c region`, `-c account`, `-c stackName`. */
export const PLACEMENT_OPTIONS = ['region', 'account', 'stackName'] as const;

/** A context value the stack cannot take: `message` names the option and what is allowed, in one line. */
export class ContextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContextError';
  }
}

export function settingsFromContext(context: ContextReader, processEnv: Readonly<Record<string, string | undefined>>): AppSettings {
  const text = (key: string): string | undefined => {
    const value = context(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' && typeof value !== 'number') throw new ContextError(`-c ${key} must be a string`);
    const trimmed = String(value).trim();
    return trimmed === '' ? undefined : trimmed;
  };
  const readers: Record<ContextKind, (key: string) => unknown> = {
    text,
    whole: (key) => {
      const value = text(key);
      if (value === undefined) return undefined;
      if (!/^\d+$/.test(value)) throw new ContextError(`-c ${key} must be a whole number, got "${value}"`);
      return Number(value);
    },
    flag: (key) => {
      const value = context(key);
      if (typeof value === 'boolean') return value;
      const word = text(key)?.toLowerCase();
      if (word === undefined) return undefined;
      if (word !== 'true' && word !== 'false') throw new ContextError(`-c ${key} must be true or false, got "${text(key)}"`);
      return word === 'true';
    },
    list: (key) => {
      const value = context(key);
      if (Array.isArray(value)) return value.map(String);
      return text(key)
        ?.split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    },
    subjects: (key) => {
      const value = context(key);
      if (value === undefined || value === null || value === '') return undefined;
      // The receiver's own parser, so the stack accepts exactly what CRM_SUBJECTS_BY_AGENT does.
      try {
        return parseSubjectsByAgent(value);
      } catch (error) {
        throw new ContextError(`-c ${key} ${(error as Error).message}`);
      }
    },
  };
  const props = Object.fromEntries(
    Object.entries(CONTEXT_OPTIONS).flatMap(([key, { kind }]) => {
      const value = readers[kind](key);
      return value === undefined ? [] : [[key, value]];
    }),
  ) as WebhookStackProps;

  // The region is ap-southeast-2 (where the CRM is) unless asked for explicitly. Not
  // CDK_DEFAULT_REGION: the CLI always sets it, from the profile or else "us-east-1", so
  // honouring it would make the default unreachable and follow whatever profile is active.
  const region = text('region') ?? processEnv.CDK_DEPLOY_REGION ?? DEFAULT_REGION;
  const account = text('account') ?? processEnv.CDK_DEPLOY_ACCOUNT ?? processEnv.CDK_DEFAULT_ACCOUNT;
  return {
    stackName: text('stackName') ?? DEFAULT_STACK_NAME,
    env: account === undefined ? { region } : { account, region },
    props,
  };
}
