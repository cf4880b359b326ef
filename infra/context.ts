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

export function settingsFromContext(context: ContextReader, processEnv: Readonly<Record<string, string | undefined>>): AppSettings {
  const text = (key: string): string | undefined => {
    const value = context(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`-c ${key} must be a string`);
    const trimmed = String(value).trim();
    return trimmed === '' ? undefined : trimmed;
  };
  const whole = (key: string): number | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) throw new Error(`-c ${key} must be a whole number, got "${value}"`);
    return Number(value);
  };
  const list = (key: string): string[] | undefined => {
    const value = context(key);
    if (Array.isArray(value)) return value.map(String);
    return text(key)
      ?.split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  };
  const subjects = (key: string): Record<string, string> | undefined => {
    const value = context(key);
    if (value === undefined || value === null || value === '') return undefined;
    // The receiver's own parser, so the stack accepts exactly what CRM_SUBJECTS_BY_AGENT does.
    try {
      return parseSubjectsByAgent(value);
    } catch (error) {
      throw new Error(`-c ${key} ${(error as Error).message}`);
    }
  };

  const props: WebhookStackProps = dropUndefined({
    crmWebhookUrl: text('crmWebhookUrl'),
    webhookSecretArn: text('webhookSecretArn'),
    alarmEmail: text('alarmEmail'),
    allowedSourceIps: list('allowedSourceIps'),
    allowedAgentIds: list('allowedAgentIds'),
    crmDefaultSubject: text('crmDefaultSubject'),
    crmSubjectsByAgent: subjects('crmSubjectsByAgent'),
    crmNameFields: list('crmNameFields'),
    crmNumberFields: list('crmNumberFields'),
    crmVoicemailPhrases: list('crmVoicemailPhrases'),
    crmDefaultCountry: text('crmDefaultCountry'),
    audioRetentionDays: whole('audioRetentionDays'),
    archiveAfterDays: whole('archiveAfterDays'),
    noTrafficHours: whole('noTrafficHours'),
    runbookUrl: text('runbookUrl'),
    reservedConcurrency: whole('reservedConcurrency'),
    logRetentionDays: whole('logRetentionDays'),
    elevenLabsApiKeySecretArn: text('elevenLabsApiKeySecretArn'),
    elevenLabsApiBaseUrl: text('elevenLabsApiBaseUrl'),
    audioCheckDelaySeconds: whole('audioCheckDelaySeconds'),
    reconcileEveryMinutes: whole('reconcileEveryMinutes'),
    reconcileLookbackHours: whole('reconcileLookbackHours'),
    reconcileSettleMinutes: whole('reconcileSettleMinutes'),
    smsOriginationIdentity: text('smsOriginationIdentity'),
    smsTemplate: text('smsTemplate'),
    smsTimezone: text('smsTimezone'),
    smsQuietHours: text('smsQuietHours'),
    smsConfigurationSet: text('smsConfigurationSet'),
  });

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

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
