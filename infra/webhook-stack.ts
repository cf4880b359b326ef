/**
 * The one stack (SPEC §9): ElevenLabs → HTTP API → receiver Lambda → CRM, with S3 for audio,
 * an SQS retry queue drained by the retry worker, a dead-letter queue, an idempotency table,
 * the webhook secret, alarms on an SNS topic and a dashboard. Every environment variable is
 * set next to the IAM grant it needs; the names are those lambda/config.ts reads.
 */
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, SecretValue, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, type CfnBucket, ObjectOwnership, StorageClass } from 'aws-cdk-lib/aws-s3';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { RETRY_MAX_RECEIVES } from '../lambda/core/retry-schedule';
import { parseNameFields } from '../lambda/core/contact-name';
import { parseDefaultCountry } from '../lambda/core/phone-number';
import { parseSourceAllowlist } from '../lambda/core/source-ip';
import { AUDIO_WORKER_TIMEOUT_MS, RECEIVER_TIMEOUT_MS, RETRY_WORKER_TIMEOUT_MS } from '../lambda/core/time-budget';
import { DEFAULT_ELEVENLABS_API_BASE_URL } from '../lambda/adapters/elevenlabs-api';
import { MAX_NO_TRAFFIC_HOURS, WebhookAlarms } from './alarms';
import { WebhookDashboard } from './dashboard';
import { NodeFunction } from './node-function';

/** SPEC §1: where CRM payloads go unless told otherwise. */
export const DEFAULT_CRM_WEBHOOK_URL = 'https://qr4h1dage6.execute-api.ap-southeast-2.amazonaws.com/crm/calls/webhook/is';
export const WEBHOOK_PATH = '/webhooks/elevenlabs';
export const DEFAULT_AUDIO_RETENTION_DAYS = 365;
/** SPEC §9: recordings and the event archive move to Glacier Instant Retrieval after this. */
export const DEFAULT_ARCHIVE_AFTER_DAYS = 30;
/** Where alarm descriptions point for their runbook entry, unless `runbookUrl` says otherwise. */
export const DEFAULT_RUNBOOK_URL = 'README.md';
export const DEFAULT_LOG_RETENTION_DAYS = 90;
/** SPEC §8: what the secret holds until someone puts ElevenLabs' secret in it (fails closed). */
export const PLACEHOLDER_SECRET_STRING = '{"hmacSecret":""}';
/** SPEC §10: what the API-key secret holds until someone puts a key in it (recovery off, AudioMissing). */
export const PLACEHOLDER_API_KEY_STRING = '{"apiKey":""}';
/** SPEC §10 AUDIO_CHECK_DELAY_SECONDS: long enough for ElevenLabs' own audio webhook to arrive first. */
export const DEFAULT_AUDIO_CHECK_DELAY_SECONDS = 600;

/**
 * Timing (lambda/core/time-budget.ts owns the figures). API Gateway HTTP APIs give an
 * integration at most 30 s (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html);
 * the Lambda stops first so its own timeout, not a gateway 503, is what gets logged.
 */
export const RECEIVER_TIMEOUT = Duration.millis(RECEIVER_TIMEOUT_MS);
export const INTEGRATION_TIMEOUT = Duration.seconds(29);
export const RETRY_WORKER_TIMEOUT = Duration.millis(RETRY_WORKER_TIMEOUT_MS);
/**
 * The retry queue's own visibility timeout: how soon a batch comes back if the worker dies
 * mid-way (at least 6× the worker's timeout, as AWS advises for SQS event sources,
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html). A record the
 * worker reports as failed is hidden for longer (lambda/core/retry-schedule.ts).
 */
export const RETRY_VISIBILITY_TIMEOUT = Duration.minutes(5);
/** SQS moves a message to the DLQ after this many receives: 26.5 h of backoff (SPEC §5: ≥ 24 h). */
export const MAX_RECEIVE_COUNT = RETRY_MAX_RECEIVES;
/**
 * The longest SQS keeps a message (14 days). A queue nobody drains pages after an hour
 * (the oldest-message alarm), long before anything expires; a DLQ message keeps its first
 * enqueue time, so the DLQ must keep messages at least as long as the source queue does
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html).
 */
