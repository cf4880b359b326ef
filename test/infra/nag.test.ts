/**
 * cdk-nag's AwsSolutions pack (v3: a validation plugin; acknowledgements via
 * Validations.of(...).acknowledge) over the stack: no unacknowledged finding, and the
 * acknowledgements are exactly the reviewed ones, each with a reason.
 */
import { Validations } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import type { WebhookStackProps } from '../../infra/webhook-stack';
import { buildStack, TEXTING_ON } from './stack-fixture';

/** `severity rule @ construct path` for every finding, so a failure says what and where. */
function findings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(scope);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.severity} ${v.ruleName} @ ${r.constructPath}`));
}

function acknowledgements(scope: IConstruct): Record<string, string> {
  const result: Record<string, string> = {};
  for (const construct of scope.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        result[`${construct.node.path.replace(/^TestWebhook\//, '')} ${id.replace(/^annotation::/i, '')}`] = reason;
      }
    }
  }
  return result;
}

const EVERY_OPTION: WebhookStackProps = {
  alarmEmail: 'ops@example.com',
  allowedSourceIps: 'elevenlabs',
  allowedAgentIds: ['agent_a'],
  reservedConcurrency: 10,
  crmSubjectsByAgent: { agent_a: 'Renewals' },
  noTrafficHours: 24,
  archiveAfterDays: 60,
  runbookUrl: 'https://github.com/acme/receiver/blob/main/README.md',
};

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['default props', {}],
    ['every option', EVERY_OPTION],
    [
      'texting on, every text-back option',
      { ...TEXTING_ON, smsConfigurationSet: 'text-back', smsQuietHours: '20:00-09:00', smsTimezone: 'Pacific/Auckland' },
    ],
    ['imported secret', { webhookSecretArn: 'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:elevenlabs/webhook' }],
  ])('reports no unacknowledged error or warning (%s)', (_name, props: WebhookStackProps) => {
    expect(findings(buildStack(props))).toEqual([]);
  });

  it('does report a finding the stack would introduce (the check is live)', () => {
    const stack = buildStack();
    new Queue(stack, 'UnencryptedPlainQueue', { encryption: undefined, enforceSSL: false });
    expect(findings(stack)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^error AwsSolutions-SQS4 @ TestWebhook\/UnencryptedPlainQueue/)]),
    );
  });

  it('acknowledges only the reviewed rules, each with a reason', () => {
    const acks = acknowledgements(buildStack());
    expect(Object.keys(acks).sort()).toEqual(
      [
        'HttpApi AwsSolutions-APIG4',
        'Receiver/Role AwsSolutions-IAM5[Resource::<AudioBucket96BEECBA.Arn>/audio/*]',
        'Receiver/Role AwsSolutions-IAM5[Resource::<AudioBucket96BEECBA.Arn>/calls/*]',
        'AudioWorker/Role AwsSolutions-IAM5[Resource::<AudioBucket96BEECBA.Arn>/audio/*]',
        'AudioWorker/Role AwsSolutions-IAM5[Resource::<AudioBucket96BEECBA.Arn>/calls/*]',
        'Reconciler/Role AwsSolutions-IAM5[Resource::<AudioBucket96BEECBA.Arn>/calls/*]',
        'CompileCache/Builder/Role AwsSolutions-IAM5[Resource::<AudioBucket96BEECBA.Arn>/deploy/compile-cache/*]',
        'ReconcileScheduleRole AwsSolutions-IAM5[Resource::<ReconcilerFunction0432B6FF.Arn>:*]',
        'WebhookSecret AwsSolutions-SMG4',
        'ElevenLabsApiKey AwsSolutions-SMG4',
      ].sort(),
    );
    for (const reason of Object.values(acks)) expect(reason.length).toBeGreaterThan(80);
  });
});
