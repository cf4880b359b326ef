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
      // Only the archive: an event whose forward was not durable is withdrawn from the ledger (contract §12).
      's3:DeleteObject': [{ 'Fn::Join': ['', [arnOf(bucket), '/calls/*']] }],
      'sqs:SendMessage': [arnOf(logicalId(template, 'AWS::SQS::Queue', 'AudioCheckQueue')), arnOf(queue)],
      'dynamodb:GetItem': [arnOf(table)],
      'dynamodb:PutItem': [arnOf(table)],
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
  it('is readable by the audio worker and the reconciler only: no other role names it', () => {
    const apiKey = logicalId(template, 'AWS::SecretsManager::Secret', 'ElevenLabsApiKey');
    for (const role of ['AudioWorkerRole', 'ReconcilerRole']) {
      expect(permissions(statementsOf(template, role))['secretsmanager:GetSecretValue'], role).toEqual([{ Ref: apiKey }]);
    }
    for (const role of ['ReceiverRole', 'RetryWorkerRole']) {
      expect(JSON.stringify(statementsOf(template, role)), role).not.toContain(apiKey);
    }
  });
});

const objects = (bucket: string, suffix: string) => ({ 'Fn::Join': ['', [arnOf(bucket), suffix]] });
const tableActions = (table: string) => ({
  'dynamodb:GetItem': [arnOf(table)],
  'dynamodb:PutItem': [arnOf(table)],
  'dynamodb:DeleteItem': [arnOf(table)],
});

describe('audio worker role (the call check, contract §10, §12)', () => {
  it('recordings under audio/, the ledger and recovered records under calls/, never deletes; delivers as the receiver does', () => {
    const logs = logicalId(template, 'AWS::Logs::LogGroup', 'AudioWorkerLogs');
    const bucket = logicalId(template, 'AWS::S3::Bucket', 'AudioBucket');
    const queue = arnOf(logicalId(template, 'AWS::SQS::Queue', 'AudioCheckQueue'));
    const apiKey = logicalId(template, 'AWS::SecretsManager::Secret', 'ElevenLabsApiKey');
    const audio = objects(bucket, '/audio/*');
    const calls = objects(bucket, '/calls/*');
    expect(permissions(statementsOf(template, 'AudioWorkerRole'))).toEqual({
      'logs:CreateLogStream': [arnOf(logs)],
      'logs:PutLogEvents': [arnOf(logs)],
      's3:GetObject': [calls, audio],
      's3:PutObject': [calls, audio],
      's3:AbortMultipartUpload': [audio],
      // So that a HeadObject of a key that is not there answers 404, not 403.
      's3:ListBucket': [arnOf(bucket)],
      'secretsmanager:GetSecretValue': [{ Ref: apiKey }],
      'sqs:SendMessage': [arnOf(logicalId(template, 'AWS::SQS::Queue', 'CrmRetryQueue'))],
      ...tableActions(logicalId(template, 'AWS::DynamoDB::Table', 'IdempotencyTable')),
      'sqs:ReceiveMessage': [queue],
      'sqs:DeleteMessage': [queue],
      'sqs:ChangeMessageVisibility': [queue],
      'sqs:GetQueueAttributes': [queue],
      'sqs:GetQueueUrl': [queue],
    });
  });
});

describe('reconciler role (contract §12)', () => {
  it('reads heads under calls/ and its own marker, reads the API key, sends call checks; nothing else', () => {
    const logs = logicalId(template, 'AWS::Logs::LogGroup', 'ReconcilerLogs');
    const bucket = logicalId(template, 'AWS::S3::Bucket', 'AudioBucket');
    const marker = objects(bucket, '/reconciler/first-run.json');
    expect(permissions(statementsOf(template, 'ReconcilerRole'))).toEqual({
      'logs:CreateLogStream': [arnOf(logs)],
      'logs:PutLogEvents': [arnOf(logs)],
      's3:GetObject': [objects(bucket, '/calls/*'), marker],
      's3:PutObject': [marker],
      's3:ListBucket': [arnOf(bucket)],
      'sqs:SendMessage': [arnOf(logicalId(template, 'AWS::SQS::Queue', 'AudioCheckQueue'))],
      'secretsmanager:GetSecretValue': [{ Ref: logicalId(template, 'AWS::SecretsManager::Secret', 'ElevenLabsApiKey') }],
    });
  });

  it('is invoked by its schedule through a role that may invoke the reconciler only', () => {
    const fn = logicalId(template, 'AWS::Lambda::Function', 'ReconcilerFunction');
    expect(permissions(statementsOf(template, 'ReconcileScheduleRole'))).toEqual({
      'lambda:InvokeFunction': [arnOf(fn), { 'Fn::Join': ['', [arnOf(fn), ':*']] }],
    });
  });
});

describe('retry worker role', () => {
  it('consumes the retry queue, may only send to the DLQ, and notes deliveries in the idempotency table', () => {
    const logs = logicalId(template, 'AWS::Logs::LogGroup', 'RetryWorkerLogs');
    const queue = arnOf(logicalId(template, 'AWS::SQS::Queue', 'CrmRetryQueue'));
    const dlq = arnOf(logicalId(template, 'AWS::SQS::Queue', 'CrmDeadLetterQueue'));
    expect(permissions(statementsOf(template, 'RetryWorkerRole'))).toEqual({
      'logs:CreateLogStream': [arnOf(logs)],
      'logs:PutLogEvents': [arnOf(logs)],
      'sqs:SendMessage': [dlq],
      ...tableActions(logicalId(template, 'AWS::DynamoDB::Table', 'IdempotencyTable')),
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
        CRM_RETRY_QUEUE_URL: 'sqs:SendMessage',
        IDEMPOTENCY_TABLE: 'dynamodb:PutItem',
      },
      RetryWorkerRole: {
        CRM_RETRY_QUEUE_URL: 'sqs:ChangeMessageVisibility',
        CRM_DEAD_LETTER_QUEUE_URL: 'sqs:SendMessage',
        IDEMPOTENCY_TABLE: 'dynamodb:PutItem',
      },
      ReconcilerRole: {
        AUDIO_BUCKET: 's3:ListBucket',
        AUDIO_CHECK_QUEUE_URL: 'sqs:SendMessage',
        ELEVENLABS_API_KEY_SECRET_ARN: 'secretsmanager:GetSecretValue',
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