export const QUEUE_RETENTION = Duration.days(14);
/**
 * Memory for a 6 MB audio event: the event body string, the parsed base64 string and the
 * decoded buffer are all held at once. Lambda allocates CPU in proportion to memory
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html), which also
 * shortens HMAC and base64 over large bodies.
 */
export const RECEIVER_MEMORY_MB = 1024;
export const RETRY_WORKER_MEMORY_MB = 256;
/**
 * The audio worker holds one upload's parts in memory (~20 MiB, lambda/adapters/recording-store.ts)
 * whatever the recording's length; 512 MB buys the CPU and network share to stream it fast.
 */
export const AUDIO_WORKER_MEMORY_MB = 512;
export const AUDIO_WORKER_TIMEOUT = Duration.millis(AUDIO_WORKER_TIMEOUT_MS);
/** ≥ 6× the audio worker's timeout (AWS guidance for SQS event sources). */
export const AUDIO_CHECK_VISIBILITY_TIMEOUT = Duration.minutes(30);
/** Stage-wide throttle: far above ElevenLabs' rate (a few webhooks per call), low enough to cap abuse. */
export const STAGE_THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

export interface WebhookStackProps extends StackProps {
  /** SPEC §1. Default: the ap-southeast-2 CRM endpoint. */
  readonly crmWebhookUrl?: string;
  /** Use an existing Secrets Manager secret instead of creating one (complete or partial ARN). */
  readonly webhookSecretArn?: string;
  /** Subscribe this address to the alarm topic (SNS sends a confirmation email first). */
  readonly alarmEmail?: string;
  /** ALLOWED_SOURCE_IPS: IPs/CIDRs and/or `elevenlabs` (their published egress IPs). Off by default. */
  readonly allowedSourceIps?: string | readonly string[];
  /** ALLOWED_AGENT_IDS: only these agents' events are processed. Off by default. */
  readonly allowedAgentIds?: readonly string[];
  /** CRM_DEFAULT_SUBJECT (SPEC §5). */
  readonly crmDefaultSubject?: string;
  /** CRM_SUBJECTS_BY_AGENT (SPEC §5): agent id → subject. */
  readonly crmSubjectsByAgent?: Readonly<Record<string, string>>;
  /** CRM_NAME_FIELDS (SPEC §5): the single name fields, replacing the default list. */
  readonly crmNameFields?: readonly string[];
  /** CRM_DEFAULT_COUNTRY (SPEC §5, §8): ISO 3166 alpha-2 country for numbers without `+`. Default AU. */
  readonly crmDefaultCountry?: string;
  /** Days a recording (and an archived event) is kept in S3. Default 365. */
  readonly audioRetentionDays?: number;
  /** Days after which recordings and archived events move to Glacier Instant Retrieval. Default 30. */
  readonly archiveAfterDays?: number;
  /** Page when no event arrived for this many hours (1–168); off by default. */
  readonly noTrafficHours?: number;
  /** Where alarm descriptions link for their runbook entry, e.g. the README's URL in your repository. */
  readonly runbookUrl?: string;
  /** Reserved concurrency for the receiver. Default: none (shares the account pool). */
  readonly reservedConcurrency?: number;
  /** Days Lambda and API access logs are kept; one of CloudWatch's allowed values. Default 90. */
  readonly logRetentionDays?: number;
  /** Folder of the receiver bundle. Default `dist/receiver`. */
  readonly receiverCodePath?: string;
  /** Folder of the retry-worker bundle. Default `dist/retry-worker`. */
  readonly retryWorkerCodePath?: string;
  /** Folder of the audio-worker bundle. Default `dist/audio-worker`. */
  readonly audioWorkerCodePath?: string;
  /** Use an existing Secrets Manager secret for the ElevenLabs API key instead of creating one. */
  readonly elevenLabsApiKeySecretArn?: string;
  /** ELEVENLABS_API_BASE_URL: the ElevenLabs API origin (data-residency workspaces use their own). */
  readonly elevenLabsApiBaseUrl?: string;
  /** AUDIO_CHECK_DELAY_SECONDS (0–900). Default 600. */
  readonly audioCheckDelaySeconds?: number;
}

const distFolder = (name: string) => fileURLToPath(new URL(`../dist/${name}`, import.meta.url));

