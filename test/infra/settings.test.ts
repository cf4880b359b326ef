/**
 * One source for every setting (contract §8, §9): the variables the configuration schemas read
 * are exactly those the README's table, `.env.example` and the contract's §8 name; every stack
 * context option that becomes a variable (infra/context.ts CONTEXT_OPTIONS) names one of them and
 * really sets it; every variable the stack sets on a Lambda is one the code reads. A new setting
 * fails here until each place has it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTEXT_OPTIONS, PLACEMENT_OPTIONS } from '../../infra/context';
import { loadAudioWorkerConfig } from '../../lambda/config/audio-worker-config';
import { loadLayerBuilderConfig } from '../../lambda/config/layer-builder-config';
import { loadConfig } from '../../lambda/config/receiver-config';
import { loadReconcilerConfig } from '../../lambda/config/reconciler-config';
import { loadWorkerConfig } from '../../lambda/config/retry-worker-config';
import { loadSmsWorkerConfig } from '../../lambda/config/sms-worker-config';
import { REPO_ROOT, resourcesOf, templateOf } from './stack-fixture';

/** The variables a loader reads: every key it asks an environment for (standard AWS_* ones aside). */
function variablesRead(load: (env: Record<string, string | undefined>) => unknown): string[] {
  const read = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get: (_target, key) => {
      if (typeof key === 'string') read.add(key);
      return undefined;
    },
  });
  try {
    load(env);
  } catch {
    // Required variables are missing, of course: what was read is what matters.
  }
  return [...read].filter((name) => !name.startsWith('AWS_'));
}

const LOADERS = {
  receiver: loadConfig,
  retryWorker: loadWorkerConfig,
  audioWorker: loadAudioWorkerConfig,
  reconciler: loadReconcilerConfig,
  smsWorker: loadSmsWorkerConfig,
};
const schemaVariables = [...new Set(Object.values(LOADERS).flatMap(variablesRead))].sort();
/**
 * Set by the stack alone, never by a user (README, "The compile cache"): the layer builder's
 * (it also reads Lambda's LAMBDA_TASK_ROOT and TMPDIR), and the receiver's NODE_COMPILE_CACHE,
 * which Node itself reads at start (SPEC §14).
 */
const DEPLOY_TIME_VARIABLES = [...variablesRead(loadLayerBuilderConfig), 'NODE_COMPILE_CACHE'];

const read = (file: string) => readFileSync(join(REPO_ROOT, file), 'utf8');

