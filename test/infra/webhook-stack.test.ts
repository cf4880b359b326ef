/**
 * The resources of contract §9, one assertion group per item, on the template the
 * default stack synthesises (plus the variants the props switch on).
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CRM_WEBHOOK_URL } from '../../infra/stack-settings';
import {
  MAX_RECEIVE_COUNT,
  PLACEHOLDER_API_KEY_STRING,
  PLACEHOLDER_SECRET_STRING,
  QUEUE_RETENTION,
  RECEIVER_TIMEOUT,
  RETRY_VISIBILITY_TIMEOUT,
  RETRY_WORKER_TIMEOUT,
} from '../../infra/webhook-stack';
import { retryDelaySeconds, retryHorizonSeconds } from '../../lambda/core/retry-schedule';
import { logicalId, resourcesOf, templateOf } from './stack-fixture';

let template: Template;
beforeAll(() => {
  template = templateOf();
});

const ref = (id: string) => ({ Ref: id });
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

function functionNamed(prefix: string) {
  const id = logicalId(template, 'AWS::Lambda::Function', prefix);
  return { id, props: resourcesOf(template, 'AWS::Lambda::Function')[id]!.Properties! };
}

describe('HTTP API', () => {
  it('routes POST /webhooks/elevenlabs to the receiver with a payload 2.0 proxy integration', () => {
    const receiver = functionNamed('ReceiverFunction');
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /webhooks/elevenlabs',
      Target: { 'Fn::Join': ['', ['integrations/', ref(logicalId(template, 'AWS::ApiGatewayV2::Integration', 'HttpApi'))]] },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: arnOf(receiver.id),
      PayloadFormatVersion: '2.0',
      // Within API Gateway's 30 s, and longer than the receiver's own timeout.
      TimeoutInMillis: Match.anyValue(),
    });
    const integration = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Integration'))[0]!.Properties!;
    expect(integration.TimeoutInMillis).toBeLessThanOrEqual(30_000);
    expect(integration.TimeoutInMillis).toBeGreaterThan(RECEIVER_TIMEOUT.toMilliseconds());
  });

  it('has a throttled, access-logged $default stage that deploys itself', () => {
    const logs = logicalId(template, 'AWS::Logs::LogGroup', 'ApiAccessLogs');
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: Match.anyValue(), ThrottlingBurstLimit: Match.anyValue() },
      AccessLogSettings: { DestinationArn: arnOf(logs), Format: Match.stringLikeRegexp('\\$context\\.requestId') },
    });
    const stage = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Stage'))[0]!.Properties!;
    const throttle = stage.DefaultRouteSettings as { ThrottlingRateLimit: number; ThrottlingBurstLimit: number };
    expect(throttle.ThrottlingRateLimit).toBeGreaterThan(0);
    expect(throttle.ThrottlingBurstLimit).toBeGreaterThanOrEqual(throttle.ThrottlingRateLimit);
    // The access log must never carry the signature header or the body.
    const format = (stage.AccessLogSettings as { Format: string }).Format;
    expect(format).not.toMatch(/header|requestBody|signature/i);
    expect(JSON.parse(format)).toMatchObject({ status: '$context.status', ip: '$context.identity.sourceIp' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('lets only this API invoke the receiver', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
      FunctionName: arnOf(functionNamed('ReceiverFunction').id),
    });
  });
});

describe('Lambda functions', () => {
  it('runs all four on Node.js 24, arm64, from the dist folders, with index.handler', () => {
    for (const name of ['ReceiverFunction', 'RetryWorkerFunction', 'AudioWorkerFunction', 'ReconcilerFunction']) {
      expect(functionNamed(name).props).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Code: { S3Key: expect.stringMatching(/^[0-9a-f]{64}\.zip$/) },
      });
    }
    // The fifth runs once per deploy: the compile cache's layer builder (SPEC §14).
    template.resourceCountIs('AWS::Lambda::Function', 5);
  });

  it("runs the layer builder with the receiver's own code, runtime and architecture, so the cache it makes is the receiver's", () => {
    const receiver = functionNamed('ReceiverFunction').props;
    const builder = functionNamed('CompileCacheBuilderFunction').props;
    expect(builder).toMatchObject({
      Runtime: receiver.Runtime,
      Architectures: receiver.Architectures,
      Code: receiver.Code,
      Handler: 'layer-builder/index.handler',
      Environment: { Variables: { LAYER_BUCKET: ref(logicalId(template, 'AWS::S3::Bucket', 'AudioBucket')) } },
    });
  });

  it('sizes the receiver for a 6 MB event and keeps both timeouts inside 30 s', () => {
    const receiver = functionNamed('ReceiverFunction').props;
    const worker = functionNamed('RetryWorkerFunction').props;
    expect(receiver.MemorySize).toBeGreaterThanOrEqual(1024);
    expect(receiver.Timeout).toBe(RECEIVER_TIMEOUT.toSeconds());
    expect(receiver.Timeout).toBeLessThan(30);
    expect(worker.Timeout).toBe(RETRY_WORKER_TIMEOUT.toSeconds());
    expect(worker.Timeout).toBeLessThanOrEqual(30);
  });

  it('gives each function its own log group with retention, and no managed policy', () => {
    for (const [fn, logs] of [
      ['ReceiverFunction', 'ReceiverLogs'],
      ['RetryWorkerFunction', 'RetryWorkerLogs'],
    ] as const) {
      const group = logicalId(template, 'AWS::Logs::LogGroup', logs);
      expect(functionNamed(fn).props.LoggingConfig).toEqual({ LogGroup: ref(group) });
      template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 90 }, DeletionPolicy: 'Retain' });
    }
    for (const role of Object.values(resourcesOf(template, 'AWS::IAM::Role'))) {
      expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('sets exactly the receiver environment lambda/config/receiver-config.ts reads', () => {
    const env = (functionNamed('ReceiverFunction').props.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env).toEqual({
      WEBHOOK_SECRET_ARN: ref(logicalId(template, 'AWS::SecretsManager::Secret', 'WebhookSecret')),
      CRM_WEBHOOK_URL: DEFAULT_CRM_WEBHOOK_URL,
      CRM_RETRY_QUEUE_URL: ref(logicalId(template, 'AWS::SQS::Queue', 'CrmRetryQueue')),
      AUDIO_BUCKET: ref(logicalId(template, 'AWS::S3::Bucket', 'AudioBucket')),
      IDEMPOTENCY_TABLE: ref(logicalId(template, 'AWS::DynamoDB::Table', 'IdempotencyTable')),
      ARCHIVE_EVENTS: 'true',
      AUDIO_CHECK_QUEUE_URL: ref(logicalId(template, 'AWS::SQS::Queue', 'AudioCheckQueue')),
      AUDIO_CHECK_DELAY_SECONDS: '600',
      // SPEC §14: the layer's folder (lambda/core/compile-cache-layer.ts), read by Node at start.
      NODE_COMPILE_CACHE: '/opt/compile-cache',
    });
  });

  it('sets the audio worker environment: the bucket, the API-key secret, the API origin, the queue it drains, and the call check (contract §12)', () => {
    const env = (functionNamed('AudioWorkerFunction').props.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env).toEqual({
      AUDIO_BUCKET: ref(logicalId(template, 'AWS::S3::Bucket', 'AudioBucket')),
      ELEVENLABS_API_KEY_SECRET_ARN: ref(logicalId(template, 'AWS::SecretsManager::Secret', 'ElevenLabsApiKey')),
      ELEVENLABS_API_BASE_URL: 'https://api.elevenlabs.io',
      AUDIO_CHECK_QUEUE_URL: ref(logicalId(template, 'AWS::SQS::Queue', 'AudioCheckQueue')),
      ARCHIVE_EVENTS: 'true',
      CRM_WEBHOOK_URL: DEFAULT_CRM_WEBHOOK_URL,
      CRM_RETRY_QUEUE_URL: ref(logicalId(template, 'AWS::SQS::Queue', 'CrmRetryQueue')),
      IDEMPOTENCY_TABLE: ref(logicalId(template, 'AWS::DynamoDB::Table', 'IdempotencyTable')),
    });
    expect(functionNamed('AudioWorkerFunction').props).toMatchObject({ Timeout: 300, MemorySize: 512 });
  });

  it('sets the reconciler environment (contract §12): the archive it reads, the queue it sends checks to, the API key and its window', () => {
    const env = (functionNamed('ReconcilerFunction').props.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env).toEqual({
      AUDIO_BUCKET: ref(logicalId(template, 'AWS::S3::Bucket', 'AudioBucket')),
      ARCHIVE_EVENTS: 'true',
      AUDIO_CHECK_QUEUE_URL: ref(logicalId(template, 'AWS::SQS::Queue', 'AudioCheckQueue')),
      ELEVENLABS_API_KEY_SECRET_ARN: ref(logicalId(template, 'AWS::SecretsManager::Secret', 'ElevenLabsApiKey')),
      ELEVENLABS_API_BASE_URL: 'https://api.elevenlabs.io',
      RECONCILE_LOOKBACK_HOURS: '48',
      RECONCILE_SETTLE_MINUTES: '30',
    });
    expect(functionNamed('ReconcilerFunction').props).toMatchObject({ Timeout: 600, MemorySize: 256 });
  });

  it('runs the reconciler every reconcileEveryMinutes (default 60) from an EventBridge Scheduler schedule, no retries of a failed run', () => {
    const fn = functionNamed('ReconcilerFunction').id;
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Target: Match.objectLike({ Arn: arnOf(fn), RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 } }),
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: ref(fn), MaximumRetryAttempts: 0 });
    templateOf({ reconcileEveryMinutes: 15 }).hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(15 minutes)' });
  });

  it.each([
    ['reconcileEveryMinutes', 4, 'reconcileEveryMinutes must be a whole number from 5 to 1440, got 4'],
    ['reconcileEveryMinutes', 1441, 'reconcileEveryMinutes must be a whole number from 5 to 1440, got 1441'],
    ['reconcileLookbackHours', 0, 'reconcileLookbackHours must be a whole number from 1 to 720, got 0'],
    ['reconcileSettleMinutes', 2.5, 'reconcileSettleMinutes must be a whole number from 5 to 1440, got 2.5'],
  ])('refuses %s = %s', (name, value, message) => {
    expect(() => templateOf({ [name]: value })).toThrow(message);
  });

  it('refuses a window shorter than the time between runs (calls between two windows would never be checked)', () => {
    expect(() => templateOf({ reconcileLookbackHours: 1, reconcileSettleMinutes: 30, reconcileEveryMinutes: 60 })).toThrow(
      "the reconciler's window (reconcileLookbackHours 1 h minus reconcileSettleMinutes 30 min = 30 min) must be at least reconcileEveryMinutes (60)",
    );
    expect(() => templateOf({ reconcileLookbackHours: 1, reconcileSettleMinutes: 30, reconcileEveryMinutes: 30 })).not.toThrow();
  });

  it('feeds the audio worker one audio check per invocation, with ReportBatchItemFailures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(logicalId(template, 'AWS::SQS::Queue', 'AudioCheckQueue')),
      FunctionName: ref(functionNamed('AudioWorkerFunction').id),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 1,
    });
  });

  it('sets the retry worker environment: the CRM URL, the queue it drains (backoff) and the DLQ for permanent refusals', () => {
    const env = (functionNamed('RetryWorkerFunction').props.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env).toEqual({
      CRM_WEBHOOK_URL: DEFAULT_CRM_WEBHOOK_URL,
      CRM_RETRY_QUEUE_URL: ref(logicalId(template, 'AWS::SQS::Queue', 'CrmRetryQueue')),
      CRM_DEAD_LETTER_QUEUE_URL: ref(logicalId(template, 'AWS::SQS::Queue', 'CrmDeadLetterQueue')),
      IDEMPOTENCY_TABLE: ref(logicalId(template, 'AWS::DynamoDB::Table', 'IdempotencyTable')),
    });
  });
});

describe('secret', () => {
  it('is created with the fail-closed placeholder, and retained on cdk destroy', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      Properties: Match.objectLike({ SecretString: PLACEHOLDER_SECRET_STRING }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    expect(JSON.parse(PLACEHOLDER_SECRET_STRING)).toEqual({ hmacSecret: '' });
  });

  it('is imported instead of created when webhookSecretArn is given', () => {
    const arn = 'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:elevenlabs/webhook';
    const imported = templateOf({ webhookSecretArn: arn });
    // Only the ElevenLabs API-key secret is still created.
    imported.resourceCountIs('AWS::SecretsManager::Secret', 1);
    imported.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ WEBHOOK_SECRET_ARN: arn }) },
    });
    imported.hasOutput('SecretArn', { Value: arn });
  });
});

describe('ElevenLabs API-key secret (contract §10)', () => {
  it('is created with the recovery-off placeholder, and retained on cdk destroy', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      Properties: Match.objectLike({ SecretString: PLACEHOLDER_API_KEY_STRING }),
      DeletionPolicy: 'Retain',
    });
    expect(JSON.parse(PLACEHOLDER_API_KEY_STRING)).toEqual({ apiKey: '' });
  });

  it('is imported instead when elevenLabsApiKeySecretArn is given', () => {
    const arn = 'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:elevenlabs/api-key';
    const imported = templateOf({ elevenLabsApiKeySecretArn: arn });
    imported.resourceCountIs('AWS::SecretsManager::Secret', 1);
    imported.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ELEVENLABS_API_KEY_SECRET_ARN: arn }) },
    });
  });
});

describe('audio bucket', () => {
  it('blocks public access, encrypts, expires recordings and is retained on delete', () => {
    template.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({
              ExpirationInDays: 365,
              Status: 'Enabled',
              Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 30 }],
            }),
            Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
          ]),
        },
        LoggingConfiguration: Match.objectLike({ DestinationBucketName: Match.anyValue() }),
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('denies every request that is not TLS', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: ref(logicalId(template, 'AWS::S3::Bucket', 'AudioBucket')),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('keeps recordings and archived events for audioRetentionDays, in Glacier Instant Retrieval after archiveAfterDays', () => {
    templateOf({ audioRetentionDays: 400, archiveAfterDays: 60 }).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Id: 'archive-then-expire',
            ExpirationInDays: 400,
            Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 60 }],
          }),
        ]),
      },
    });
  });
});

describe('queues', () => {
  it('moves a message to the DLQ only after the backoff schedule spans a day, with a visibility ≥ 6× the worker timeout', () => {
    const dlq = logicalId(template, 'AWS::SQS::Queue', 'CrmDeadLetterQueue');
    expect(retryHorizonSeconds(MAX_RECEIVE_COUNT)).toBeGreaterThanOrEqual(24 * 3600);
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: arnOf(dlq), maxReceiveCount: MAX_RECEIVE_COUNT },
      SqsManagedSseEnabled: true,
      VisibilityTimeout: RETRY_VISIBILITY_TIMEOUT.toSeconds(),
    });
    expect(RETRY_VISIBILITY_TIMEOUT.toSeconds()).toBeGreaterThanOrEqual(6 * RETRY_WORKER_TIMEOUT.toSeconds());
  });

  it('keeps messages 14 days in both queues, far beyond the backoff, and retains the DLQ on cdk destroy', () => {
    const queues = resourcesOf(template, 'AWS::SQS::Queue');
    const dlqId = logicalId(template, 'AWS::SQS::Queue', 'CrmDeadLetterQueue');
    const dlq = queues[dlqId]!.Properties!;
    const retry = queues[logicalId(template, 'AWS::SQS::Queue', 'CrmRetryQueue')]!.Properties!;
    expect(dlq).toMatchObject({ MessageRetentionPeriod: QUEUE_RETENTION.toSeconds(), SqsManagedSseEnabled: true });
    // A DLQ message keeps its first enqueue time: the DLQ must keep it at least as long.
    expect(dlq.MessageRetentionPeriod).toBeGreaterThanOrEqual(retry.MessageRetentionPeriod as number);
    const toDlq = retryHorizonSeconds(MAX_RECEIVE_COUNT) + retryDelaySeconds(MAX_RECEIVE_COUNT);
    expect(retry.MessageRetentionPeriod as number).toBeGreaterThan(toDlq + 7 * 24 * 3600);
    template.hasResource('AWS::SQS::Queue', {
      Properties: Match.objectLike({ MessageRetentionPeriod: QUEUE_RETENTION.toSeconds() }),
      DeletionPolicy: 'Retain',
    });
    expect((template.toJSON().Resources as Record<string, { DeletionPolicy?: string }>)[dlqId]!.DeletionPolicy).toBe('Retain');
  });

  it('gives audio checks their own queue and retained DLQ, with the same backoff horizon', () => {
    const dlq = logicalId(template, 'AWS::SQS::Queue', 'AudioCheckDeadLetterQueue');
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: arnOf(dlq), maxReceiveCount: MAX_RECEIVE_COUNT },
      VisibilityTimeout: 1800,
      MessageRetentionPeriod: QUEUE_RETENTION.toSeconds(),
    });
    expect((template.toJSON().Resources as Record<string, { DeletionPolicy?: string }>)[dlq]!.DeletionPolicy).toBe('Retain');
  });

  it('denies non-TLS access to every queue', () => {
    for (const queue of ['CrmRetryQueue', 'CrmDeadLetterQueue', 'AudioCheckQueue', 'AudioCheckDeadLetterQueue']) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [ref(logicalId(template, 'AWS::SQS::Queue', queue))],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    }
  });

  it('feeds the retry worker from the retry queue with ReportBatchItemFailures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(logicalId(template, 'AWS::SQS::Queue', 'CrmRetryQueue')),
      FunctionName: ref(functionNamed('RetryWorkerFunction').id),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
    });
  });
});

describe('idempotency table', () => {
  it('is keyed on id, expires by TTL on expiration, on demand, with point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });
});

describe('alarm topic', () => {
  it('exists without subscriptions unless alarmEmail is given', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    templateOf({ alarmEmail: 'ops@example.com' }).hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: Match.anyValue(),
    });
  });

  it("lets this stack's CloudWatch alarms publish despite its TLS-only policy", () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': '123456789012' } }),
          }),
        ]),
      },
    });
  });
});

describe('dashboard', () => {
  it('shows events by type, forwards, queue depths, latency and audio bytes', () => {
    const dashboards = Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(
      template.toJSON().Resources[logicalId(template, 'AWS::CloudWatch::Dashboard', 'Dashboard')].Properties.DashboardBody,
    );
    for (const title of ['Events by type', 'CRM forwards', 'Retry queue and dead-letter queue', 'Latency (ms)', 'Audio']) {
      expect(body).toContain(title);
    }
    for (const metric of [
      'EventsReceived',
      'CrmForwardSucceeded',
      'CrmForwardFailed',
      'CrmForwardRetried',
      'CrmForwardQueued',
      'ApproximateNumberOfMessagesVisible',
      'Latency',
      'AudioBytes',
    ]) {
      expect(body).toContain(`\\"${metric}\\"`);
    }
  });
});

describe('outputs', () => {
  it('gives the webhook URL, secret ARN, bucket, topic and both queue URLs', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining([
        'WebhookUrl',
        'SecretArn',
        'AudioBucketName',
        'AlarmTopicArn',
        'RetryQueueUrl',
        'DlqUrl',
        'ElevenLabsApiKeySecretArn',
        'AudioCheckQueueUrl',
        'AudioCheckDlqUrl',
        'AudioWorkerLogGroup',
      ]),
    );
    expect(JSON.stringify(outputs.WebhookUrl!.Value)).toMatch(/execute-api\.ap-southeast-2\..*\/webhooks\/elevenlabs"/);
    expect(outputs.SecretArn!.Value).toEqual(ref(logicalId(template, 'AWS::SecretsManager::Secret', 'WebhookSecret')));
    expect(outputs.AudioBucketName!.Value).toEqual(ref(logicalId(template, 'AWS::S3::Bucket', 'AudioBucket')));
    expect(outputs.AlarmTopicArn!.Value).toEqual(ref(logicalId(template, 'AWS::SNS::Topic', 'AlarmTopic')));
    expect(outputs.RetryQueueUrl!.Value).toEqual(ref(logicalId(template, 'AWS::SQS::Queue', 'CrmRetryQueue')));
    expect(outputs.DlqUrl!.Value).toEqual(ref(logicalId(template, 'AWS::SQS::Queue', 'CrmDeadLetterQueue')));
  });
});

describe('props', () => {
  it('passes the optional receiver settings through under lambda/config/receiver-config.ts names', () => {
    const t = templateOf({
      crmWebhookUrl: 'https://crm.example.com/hook',
      allowedSourceIps: 'elevenlabs, 203.0.113.0/24',
      allowedAgentIds: ['agent_a', 'agent_b'],
      crmDefaultSubject: 'Sales call',
      crmSubjectsByAgent: { agent_a: 'Renewals' },
      reservedConcurrency: 20,
      logRetentionDays: 30,
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('receiver'),
      ReservedConcurrentExecutions: 20,
      Environment: {
        Variables: Match.objectLike({
          CRM_WEBHOOK_URL: 'https://crm.example.com/hook',
          ALLOWED_SOURCE_IPS: 'elevenlabs,203.0.113.0/24',
          ALLOWED_AGENT_IDS: 'agent_a,agent_b',
          CRM_DEFAULT_SUBJECT: 'Sales call',
          CRM_SUBJECTS_BY_AGENT: '{"agent_a":"Renewals"}',
        }),
      },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('retry worker'),
      Environment: { Variables: Match.objectLike({ CRM_WEBHOOK_URL: 'https://crm.example.com/hook' }) },
    });
    // The call check builds records too: the same CRM and mapping settings and agents, not the receiver's source allowlist.
    const worker = Object.values(resourcesOf(t, 'AWS::Lambda::Function')).find((f) =>
      String(f.Properties?.Description).includes('call check'),
    );
    const workerEnv = (worker?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
    expect(workerEnv).toMatchObject({
      CRM_WEBHOOK_URL: 'https://crm.example.com/hook',
      CRM_DEFAULT_SUBJECT: 'Sales call',
      CRM_SUBJECTS_BY_AGENT: '{"agent_a":"Renewals"}',
      ALLOWED_AGENT_IDS: 'agent_a,agent_b',
    });
    expect(Object.keys(workerEnv)).not.toContain('ALLOWED_SOURCE_IPS');
    // The reconciler leaves other agents' conversations alone, or it would deliver every one of them (contract §12).
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('reconciler'),
      Environment: { Variables: Match.objectLike({ ALLOWED_AGENT_IDS: 'agent_a,agent_b' }) },
    });
    expect(Object.values(resourcesOf(t, 'AWS::Logs::LogGroup')).map((g) => g.Properties?.RetentionInDays)).toEqual([
      30, 30, 30, 30, 30, 30,
    ]);
  });

  it('sets CRM_NAME_FIELDS and CRM_DEFAULT_COUNTRY only when given, as the receiver reads them', () => {
    const t = templateOf({ crmNameFields: ['contact_name', ' Patient Name '], crmDefaultCountry: 'nz' });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('receiver'),
      Environment: { Variables: Match.objectLike({ CRM_NAME_FIELDS: 'contact_name,Patient Name', CRM_DEFAULT_COUNTRY: 'NZ' }) },
    });
    const receiverVariables = (tpl: Template) =>
      Object.values(resourcesOf(tpl, 'AWS::Lambda::Function'))
        .filter((f) => String(f.Properties?.Description).startsWith('ElevenLabs post-call webhook receiver'))
        .map((f) => Object.keys((f.Properties?.Environment as { Variables: object } | undefined)?.Variables ?? {}));
    // The defaults live in lambda/config/receiver-config.ts: the default stack sets neither variable.
    const defaults = receiverVariables(template);
    expect(defaults).toHaveLength(1);
    expect(defaults[0]).not.toContain('CRM_NAME_FIELDS');
    expect(defaults[0]).not.toContain('CRM_DEFAULT_COUNTRY');
  });

  it('sets CRM_NUMBER_FIELDS and CRM_VOICEMAIL_PHRASES only when given, as the receiver reads them', () => {
    const t = templateOf({
      crmNumberFields: [' lead_phone', 'WhatsApp Number'],
      crmVoicemailPhrases: ['buzón personal ', "l'abonné est absent"],
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('receiver'),
      Environment: {
        Variables: Match.objectLike({
          CRM_NUMBER_FIELDS: 'lead_phone,WhatsApp Number',
          CRM_VOICEMAIL_PHRASES: "buzón personal,l'abonné est absent",
        }),
      },
    });
    const receiver = Object.values(resourcesOf(template, 'AWS::Lambda::Function')).find((f) =>
      String(f.Properties?.Description).includes('receiver'),
    );
    const defaults = Object.keys((receiver?.Properties?.Environment as { Variables?: object } | undefined)?.Variables ?? {});
    expect(defaults).toContain('CRM_WEBHOOK_URL');
    expect(defaults).not.toContain('CRM_NUMBER_FIELDS');
    expect(defaults).not.toContain('CRM_VOICEMAIL_PHRASES');
  });

  it.each([
    [{ crmNameFields: ['name', 'contact.name'] }, /crmNameFields must be a comma list of field names/],
    [{ crmNumberFields: ['phone', 'contact.phone'] }, /crmNumberFields must be a comma list of field names/],
    [{ crmNumberFields: ['phone,mobile'] }, /crmNumberFields must hold one field name per entry/],
    [{ crmVoicemailPhrases: ['leave (a|your)+ message'] }, /crmVoicemailPhrases must be a comma list of phrases/],
    [{ crmVoicemailPhrases: ['a'] }, /crmVoicemailPhrases must be a comma list of phrases/],
    [{ crmVoicemailPhrases: ['leave a note, ring back'] }, /crmVoicemailPhrases must hold one phrase per entry/],
    [{ crmVoicemailPhrases: Array.from({ length: 65 }, (_, i) => `phrase ${i}`) }, /crmVoicemailPhrases must name at most 64 phrases/],
    [{ crmNameFields: ['first_name,last_name'] }, /crmNameFields must hold one field name per entry/],
    [{ crmDefaultCountry: 'Australia' }, /crmDefaultCountry must be an ISO 3166 alpha-2 country code/],
    [{ crmDefaultCountry: 'ZZ' }, /crmDefaultCountry must be an ISO 3166 alpha-2 country code/],
    [{ crmWebhookUrl: 'ftp://crm.example.com' }, /crmWebhookUrl/],
    [{ allowedSourceIps: 'elevenlabs,not-an-ip' }, /allowedSourceIps: "not-an-ip"/],
    [{ alarmEmail: 'ops' }, /alarmEmail/],
    [{ audioRetentionDays: 0 }, /audioRetentionDays/],
    [{ archiveAfterDays: 0 }, /archiveAfterDays/],
    [{ archiveAfterDays: 365 }, /archiveAfterDays .*below audioRetentionDays \(365\)/],
    [{ noTrafficHours: 0 }, /noTrafficHours/],
    [{ noTrafficHours: 169 }, /noTrafficHours must be a whole number of hours from 1 to 168/],
    [{ runbookUrl: 'javascript:alert(1)' }, /runbookUrl/],
    [{ elevenLabsApiBaseUrl: 'http://api.elevenlabs.io' }, /elevenLabsApiBaseUrl must be an https origin/],
    [{ elevenLabsApiBaseUrl: 'https://api.elevenlabs.io/v1' }, /elevenLabsApiBaseUrl must be an https origin/],
    [{ elevenLabsApiKeySecretArn: 'my-key' }, /elevenLabsApiKeySecretArn/],
    [{ audioCheckDelaySeconds: 901 }, /audioCheckDelaySeconds must be a whole number from 0 to 900/],
    [{ reservedConcurrency: 1.5 }, /reservedConcurrency/],
    [{ logRetentionDays: 45 }, /logRetentionDays/],
    [{ webhookSecretArn: 'elevenlabs/webhook' }, /webhookSecretArn/],
    [{ receiverCodePath: '/nonexistent/receiver' }, /npm run build/],
  ])('rejects %o at synth time', (props, message) => {
    expect(() => templateOf(props)).toThrow(message);
  });
});
