/**
 * `-c key=value` context and the environment → stack props (infra/context.ts), and the
 * region rule: ap-southeast-2 unless asked for explicitly.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_REGION, DEFAULT_STACK_NAME, settingsFromContext } from '../../infra/context';

const reader = (values: Record<string, unknown>) => (key: string) => values[key];

describe('settingsFromContext', () => {
  it('defaults to the ElevenLabsWebhook stack in ap-southeast-2 with no props', () => {
    expect(settingsFromContext(reader({}), {})).toEqual({
      stackName: DEFAULT_STACK_NAME,
      env: { region: DEFAULT_REGION },
      props: {},
    });
    expect(DEFAULT_REGION).toBe('ap-southeast-2');
  });

  it('ignores CDK_DEFAULT_REGION, which the CLI sets from any profile (or us-east-1)', () => {
    const settings = settingsFromContext(reader({}), { CDK_DEFAULT_REGION: 'us-east-1', CDK_DEFAULT_ACCOUNT: '123456789012' });
    expect(settings.env).toEqual({ account: '123456789012', region: 'ap-southeast-2' });
  });

  it('takes the region from -c region=…, then CDK_DEPLOY_REGION', () => {
    expect(settingsFromContext(reader({}), { CDK_DEPLOY_REGION: 'eu-west-1' }).env.region).toBe('eu-west-1');
    expect(settingsFromContext(reader({ region: 'us-west-2' }), { CDK_DEPLOY_REGION: 'eu-west-1' }).env.region).toBe('us-west-2');
  });

  it('reads every option from command-line strings', () => {
    const settings = settingsFromContext(
      reader({
        stackName: 'ElevenLabsWebhookStaging',
        crmWebhookUrl: 'https://crm.example.com/hook',
        webhookSecretArn: 'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:x',
        alarmEmail: ' ops@example.com ',
        allowedSourceIps: 'elevenlabs, 203.0.113.7',
        allowedAgentIds: 'agent_a,agent_b',
        crmDefaultSubject: 'Sales call',
        crmSubjectsByAgent: '{"agent_a":"Renewals"}',
        crmNameFields: 'contact_name, Patient Name',
        crmNumberFields: 'lead_phone, WhatsApp Number',
        crmVoicemailPhrases: 'buzón personal, please call the front desk',
        crmDefaultCountry: ' NZ ',
        audioRetentionDays: '30',
        archiveAfterDays: '7',
        noTrafficHours: '12',
        runbookUrl: 'https://github.com/acme/receiver/blob/main/README.md',
        reservedConcurrency: '20',
        logRetentionDays: '14',
        elevenLabsApiKeySecretArn: 'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:k',
        elevenLabsApiBaseUrl: 'https://api.eu.residency.elevenlabs.io',
        audioCheckDelaySeconds: '0',
      }),
      {},
    );
    expect(settings.stackName).toBe('ElevenLabsWebhookStaging');
    expect(settings.props).toEqual({
      crmWebhookUrl: 'https://crm.example.com/hook',
      webhookSecretArn: 'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:x',
      alarmEmail: 'ops@example.com',
      allowedSourceIps: ['elevenlabs', '203.0.113.7'],
      allowedAgentIds: ['agent_a', 'agent_b'],
      crmDefaultSubject: 'Sales call',
      crmSubjectsByAgent: { agent_a: 'Renewals' },
      crmNameFields: ['contact_name', 'Patient Name'],
      crmNumberFields: ['lead_phone', 'WhatsApp Number'],
      crmVoicemailPhrases: ['buzón personal', 'please call the front desk'],
      crmDefaultCountry: 'NZ',
      audioRetentionDays: 30,
      archiveAfterDays: 7,
      noTrafficHours: 12,
      runbookUrl: 'https://github.com/acme/receiver/blob/main/README.md',
      reservedConcurrency: 20,
      logRetentionDays: 14,
      elevenLabsApiKeySecretArn: 'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:k',
      elevenLabsApiBaseUrl: 'https://api.eu.residency.elevenlabs.io',
      audioCheckDelaySeconds: 0,
    });
  });

  it('accepts JSON values from cdk.json context', () => {
    const settings = settingsFromContext(
      reader({
        allowedAgentIds: ['agent_a'],
        crmSubjectsByAgent: { agent_a: 'Renewals' },
        crmNameFields: ['caller_name', 'First Name'],
        crmNumberFields: ['lead_phone'],
        crmVoicemailPhrases: ["l'abonné est absent"],
        audioRetentionDays: 90,
      }),
      {},
    );
    expect(settings.props).toEqual({
      allowedAgentIds: ['agent_a'],
      crmSubjectsByAgent: { agent_a: 'Renewals' },
      crmNameFields: ['caller_name', 'First Name'],
      crmNumberFields: ['lead_phone'],
      crmVoicemailPhrases: ["l'abonné est absent"],
      audioRetentionDays: 90,
    });
  });

  it.each<[unknown, boolean | undefined]>([
    ['false', false],
    [' FALSE ', false],
    ['true', true],
    [true, true],
    [false, false],
    ['', undefined],
    [undefined, undefined],
  ])('reads compileCache %o as %o (a command-line string or a cdk.json boolean)', (value, expected) => {
    expect(settingsFromContext(reader({ compileCache: value }), {}).props.compileCache).toBe(expected);
  });

  it('treats empty values as unset', () => {
    expect(settingsFromContext(reader({ alarmEmail: '', crmWebhookUrl: '  ' }), {}).props).toEqual({});
  });

  it.each([
    [{ audioRetentionDays: 'thirty' }, /audioRetentionDays must be a whole number/],
    [{ reservedConcurrency: '-1' }, /reservedConcurrency must be a whole number/],
    [{ noTrafficHours: '6h' }, /noTrafficHours must be a whole number/],
    [{ archiveAfterDays: '1.5' }, /archiveAfterDays must be a whole number/],
    [{ crmSubjectsByAgent: '{not json' }, /crmSubjectsByAgent must be a JSON object/],
    [{ crmSubjectsByAgent: '{"a":1}' }, /values are strings/],
    [{ alarmEmail: { nested: true } }, /alarmEmail must be a string/],
    [{ crmDefaultCountry: ['AU'] }, /crmDefaultCountry must be a string/],
    [{ crmNumberFields: { phone: true } }, /crmNumberFields must be a string/],
    [{ crmVoicemailPhrases: { leave: 'a message' } }, /crmVoicemailPhrases must be a string/],
    [{ compileCache: 'no' }, /compileCache must be true or false, got "no"/],
    [{ compileCache: '1' }, /compileCache must be true or false/],
    [{ compileCache: { on: true } }, /compileCache must be a string/],
  ])('rejects %o naming the option', (values, message) => {
    expect(() => settingsFromContext(reader(values), {})).toThrow(message);
  });
});
