/**
 * Least privilege: each function's role allows exactly the API calls its adapters make
 * (lambda/adapters/*.ts), each on the one resource its environment variable names, and no
 * statement uses `*` where a specific ARN exists.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { logicalId, resourcesOf, templateOf } from './stack-fixture';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

let template: Template;
beforeAll(() => {
  template = templateOf();
});

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** The Allow statements of the inline policy attached to the role whose id starts with `rolePrefix`. */
function statementsOf(t: Template, rolePrefix: string): Statement[] {
  const role = logicalId(t, 'AWS::IAM::Role', rolePrefix);
  const policies = Object.values(resourcesOf(t, 'AWS::IAM::Policy')).filter((p) =>
    (p.Properties!.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: role })),
  );
  expect(policies).toHaveLength(1);
  return (policies[0]!.Properties!.PolicyDocument as { Statement: Statement[] }).Statement;
}

/** action → resources, flattened, so a test can compare whole permission sets. */
function permissions(statements: Statement[]): Record<string, unknown[]> {
  const result: Record<string, unknown[]> = {};
  for (const s of statements) {
    expect(s.Effect).toBe('Allow');
    for (const action of list(s.Action)) result[action] = [...(result[action] ?? []), ...list(s.Resource)];
  }
  return result;
}

const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('receiver role', () => {
  it("allows exactly the receiver adapters' calls, each on its own resource", () => {
    const logs = logicalId(template, 'AWS::Logs::LogGroup', 'ReceiverLogs');
    const secret = logicalId(template, 'AWS::SecretsManager::Secret', 'WebhookSecret');
    const queue = logicalId(template, 'AWS::SQS::Queue', 'CrmRetryQueue');
    const bucket = logicalId(template, 'AWS::S3::Bucket', 'AudioBucket');
    const table = logicalId(template, 'AWS::DynamoDB::Table', 'IdempotencyTable');
    expect(permissions(statementsOf(template, 'ReceiverRole'))).toEqual({
      'logs:CreateLogStream': [arnOf(logs)],
      'logs:PutLogEvents': [arnOf(logs)],
      'secretsmanager:GetSecretValue': [{ Ref: secret }],
      's3:PutObject': [{ 'Fn::Join': ['', [arnOf(bucket), '/audio/*']] }, { 'Fn::Join': ['', [arnOf(bucket), '/calls/*']] }],
      'sqs:SendMessage': [arnOf(logicalId(template, 'AWS::SQS::Queue', 'AudioCheckQueue')), arnOf(queue)],
      'dynamodb:GetItem': [arnOf(table)],
      'dynamodb:PutItem': [arnOf(table)],
      'dynamodb:UpdateItem': [arnOf(table)],
      'dynamodb:DeleteItem': [arnOf(table)],
    });
  });

  it('reads an imported secret by its ARN, complete or partial, and nothing wider', () => {
    const arn = 'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:elevenlabs/webhook';
    const t = templateOf({ webhookSecretArn: arn });
    expect(permissions(statementsOf(t, 'ReceiverRole'))['secretsmanager:GetSecretValue']).toEqual([arn, `${arn}-??????`]);
  });
});

describe('the ElevenLabs API key', () => {
  it('is readable by the audio worker only: no other role names it', () => {
    const apiKey = logicalId(template, 'AWS::SecretsManager::Secret', 'ElevenLabsApiKey');
    expect(permissions(statementsOf(template, 'AudioWorkerRole'))['secretsmanager:GetSecretValue']).toEqual([{ Ref: apiKey }]);
    for (const role of ['ReceiverRole', 'RetryWorkerRole']) {
      expect(JSON.stringify(statementsOf(template, role)), role).not.toContain(apiKey);
    }
  });
});

describe('audio worker role', () => {
  it('reads, writes and aborts uploads under audio/ only, never deletes; consumes its own queue', () => {
    const logs = logicalId(template, 'AWS::Logs::LogGroup', 'AudioWorkerLogs');
    const bucket = logicalId(template, 'AWS::S3::Bucket', 'AudioBucket');
    const queue = arnOf(logicalId(template, 'AWS::SQS::Queue', 'AudioCheckQueue'));
    const apiKey = logicalId(template, 'AWS::SecretsManager::Secret', 'ElevenLabsApiKey');
    const audio = { 'Fn::Join': ['', [arnOf(bucket), '/audio/*']] };
    expect(permissions(statementsOf(template, 'AudioWorkerRole'))).toEqual({
      'logs:CreateLogStream': [arnOf(logs)],
      'logs:PutLogEvents': [arnOf(logs)],
      's3:GetObject': [audio],
      's3:PutObject': [audio],
      's3:AbortMultipartUpload': [audio],
      'secretsmanager:GetSecretValue': [{ Ref: apiKey }],
      'sqs:ReceiveMessage': [queue],
      'sqs:DeleteMessage': [queue],
      'sqs:ChangeMessageVisibility': [queue],
      'sqs:GetQueueAttributes': [queue],
      'sqs:GetQueueUrl': [queue],
    });
  });
});