/** The backticked names in the first column of the first table after `heading`. */
function tableNames(markdown: string, heading: string): string[] {
  const section = markdown.slice(markdown.indexOf(heading));
  const table = section.split('\n').filter((line) => line.startsWith('|'));
  const rows: string[] = [];
  for (const line of section.split('\n').slice(section.split('\n').indexOf(table[0]!))) {
    if (!line.startsWith('|')) break;
    rows.push(line);
  }
  return rows.flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([A-Za-z_0-9]+)`/g)].map((m) => m[1]!)).sort();
}

/** Local tools' own settings (npm start, send, reset): in `.env.example`, never read by a Lambda. */
const LOCAL_ONLY = ['PORT', 'HOST', 'LOCAL_DATA_DIR', 'RETRY_DRAIN_INTERVAL_MS', 'LOG_FORMAT'];

describe('one source for every setting', () => {
  it('the schemas read a sane, non-empty set of variables', () => {
    expect(schemaVariables.length).toBeGreaterThan(35);
    expect(schemaVariables).toContain('CRM_WEBHOOK_URL');
    expect(schemaVariables).toContain('RECONCILE_LOOKBACK_HOURS');
    expect(schemaVariables).toContain('SMS_TEMPLATE');
  });

  it("the README's configuration table names exactly the variables the code reads", () => {
    expect(tableNames(read('README.md'), '## Configuration')).toEqual(schemaVariables);
  });

  it("the contract's §8 names exactly the variables the code reads", () => {
    expect(tableNames(read('docs/contract.md'), '## §8 Configuration')).toEqual(schemaVariables);
  });

  it(".env.example names every variable the code reads, and otherwise only the local tools' own", () => {
    const names = [...read('.env.example').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
    expect(names.filter((name) => !LOCAL_ONLY.includes(name)).sort()).toEqual(schemaVariables);
    expect(new Set(names).size).toBe(names.length);
  });

  it("the README's deploy options table names exactly the stack's context options", () => {
    expect(tableNames(read('README.md'), '### Deploy options')).toEqual([...Object.keys(CONTEXT_OPTIONS), ...PLACEMENT_OPTIONS].sort());
  });

  it('every context option that becomes a variable names one the code reads', () => {
    const mapped = Object.values(CONTEXT_OPTIONS).flatMap((option) => ('env' in option ? [option.env] : []));
    expect(mapped.filter((name) => !schemaVariables.includes(name))).toEqual([]);
  });
});

describe('the stack sets what the options say, and nothing the code does not read', () => {
  /** A valid value for every option that becomes a variable, and the value the variable then holds. */
  const samples: Record<string, [unknown, string]> = {
    crmWebhookUrl: ['https://crm.example.com/hook', 'https://crm.example.com/hook'],
    webhookSecretArn: [
      'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:hook',
      'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:hook',
    ],
    allowedSourceIps: [['elevenlabs'], 'elevenlabs'],
    allowedAgentIds: [['agent_a'], 'agent_a'],
    crmDefaultSubject: ['Sales call', 'Sales call'],
    crmSubjectsByAgent: [{ agent_a: 'Renewals' }, '{"agent_a":"Renewals"}'],
    crmNameFields: [['contact_name'], 'contact_name'],
    crmNumberFields: [['lead_phone'], 'lead_phone'],
    crmVoicemailPhrases: [['leave it with me'], 'leave it with me'],
    crmDefaultCountry: ['NZ', 'NZ'],
    elevenLabsApiKeySecretArn: [
      'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:key',
      'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:key',
    ],
    elevenLabsApiBaseUrl: ['https://api.eu.residency.elevenlabs.io', 'https://api.eu.residency.elevenlabs.io'],
    audioCheckDelaySeconds: [120, '120'],
    reconcileLookbackHours: [24, '24'],
    reconcileSettleMinutes: [45, '45'],
    smsOriginationIdentity: ['phone-0123456789abcdef0123456789abcdef', 'phone-0123456789abcdef0123456789abcdef'],
    smsTemplate: [
      'Hi {name}, Coastal Dental tried to call about {subject}. Reply STOP to opt out.',
      'Hi {name}, Coastal Dental tried to call about {subject}. Reply STOP to opt out.',
    ],
    smsTimezone: ['Pacific/Auckland', 'Pacific/Auckland'],
    smsQuietHours: ['20:00-09:00', '20:00-09:00'],
    smsConfigurationSet: ['delivery-events', 'delivery-events'],
  };
  let environments: Record<string, unknown>[];
  beforeAll(() => {
    const props = Object.fromEntries(Object.entries(samples).map(([option, [value]]) => [option, value]));
    environments = Object.values(resourcesOf(templateOf(props), 'AWS::Lambda::Function')).map(
      (fn) => (fn.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {},
    );
  });

  it.each(Object.entries(CONTEXT_OPTIONS).filter(([, option]) => 'env' in option))('-c %s sets its variable', (option, spec) => {
    const sample = samples[option];
    expect(sample, `a sample value for ${option} in this test`).toBeDefined();
    const name = (spec as { env: string }).env;
    expect(
      environments.some((env) => env[name] === sample![1]),
      `${option} → ${name}`,
    ).toBe(true);
  });

  it('every variable on every Lambda (texting on) is one the code reads', () => {
    const set = [...new Set(environments.flatMap((env) => Object.keys(env)))];
    expect(set.filter((name) => !schemaVariables.includes(name) && !DEPLOY_TIME_VARIABLES.includes(name))).toEqual([]);
  });

  it("the stack's own variables are there, and only those the layer builder or Node reads", () => {
    const set = new Set(environments.flatMap((env) => Object.keys(env)));
    for (const name of DEPLOY_TIME_VARIABLES.filter((name) => name !== 'LAMBDA_TASK_ROOT' && name !== 'TMPDIR'))
      expect(set).toContain(name);
  });
});