export class WebhookStack extends Stack {
  readonly api: HttpApi;
  readonly webhookUrl: string;
  readonly secret: ISecret;
  readonly audioBucket: Bucket;
  readonly retryQueue: Queue;
  readonly deadLetterQueue: Queue;
  readonly idempotencyTable: Table;
  readonly alarmTopic: Topic;
  readonly receiver: NodeFunction;
  readonly retryWorker: NodeFunction;
  readonly audioWorker: NodeFunction;
  readonly apiKeySecret: ISecret;
  readonly audioCheckQueue: Queue;
  readonly audioCheckDeadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: WebhookStackProps = {}) {
    super(scope, id, props);
    const settings = validate(props);
    const logRetention = settings.logRetention;

    // --- Secret -------------------------------------------------------------------------
    this.secret = props.webhookSecretArn
      ? Secret.fromSecretPartialArn(this, 'WebhookSecret', props.webhookSecretArn)
      : new Secret(this, 'WebhookSecret', {
          description:
            'ElevenLabs post-call webhook HMAC secret: {"hmacSecret": "wsec_...", "previousHmacSecrets"?: [...]}. See the README, "Put the secret into Secrets Manager".',
          // A placeholder, not a secret: the receiver reads an empty hmacSecret as "not
          // configured" and answers 500 until the real one is put in (SPEC §3, fails closed).
          // CloudFormation only writes SecretString when this template value changes, so a
          // redeploy never overwrites the value put in with put-secret-value.
          secretStringValue: SecretValue.unsafePlainText(PLACEHOLDER_SECRET_STRING),
          // Holds what ElevenLabs showed once; a `cdk destroy` must not throw it away.
          removalPolicy: RemovalPolicy.RETAIN,
        });
    if (this.secret instanceof Secret) {
      Validations.of(this.secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'ElevenLabs generates the HMAC secret and shows it once when the webhook is created; AWS cannot rotate it. Rotation is manual and overlapping (previousHmacSecrets), documented in the README.',
      });
    }

    // --- Audio bucket ---------------------------------------------------------------------
    const accessLogsBucket = new Bucket(this, 'AudioAccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // Server access log delivery supports SSE-S3 only, not SSE-KMS
      // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html).
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(settings.audioRetentionDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.audioBucket = new Bucket(this, 'AudioBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogsBucket,
      serverAccessLogsPrefix: 'audio-bucket/',
      lifecycleRules: [
        {
          id: 'archive-then-expire',
          // Glacier Instant Retrieval: a twelfth of Standard's storage price, still read in
          // milliseconds. S3 does not transition objects under 128 KB by default, so small
          // archived events stay in Standard (https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html).
          transitions: [{ storageClass: StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(settings.archiveAfterDays) }],
          expiration: Duration.days(settings.audioRetentionDays),
        },
        // A recording streamed in parts that was interrupted must not linger as parts.
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      // Call recordings are business records: deleting the stack must not delete them.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // --- Retry queue and dead-letter queue ------------------------------------------------
    this.deadLetterQueue = new Queue(this, 'CrmDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // A message keeps its first enqueue time when moved to a DLQ, so the DLQ must keep it
      // longer than the source queue did (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html).
      retentionPeriod: QUEUE_RETENTION,
      // Payloads that gave up wait here for a re-drive; a `cdk destroy` must not drop them.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.retryQueue = new Queue(this, 'CrmRetryQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: QUEUE_RETENTION,
      visibilityTimeout: RETRY_VISIBILITY_TIMEOUT,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    // --- Audio-check queue and its dead-letter queue (SPEC §10) ------------------------------
    this.audioCheckDeadLetterQueue = new Queue(this, 'AudioCheckDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: QUEUE_RETENTION,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.audioCheckQueue = new Queue(this, 'AudioCheckQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: QUEUE_RETENTION,
      visibilityTimeout: AUDIO_CHECK_VISIBILITY_TIMEOUT,
      // The same backoff as CRM retries: a day of ElevenLabs API trouble before the DLQ.
      deadLetterQueue: { queue: this.audioCheckDeadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    // --- ElevenLabs API key (SPEC §10): readable by the audio worker only -----------------
    this.apiKeySecret = props.elevenLabsApiKeySecretArn
      ? Secret.fromSecretPartialArn(this, 'ElevenLabsApiKey', props.elevenLabsApiKeySecretArn)
      : new Secret(this, 'ElevenLabsApiKey', {
          description:
            'ElevenLabs API key the audio worker uses to fetch recordings the webhook could not deliver: {"apiKey": "sk_..."}; a key restricted to reading conversations is enough (README, "Recordings of any length"). Empty = recovery off.',
          secretStringValue: SecretValue.unsafePlainText(PLACEHOLDER_API_KEY_STRING),
          removalPolicy: RemovalPolicy.RETAIN,
        });
    if (this.apiKeySecret instanceof Secret) {
      Validations.of(this.apiKeySecret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'ElevenLabs issues the API key in its own console and shows it once; AWS cannot rotate it. Rotation is manual: create a new key in ElevenLabs, put it here, delete the old one.',
      });
    }

    // --- Idempotency table ----------------------------------------------------------------
    this.idempotencyTable = new Table(this, 'IdempotencyTable', {
      partitionKey: { name: 'id', type: AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Holds only `type#conversation_id` claims that expire by TTL; nothing to keep.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // --- Receiver -------------------------------------------------------------------------
    this.receiver = new NodeFunction(this, 'Receiver', {
      codePath: props.receiverCodePath ?? distFolder('receiver'),
      description: 'ElevenLabs post-call webhook receiver: verify, forward to the CRM, store audio',
      timeout: RECEIVER_TIMEOUT,
      memorySize: RECEIVER_MEMORY_MB,
      logRetention,
      ...(props.reservedConcurrency === undefined ? {} : { reservedConcurrentExecutions: props.reservedConcurrency }),
    });
    const receiver = this.receiver.function;

    // WEBHOOK_SECRET_ARN: adapters/secrets.ts calls GetSecretValue, nothing else.
    receiver.addEnvironment('WEBHOOK_SECRET_ARN', this.secret.secretArn);
    receiver.addToRolePolicy(
      new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: secretPolicyArns(this.secret, props.webhookSecretArn !== undefined) }),
    );

    // CRM_WEBHOOK_URL: an HTTPS POST, no AWS permission.
    receiver.addEnvironment('CRM_WEBHOOK_URL', settings.crmWebhookUrl);

    // CRM_RETRY_QUEUE_URL: adapters/queue.ts calls SendMessage (SSE-SQS needs no KMS grant).
    receiver.addEnvironment('CRM_RETRY_QUEUE_URL', this.retryQueue.queueUrl);
    receiver.addToRolePolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.retryQueue.queueArn] }));

    // AUDIO_BUCKET: adapters/audio-store.ts calls PutObject under audio/ (lambda/core/audio.ts).
    receiver.addEnvironment('AUDIO_BUCKET', this.audioBucket.bucketName);
    receiver.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:PutObject'], resources: [this.audioBucket.arnForObjects('audio/*')] }),
    );
    Validations.of(this.receiver.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.audioBucket.node.defaultChild as CfnBucket)}.Arn>/audio/*]`,
      reason:
        'Object keys are audio/<agent_id>/<conversation_id>.mp3, known only per request; the grant is PutObject only, on that prefix of this one bucket.',
    });

    // IDEMPOTENCY_TABLE: claim/complete/release/read records with conditional writes.
    receiver.addEnvironment('IDEMPOTENCY_TABLE', this.idempotencyTable.tableName);
    this.idempotencyTable.grant(
      receiver,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );

    // ARCHIVE_EVENTS: adapters/event-archive.ts calls PutObject under calls/ (SPEC §10).
    receiver.addEnvironment('ARCHIVE_EVENTS', 'true');
    receiver.addToRolePolicy(new PolicyStatement({ actions: ['s3:PutObject'], resources: [this.audioBucket.arnForObjects('calls/*')] }));
    Validations.of(this.receiver.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.audioBucket.node.defaultChild as CfnBucket)}.Arn>/calls/*]`,
      reason:
        'Archive keys are calls/<agent_id>/<conversation_id>/<type>.json, known only per request; the grant is PutObject only, on that prefix of this one bucket.',
    });

    // AUDIO_CHECK_QUEUE_URL: adapters/queue.ts calls SendMessage with DelaySeconds.
    receiver.addEnvironment('AUDIO_CHECK_QUEUE_URL', this.audioCheckQueue.queueUrl);
    receiver.addEnvironment('AUDIO_CHECK_DELAY_SECONDS', String(settings.audioCheckDelaySeconds));
    receiver.addToRolePolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.audioCheckQueue.queueArn] }));

    // Optional behaviour, set only when asked for (lambda/config.ts defaults otherwise).
    if (settings.allowedSourceIps !== undefined) receiver.addEnvironment('ALLOWED_SOURCE_IPS', settings.allowedSourceIps);
    if (props.allowedAgentIds?.length) receiver.addEnvironment('ALLOWED_AGENT_IDS', props.allowedAgentIds.join(','));
    if (props.crmDefaultSubject) receiver.addEnvironment('CRM_DEFAULT_SUBJECT', props.crmDefaultSubject);
    if (props.crmSubjectsByAgent && Object.keys(props.crmSubjectsByAgent).length > 0) {
      receiver.addEnvironment('CRM_SUBJECTS_BY_AGENT', JSON.stringify(props.crmSubjectsByAgent));
    }
    // Checked with the receiver's own parsers: a value that synthesises is one the receiver accepts.
    if (props.crmNameFields?.length) receiver.addEnvironment('CRM_NAME_FIELDS', checkedProp('crmNameFields', () => nameFieldsValue(props.crmNameFields!)));
    if (props.crmDefaultCountry !== undefined) receiver.addEnvironment('CRM_DEFAULT_COUNTRY', checkedProp('crmDefaultCountry', () => parseDefaultCountry(props.crmDefaultCountry!)));

    // --- Retry worker ---------------------------------------------------------------------
    this.retryWorker = new NodeFunction(this, 'RetryWorker', {
      codePath: props.retryWorkerCodePath ?? distFolder('retry-worker'),
      description: 'ElevenLabs webhook retry worker: re-forwards queued CRM payloads',
      timeout: RETRY_WORKER_TIMEOUT,
      memorySize: RETRY_WORKER_MEMORY_MB,
      logRetention,
    });
    const retryWorker = this.retryWorker.function;
    retryWorker.addEnvironment('CRM_WEBHOOK_URL', settings.crmWebhookUrl);

    // CRM_RETRY_QUEUE_URL: the queue it drains; a failed record's visibility is lengthened
    // there (ChangeMessageVisibility, granted with the event source below).
    retryWorker.addEnvironment('CRM_RETRY_QUEUE_URL', this.retryQueue.queueUrl);

    // CRM_DEAD_LETTER_QUEUE_URL: a permanent 4xx goes to the DLQ at once (SendMessage only).
    retryWorker.addEnvironment('CRM_DEAD_LETTER_QUEUE_URL', this.deadLetterQueue.queueUrl);
    retryWorker.addToRolePolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
    );

    // The event source grants Receive/Delete/ChangeMessageVisibility/GetQueueAttributes on
    // the retry queue. ReportBatchItemFailures: only the records the worker names come back
    // (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
    // maxConcurrency 2 (the minimum) caps a recovering CRM at 20 forwards in flight.
    retryWorker.addEventSource(
      new SqsEventSource(this.retryQueue, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: 2 }),
    );

    // --- Audio worker (SPEC §10) ----------------------------------------------------------
    this.audioWorker = new NodeFunction(this, 'AudioWorker', {
      codePath: props.audioWorkerCodePath ?? distFolder('audio-worker'),
      description: 'ElevenLabs audio worker: recovers recordings the webhook could not deliver, streamed from the ElevenLabs API',
      timeout: AUDIO_WORKER_TIMEOUT,
      memorySize: AUDIO_WORKER_MEMORY_MB,
      logRetention,
    });
    const audioWorker = this.audioWorker.function;

    // AUDIO_BUCKET: HeadObject (s3:GetObject), the multipart upload and the metadata copy onto
    // itself (s3:PutObject, s3:GetObject as the copy source), AbortMultipartUpload; audio/ only.
    audioWorker.addEnvironment('AUDIO_BUCKET', this.audioBucket.bucketName);
    audioWorker.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
        resources: [this.audioBucket.arnForObjects('audio/*')],
      }),
    );
    Validations.of(this.audioWorker.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.audioBucket.node.defaultChild as CfnBucket)}.Arn>/audio/*]`,
      reason:
        'Recording keys are audio/<agent_id>/<conversation_id>.mp3, known only per message; the grant covers reading, writing and aborting uploads on that prefix of this one bucket, never deleting.',
    });

    // ELEVENLABS_API_KEY_SECRET_ARN: GetSecretValue on that secret; the receiver gets no grant to it.
    audioWorker.addEnvironment('ELEVENLABS_API_KEY_SECRET_ARN', this.apiKeySecret.secretArn);
    audioWorker.addToRolePolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: secretPolicyArns(this.apiKeySecret, props.elevenLabsApiKeySecretArn !== undefined),
      }),
    );

    // ELEVENLABS_API_BASE_URL: an HTTPS GET, no AWS permission.
    audioWorker.addEnvironment('ELEVENLABS_API_BASE_URL', settings.elevenLabsApiBaseUrl);

    // AUDIO_CHECK_QUEUE_URL: the queue it drains; failed checks get a longer visibility there
    // (ChangeMessageVisibility, granted with the event source). One recording per invocation.
    audioWorker.addEnvironment('AUDIO_CHECK_QUEUE_URL', this.audioCheckQueue.queueUrl);
    audioWorker.addEventSource(
      new SqsEventSource(this.audioCheckQueue, { batchSize: 1, reportBatchItemFailures: true, maxConcurrency: 4 }),
    );

    // --- HTTP API -------------------------------------------------------------------------
    this.api = new HttpApi(this, 'HttpApi', {
      apiName: `${this.stackName}-webhooks`,
      description: 'ElevenLabs post-call webhooks',
      // Our own $default stage below carries throttling and access logs.
      createDefaultStage: false,
    });
    this.api.addRoutes({
      path: WEBHOOK_PATH,
      methods: [HttpMethod.POST],
      // Payload format 2.0 (lambda/adapters/api-gateway.ts reads both 1.0 and 2.0).
      integration: new HttpLambdaIntegration('ReceiverIntegration', receiver, { timeout: INTEGRATION_TIMEOUT }),
    });
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: logRetention, removalPolicy: RemovalPolicy.RETAIN });
    const stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: STAGE_THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        // No headers or body: the signature and personal data stay out of the access log.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationStatus: '$context.integrationStatus',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            userAgent: '$context.identity.userAgent',
          }),
        ),
      },
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'ElevenLabs cannot send IAM, JWT or Cognito credentials; each request is authenticated in the receiver by its HMAC ElevenLabs-Signature (SPEC §3) before anything else happens.',
    });
    this.webhookUrl = `${stage.url.replace(/\/$/, '')}${WEBHOOK_PATH}`;

    // --- Alarms, dashboard ----------------------------------------------------------------
    this.alarmTopic = new Topic(this, 'AlarmTopic', { displayName: 'ElevenLabs webhook alarms', enforceSSL: true });
    // enforceSSL gives the topic a policy of its own, which replaces SNS's default policy that
    // let the account (and so CloudWatch acting for it) publish. Without this statement the
    // alarms change state but no notification is sent. Scoped to this stack's alarms
    // (https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html).
    this.alarmTopic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowThisStacksAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: { 'aws:SourceArn': `arn:${this.partition}:cloudwatch:${this.region}:${this.account}:alarm:${this.stackName}-*` },
        },
      }),
    );
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    const alarms = new WebhookAlarms(this, 'Alarms', {
      topic: this.alarmTopic,
      api: this.api,
      receiver,
      retryWorker,
      retryQueue: this.retryQueue,
      deadLetterQueue: this.deadLetterQueue,
      audioWorker,
      audioCheckDeadLetterQueue: this.audioCheckDeadLetterQueue,
      runbookUrl: settings.runbookUrl,
      ...(props.noTrafficHours === undefined ? {} : { noTrafficHours: props.noTrafficHours }),
    });
    const dashboard = new WebhookDashboard(this, 'Dashboard', {
      api: this.api,
      receiver,
      retryWorker,
      retryQueue: this.retryQueue,
      deadLetterQueue: this.deadLetterQueue,
      alarms: alarms.alarms,
    });

    // --- Outputs --------------------------------------------------------------------------
    new CfnOutput(this, 'WebhookUrl', { value: this.webhookUrl, description: 'Paste into ElevenLabs: Agents Platform → Settings → Post-call webhook' });
    new CfnOutput(this, 'SecretArn', { value: this.secret.secretArn, description: 'Put the ElevenLabs webhook secret here (README, "Put the secret into Secrets Manager")' });
    new CfnOutput(this, 'AudioBucketName', { value: this.audioBucket.bucketName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
    new CfnOutput(this, 'RetryQueueUrl', { value: this.retryQueue.queueUrl });
    new CfnOutput(this, 'DlqUrl', { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'DashboardName', { value: dashboard.dashboard.dashboardName });
    // Where the runbook's Logs Insights queries look (README, "Runbook").
    new CfnOutput(this, 'ReceiverLogGroup', { value: this.receiver.logGroup.logGroupName });
    new CfnOutput(this, 'RetryWorkerLogGroup', { value: this.retryWorker.logGroup.logGroupName });
    new CfnOutput(this, 'AudioWorkerLogGroup', { value: this.audioWorker.logGroup.logGroupName });
    new CfnOutput(this, 'ElevenLabsApiKeySecretArn', {
      value: this.apiKeySecret.secretArn,
      description: 'Put an ElevenLabs API key that can read conversations here, to recover recordings (README, "Recordings of any length")',
    });
    new CfnOutput(this, 'AudioCheckQueueUrl', { value: this.audioCheckQueue.queueUrl });
    new CfnOutput(this, 'AudioCheckDlqUrl', { value: this.audioCheckDeadLetterQueue.queueUrl });
    new CfnOutput(this, 'ApiAccessLogGroup', { value: accessLogs.logGroupName });
  }
}

interface Settings {
  crmWebhookUrl: string;
  elevenLabsApiBaseUrl: string;
  audioCheckDelaySeconds: number;
  allowedSourceIps?: string;
  audioRetentionDays: number;
  archiveAfterDays: number;
  runbookUrl: string;
  logRetention: RetentionDays;
}

/** Fails the synth with the prop's name, before anything reaches CloudFormation. */
function validate(props: WebhookStackProps): Settings {
  const crmWebhookUrl = props.crmWebhookUrl ?? DEFAULT_CRM_WEBHOOK_URL;
  if (!/^https?:\/\/[^\s/]+/.test(crmWebhookUrl) || !URL.canParse(crmWebhookUrl)) {
    throw new Error(`crmWebhookUrl must be an http(s) URL, got "${crmWebhookUrl}"`);
  }
  if (props.webhookSecretArn !== undefined && !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+/.test(props.webhookSecretArn)) {
    throw new Error('webhookSecretArn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)');
  }
  if (props.alarmEmail !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(props.alarmEmail)) {
    throw new Error(`alarmEmail must be an email address, got "${props.alarmEmail}"`);
  }
  let allowedSourceIps: string | undefined;
  if (props.allowedSourceIps !== undefined) {
    allowedSourceIps = (typeof props.allowedSourceIps === 'string' ? props.allowedSourceIps.split(',') : [...props.allowedSourceIps])
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '')
      .join(',');
    try {
      // The receiver's own parser: what synthesises is what the receiver will accept.
      parseSourceAllowlist(allowedSourceIps);
    } catch (error) {
      throw new Error(`allowedSourceIps: ${(error as Error).message}`);
    }
  }
  const audioRetentionDays = props.audioRetentionDays ?? DEFAULT_AUDIO_RETENTION_DAYS;
  if (!Number.isInteger(audioRetentionDays) || audioRetentionDays < 1) {
    throw new Error(`audioRetentionDays must be a whole number of days ≥ 1, got ${audioRetentionDays}`);
  }
  const archiveAfterDays = props.archiveAfterDays ?? DEFAULT_ARCHIVE_AFTER_DAYS;
  if (!Number.isInteger(archiveAfterDays) || archiveAfterDays < 1 || archiveAfterDays >= audioRetentionDays) {
    throw new Error(`archiveAfterDays must be a whole number of days ≥ 1 and below audioRetentionDays (${audioRetentionDays}), got ${archiveAfterDays}`);
  }
  if (props.noTrafficHours !== undefined && (!Number.isInteger(props.noTrafficHours) || props.noTrafficHours < 1 || props.noTrafficHours > MAX_NO_TRAFFIC_HOURS)) {
    throw new Error(`noTrafficHours must be a whole number of hours from 1 to ${MAX_NO_TRAFFIC_HOURS}, got ${props.noTrafficHours}`);
  }
  const elevenLabsApiBaseUrl = (props.elevenLabsApiBaseUrl ?? DEFAULT_ELEVENLABS_API_BASE_URL).replace(/\/+$/, '');
  if (!/^https:\/\/[^\s/]+$/.test(elevenLabsApiBaseUrl)) {
    throw new Error(`elevenLabsApiBaseUrl must be an https origin such as https://api.elevenlabs.io, got "${elevenLabsApiBaseUrl}"`);
  }
  if (props.elevenLabsApiKeySecretArn !== undefined && !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+/.test(props.elevenLabsApiKeySecretArn)) {
    throw new Error('elevenLabsApiKeySecretArn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)');
  }
  const audioCheckDelaySeconds = props.audioCheckDelaySeconds ?? DEFAULT_AUDIO_CHECK_DELAY_SECONDS;
  if (!Number.isInteger(audioCheckDelaySeconds) || audioCheckDelaySeconds < 0 || audioCheckDelaySeconds > 900) {
    throw new Error(`audioCheckDelaySeconds must be a whole number from 0 to 900 (SQS DelaySeconds), got ${audioCheckDelaySeconds}`);
  }
  const runbookUrl = props.runbookUrl ?? DEFAULT_RUNBOOK_URL;
  if (runbookUrl !== DEFAULT_RUNBOOK_URL && !/^https:\/\/\S+$/.test(runbookUrl)) {
    throw new Error(`runbookUrl must be an https URL of the README, got "${runbookUrl}"`);
  }
  if (props.reservedConcurrency !== undefined && (!Number.isInteger(props.reservedConcurrency) || props.reservedConcurrency < 1)) {
    throw new Error(`reservedConcurrency must be a whole number ≥ 1, got ${props.reservedConcurrency}`);
  }
  const logRetentionDays = props.logRetentionDays ?? DEFAULT_LOG_RETENTION_DAYS;
  const allowed = Object.values(RetentionDays).filter((v): v is RetentionDays => typeof v === 'number' && v > 0);
  if (!allowed.includes(logRetentionDays as RetentionDays)) {
    throw new Error(`logRetentionDays must be one of CloudWatch Logs' values (${allowed.join(', ')}), got ${logRetentionDays}`);
  }
  return {
    crmWebhookUrl,
    elevenLabsApiBaseUrl,
    audioCheckDelaySeconds,
    ...(allowedSourceIps === undefined ? {} : { allowedSourceIps }),
    audioRetentionDays,
    archiveAfterDays,
    runbookUrl,
    logRetention: logRetentionDays as RetentionDays,
  };
}

/**
 * The ARNs to grant GetSecretValue on. A secret we create is named by its complete ARN. An
 * imported one may be given complete or partial (without the 6-character suffix Secrets
 * Manager appends), and a name can itself end in 6 characters after a dash, so neither can be
 * told from the other: grant the ARN as given and the ARN followed by `-??????`, the pattern
 * the Secrets Manager docs give for matching a secret by name in a policy
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_iam-policies.html).
 */
function secretPolicyArns(secret: ISecret, imported: boolean): string[] {
  return imported ? [secret.secretArn, `${secret.secretArn}-??????`] : [secret.secretArn];
}

/** Runs one of the receiver's parsers on a prop; its error names the prop (never the value). */
function checkedProp(name: string, parse: () => string): string {
  try {
    return parse();
  } catch (error) {
    throw new Error(`${name} ${(error as Error).message}`);
  }
}

/** CRM_NAME_FIELDS is a comma list, so one entry must be one field name (no commas inside). */
function nameFieldsValue(fields: readonly string[]): string {
  const entries = fields.map((field) => field.trim()).filter((field) => field !== '');
  const parsed = parseNameFields(entries.join(','));
  if (parsed.length !== entries.length) throw new Error('must hold one field name per entry');
  return parsed.join(',');
}