describe('retry worker role', () => {
  it('consumes the retry queue and may only send to the DLQ', () => {
    const logs = logicalId(template, 'AWS::Logs::LogGroup', 'RetryWorkerLogs');
    const queue = arnOf(logicalId(template, 'AWS::SQS::Queue', 'CrmRetryQueue'));
    const dlq = arnOf(logicalId(template, 'AWS::SQS::Queue', 'CrmDeadLetterQueue'));
    expect(permissions(statementsOf(template, 'RetryWorkerRole'))).toEqual({
      'logs:CreateLogStream': [arnOf(logs)],
      'logs:PutLogEvents': [arnOf(logs)],
      'sqs:SendMessage': [dlq],
      'sqs:ReceiveMessage': [queue],
      'sqs:DeleteMessage': [queue],
      'sqs:ChangeMessageVisibility': [queue],
      'sqs:GetQueueAttributes': [queue],
      'sqs:GetQueueUrl': [queue],
    });
  });
});

describe('every policy in the stack', () => {
  it.each([
    ['default props', {}],
    ['every option', { alarmEmail: 'ops@example.com', webhookSecretArn: 'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:x' }],
  ])('uses no bare * resource and no service:* action (%s)', (_name, props) => {
    const t = templateOf(props);
    const statements = Object.values(resourcesOf(t, 'AWS::IAM::Policy')).flatMap(
      (p) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement,
    );
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      expect(list(s.Resource)).not.toContain('*');
      for (const action of list(s.Action)) expect(action).not.toMatch(/\*$/);
    }
  });

  it('grants every resource an environment variable names to the function that reads it', () => {
    const functions = resourcesOf(template, 'AWS::Lambda::Function');
    const policies = Object.values(resourcesOf(template, 'AWS::IAM::Policy'));
    // Per function (by role id prefix): the variable → the call its adapter makes with it.
    const needs: Record<string, Record<string, string>> = {
      ReceiverRole: {
        WEBHOOK_SECRET_ARN: 'secretsmanager:GetSecretValue',
        CRM_RETRY_QUEUE_URL: 'sqs:SendMessage',
        AUDIO_BUCKET: 's3:PutObject',
        IDEMPOTENCY_TABLE: 'dynamodb:PutItem',
        AUDIO_CHECK_QUEUE_URL: 'sqs:SendMessage',
      },
      AudioWorkerRole: {
        AUDIO_BUCKET: 's3:GetObject',
        ELEVENLABS_API_KEY_SECRET_ARN: 'secretsmanager:GetSecretValue',
        AUDIO_CHECK_QUEUE_URL: 'sqs:ChangeMessageVisibility',
      },
      RetryWorkerRole: {
        CRM_RETRY_QUEUE_URL: 'sqs:ChangeMessageVisibility',
        CRM_DEAD_LETTER_QUEUE_URL: 'sqs:SendMessage',
      },
    };
    let checked = 0;
    for (const fn of Object.values(functions)) {
      const role = (fn.Properties!.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const roleNeeds = Object.entries(needs).find(([prefix]) => role.startsWith(prefix))?.[1] ?? {};
      const policy = policies.find((p) => JSON.stringify(p.Properties!.Roles) === JSON.stringify([{ Ref: role }]))!;
      const granted = JSON.stringify(permissions((policy.Properties!.PolicyDocument as { Statement: Statement[] }).Statement));
      const env = (fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
      for (const [name, value] of Object.entries(env)) {
        const action = roleNeeds[name];
        if (action === undefined) continue;
        // The variable holds a Ref to a resource; the grant names that same resource.
        const resource = (value as { Ref: string }).Ref;
        const perms = JSON.parse(granted) as Record<string, unknown[]>;
        expect(JSON.stringify(perms[action] ?? []), `${name} → ${action}`).toContain(`"${resource}"`);
        checked++;
      }
    }
    expect(checked).toBe(Object.values(needs).reduce((n, vars) => n + Object.keys(vars).length, 0));
  });
});
