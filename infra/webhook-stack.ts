/**
 * The one stack (contract §9): ElevenLabs → HTTP API → receiver Lambda → CRM, with the calls
 * bucket for recordings and the event archive, an SQS retry queue drained by the retry worker,
 * an audio-check queue drained by the audio worker, their dead-letter queues, an idempotency
 * table, the webhook secret and the ElevenLabs API key, alarms on an SNS topic and a
 * dashboard. Every environment variable is set with the IAM grant it needs (infra/bindings.ts);
 * the names are those lambda/config/ reads.
 */
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, SecretValue, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, StorageClass } from 'aws-cdk-lib/aws-s3';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ARCHIVE_PREFIX, AUDIO_PREFIX, FIRST_RUN_KEY } from '../lambda/core/storage-keys';
import { AUDIO_WORKER_TIMEOUT_MS, RECEIVER_TIMEOUT_MS, RECONCILER_TIMEOUT_MS, RETRY_WORKER_TIMEOUT_MS } from '../lambda/core/time-budget';
import { WebhookAlarms } from './alarms';
import {
  bindBucketListing,
  bindBucketObject,
  bindBucketPrefix,
  bindQueueConsumer,
  bindQueueSender,
  bindSecret,
  bindTable,
  bindValue,
} from './bindings';
import { CompileCacheLayer } from './compile-cache-layer';
import { WebhookDashboard } from './dashboard';
import { NodeFunction } from './node-function';
import { queueWithDeadLetters } from './queues';
import { type StackSettings, settingsOf } from './stack-settings';
import { TextBack } from './text-back';
import { WEBHOOK_PATH } from './webhook-path';

/** contract §8: what the secret holds until someone puts ElevenLabs' secret in it (fails closed). */
export const PLACEHOLDER_SECRET_STRING = '{"hmacSecret":""}';
/** contract §10: what the API-key secret holds until someone puts a key in it (recovery off, AudioMissing). */
export const PLACEHOLDER_API_KEY_STRING = '{"apiKey":""}';

/**
 * Timing (lambda/core/time-budget.ts owns the figures). API Gateway HTTP APIs give an
 * integration at most 30 s (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html);
 * the Lambda stops first so its own timeout, not a gateway 503, is what gets logged.
 */
export const RECEIVER_TIMEOUT = Duration.millis(RECEIVER_TIMEOUT_MS);
const INTEGRATION_TIMEOUT = Duration.seconds(29);
export const RETRY_WORKER_TIMEOUT = Duration.millis(RETRY_WORKER_TIMEOUT_MS);
/**
 * The retry queue's own visibility timeout: how soon a batch comes back if the worker dies
 * mid-way (at least 6× the worker's timeout, as AWS advises for SQS event sources,
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html). A record the
 * worker reports as failed is hidden for longer (lambda/core/retry-schedule.ts).
 */
export const RETRY_VISIBILITY_TIMEOUT = Duration.minutes(5);
export { MAX_RECEIVE_COUNT, QUEUE_RETENTION } from './queues';

/**
 * Memory for a 6 MB audio event: the event body string, the parsed base64 string and the
 * decoded buffer are all held at once. Lambda allocates CPU in proportion to memory
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html), which also
 * shortens HMAC and base64 over large bodies.
 */
const RECEIVER_MEMORY_MB = 1024;
const RETRY_WORKER_MEMORY_MB = 256;
/**
 * The audio worker holds one upload's parts in memory (~20 MiB, lambda/adapters/recording-store.ts)
 * whatever the recording's length; 512 MB buys the CPU and network share to stream it fast.
 */
const AUDIO_WORKER_MEMORY_MB = 512;
const AUDIO_WORKER_TIMEOUT = Duration.millis(AUDIO_WORKER_TIMEOUT_MS);
/** ≥ 6× the audio worker's timeout (AWS guidance for SQS event sources). */
const AUDIO_CHECK_VISIBILITY_TIMEOUT = Duration.minutes(30);
/** The reconciler pages and sends messages; it holds one page at a time (contract §12). */
export const RECONCILER_MEMORY_MB = 256;
const RECONCILER_TIMEOUT = Duration.millis(RECONCILER_TIMEOUT_MS);
/** The idempotency table's item actions: claim, complete, release and read records with conditional writes. */
/** Claim (conditional PutItem, GetItem), complete (PutItem over the claim), release (conditional DeleteItem): lambda/adapters/idempotency-store.ts. */
const IDEMPOTENCY_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'] as const;
/** Stage-wide throttle: far above ElevenLabs' rate (a few webhooks per call), low enough to cap abuse. */
const STAGE_THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

export interface WebhookStackProps extends StackProps {
  /** contract §1. Default: the ap-southeast-2 CRM endpoint. */
  readonly crmWebhookUrl?: string;
  /** Use an existing Secrets Manager secret instead of creating one (complete or partial ARN). */
  readonly webhookSecretArn?: string;
  /** Subscribe this address to the alarm topic (SNS sends a confirmation email first). */
  readonly alarmEmail?: string;
  /** ALLOWED_SOURCE_IPS: IPs/CIDRs and/or `elevenlabs` (their published egress IPs). Off by default. */
  readonly allowedSourceIps?: string | readonly string[];
  /** ALLOWED_AGENT_IDS: only these agents' events are processed. Off by default. */
  readonly allowedAgentIds?: readonly string[];
  /** CRM_DEFAULT_SUBJECT (contract §5). */
  readonly crmDefaultSubject?: string;
  /** CRM_SUBJECTS_BY_AGENT (contract §5): agent id → subject. */
  readonly crmSubjectsByAgent?: Readonly<Record<string, string>>;
  /** CRM_NAME_FIELDS (contract §5): the single name fields, replacing the default list. */
  readonly crmNameFields?: readonly string[];
  /** CRM_NUMBER_FIELDS (contract §5): the number fields `to` is read from, replacing the default list. */
  readonly crmNumberFields?: readonly string[];
  /** CRM_VOICEMAIL_PHRASES (contract §5): greeting phrases added to the built-in ones. */
  readonly crmVoicemailPhrases?: readonly string[];
  /** CRM_DEFAULT_COUNTRY (contract §5, §8): ISO 3166 alpha-2 country for numbers without `+`. Default AU. */
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
  /** contract §12: how often the reconciler runs, in minutes (5–1440). Default 60. */
  readonly reconcileEveryMinutes?: number;
  /** RECONCILE_LOOKBACK_HOURS (1–720). Default 48. */
  readonly reconcileLookbackHours?: number;
  /** RECONCILE_SETTLE_MINUTES (5–1440). Default 30. */
  readonly reconcileSettleMinutes?: number;
  /** Folder of the reconciler bundle. Default `dist/reconciler`. */
  readonly reconcilerCodePath?: string;
  /** contract §13: turns the missed-call text-back on. A phone number id or pool id, or the ARN of a phone number, pool or sender id. */
  readonly smsOriginationIdentity?: string;
  /** SMS_TEMPLATE: required with smsOriginationIdentity; `{name}`, `{subject}`, and STOP. */
  readonly smsTemplate?: string;
  /** SMS_TIMEZONE (IANA). Default Australia/Sydney. */
  readonly smsTimezone?: string;
  /** SMS_QUIET_HOURS (`HH:MM-HH:MM`). Default 21:00-08:00. */
  readonly smsQuietHours?: string;
  /** SMS_CONFIGURATION_SET: a configuration set name or ARN. */
  readonly smsConfigurationSet?: string;
  /** Folder of the SMS-worker bundle. Default `dist/sms-worker`. */
  readonly smsWorkerCodePath?: string;
  /** SPEC §14: make the receiver's compile cache at deploy time and give it to the receiver as a layer. Default true. */
  readonly compileCache?: boolean;
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
  /** SPEC §14: the layer builder and the layer; undefined with `compileCache: false`. */
  readonly compileCache?: CompileCacheLayer;
  readonly retryWorker: NodeFunction;
  readonly audioWorker: NodeFunction;
  readonly apiKeySecret: ISecret;
  readonly audioCheckQueue: Queue;
  readonly audioCheckDeadLetterQueue: Queue;
  readonly reconciler: NodeFunction;
  /** contract §13: the SMS queue, its DLQ and the SMS worker; undefined when texting is off. */
  readonly textBack?: TextBack;

  constructor(scope: Construct, id: string, props: WebhookStackProps = {}) {
    super(scope, id, props);
    const settings = settingsOf(props);

    this.secret = this.webhookSecret(props.webhookSecretArn);
    this.apiKeySecret = this.elevenLabsApiKeySecret(props.elevenLabsApiKeySecretArn);
    this.audioBucket = this.callsBucket(settings);
    // The same backoff for both queues: a day of failures before the DLQ (contract §5, §10).
    [this.retryQueue, this.deadLetterQueue] = this.queueWithDeadLetters('CrmRetryQueue', 'CrmDeadLetterQueue', RETRY_VISIBILITY_TIMEOUT);
    [this.audioCheckQueue, this.audioCheckDeadLetterQueue] = this.queueWithDeadLetters(
      'AudioCheckQueue',
      'AudioCheckDeadLetterQueue',
      AUDIO_CHECK_VISIBILITY_TIMEOUT,
    );
    this.idempotencyTable = new Table(this, 'IdempotencyTable', {
      partitionKey: { name: 'id', type: AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Holds only `type#conversation_id` claims that expire by TTL; nothing to keep.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.receiver = this.receiverFunction(props, settings);
    this.compileCache = props.compileCache === false ? undefined : this.compileCacheLayer(props, settings);
    this.retryWorker = this.retryWorkerFunction(props, settings);
    this.audioWorker = this.audioWorkerFunction(props, settings);
    this.reconciler = this.reconcilerFunction(props, settings);
    // contract §13, only when texting is on: the receiver and the call check queue text-backs.
    const { textBack } = settings;
    this.textBack =
      textBack &&
      new TextBack(this, 'TextBack', {
        settings: textBack,
        idempotencyTable: this.idempotencyTable,
        logRetention: settings.logRetention,
        codePath: props.smsWorkerCodePath ?? distFolder('sms-worker'),
      });
    for (const fn of [this.receiver, this.audioWorker]) this.textBack?.bindTrigger(fn);
    const { api, webhookUrl, accessLogs } = this.httpApi(this.receiver, settings);
    this.api = api;
    this.webhookUrl = webhookUrl;
    this.alarmTopic = this.alarmTopicFor(props.alarmEmail);

    const alarms = new WebhookAlarms(this, 'Alarms', {
      topic: this.alarmTopic,
      api: this.api,
      receiver: this.receiver.function,
      retryWorker: this.retryWorker.function,
      retryQueue: this.retryQueue,
      deadLetterQueue: this.deadLetterQueue,
      audioWorker: this.audioWorker.function,
      audioCheckDeadLetterQueue: this.audioCheckDeadLetterQueue,
      reconciler: this.reconciler.function,
      runbookUrl: settings.runbookUrl,
      textBack: this.textBack,
      ...(props.noTrafficHours === undefined ? {} : { noTrafficHours: props.noTrafficHours }),
    });
    const dashboard = new WebhookDashboard(this, 'Dashboard', {
      api: this.api,
      receiver: this.receiver.function,
      retryWorker: this.retryWorker.function,
      retryQueue: this.retryQueue,
      deadLetterQueue: this.deadLetterQueue,
      alarms: alarms.alarms,
    });
    this.addOutputs(dashboard, accessLogs);
  }

  /** contract §3, §8: ElevenLabs' HMAC secret, created with a placeholder unless an ARN is given. */
  private webhookSecret(importedArn: string | undefined): ISecret {
    return this.ownedOrImportedSecret('WebhookSecret', importedArn, {
      description:
        'ElevenLabs post-call webhook HMAC secret: {"hmacSecret": "wsec_...", "previousHmacSecrets"?: [...]}. See the README, "Put the secret into Secrets Manager".',
      // A placeholder, not a secret: the receiver reads an empty hmacSecret as "not
      // configured" and answers 500 until the real one is put in (contract §3, fails closed).
      placeholder: PLACEHOLDER_SECRET_STRING,
      rotation:
        'ElevenLabs generates the HMAC secret and shows it once when the webhook is created; AWS cannot rotate it. Rotation is manual and overlapping (previousHmacSecrets), documented in the README.',
    });
  }

  /** contract §10: the key the audio worker (only) reads to recover recordings. */
  private elevenLabsApiKeySecret(importedArn: string | undefined): ISecret {
    return this.ownedOrImportedSecret('ElevenLabsApiKey', importedArn, {
      description:
        'ElevenLabs API key the audio worker uses to fetch recordings the webhook could not deliver: {"apiKey": "sk_..."}; a key restricted to reading conversations is enough (README, "Recordings of any length"). Empty = recovery off.',
      placeholder: PLACEHOLDER_API_KEY_STRING,
      rotation:
        'ElevenLabs issues the API key in its own console and shows it once; AWS cannot rotate it. Rotation is manual: create a new key in ElevenLabs, put it here, delete the old one.',
    });
  }

  private ownedOrImportedSecret(
    id: string,
    importedArn: string | undefined,
    options: { description: string; placeholder: string; rotation: string },
  ): ISecret {
    if (importedArn) return Secret.fromSecretPartialArn(this, id, importedArn);
    const secret = new Secret(this, id, {
      description: options.description,
      // CloudFormation only writes SecretString when this template value changes, so a
      // redeploy never overwrites the value put in with put-secret-value.
      secretStringValue: SecretValue.unsafePlainText(options.placeholder),
      // Holds what ElevenLabs showed once; a `cdk destroy` must not throw it away.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: options.rotation });
    return secret;
  }

  /** Recordings under audio/, the event archive under calls/ (contract §6, §10), with access logs. */
  private callsBucket(settings: StackSettings): Bucket {
    const privateBucket = {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
    };
    const accessLogsBucket = new Bucket(this, 'AudioAccessLogs', {
      ...privateBucket,
      // Server access log delivery supports SSE-S3 only, not SSE-KMS
      // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html).
      encryption: BucketEncryption.S3_MANAGED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(settings.audioRetentionDays) }],
    });
    return new Bucket(this, 'AudioBucket', {
      // RETAIN: call recordings are business records; deleting the stack must not delete them.
      ...privateBucket,
      encryption: BucketEncryption.S3_MANAGED,
      serverAccessLogsBucket: accessLogsBucket,
      serverAccessLogsPrefix: 'audio-bucket/',
      lifecycleRules: [
        {
          id: 'archive-then-expire',
          // Glacier Instant Retrieval: about a fifth of Standard's storage price, still read in
          // milliseconds. S3 does not transition objects under 128 KB by default, so small
          // archived events stay in Standard (https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html).
          transitions: [
            { storageClass: StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(settings.archiveAfterDays) },
          ],
          expiration: Duration.days(settings.audioRetentionDays),
        },
        // A recording streamed in parts that was interrupted must not linger as parts.
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
  }

  /** A work queue and its dead-letter queue (infra/queues.ts). */
  private queueWithDeadLetters(id: string, deadLetterId: string, visibilityTimeout: Duration): [Queue, Queue] {
    return queueWithDeadLetters(this, id, deadLetterId, visibilityTimeout);
  }

  /** contract §2–§6, §10: verify, forward to the CRM (else queue), store audio, keep the call. */
  private receiverFunction(props: WebhookStackProps, settings: StackSettings): NodeFunction {
    const receiver = new NodeFunction(this, 'Receiver', {
      codePath: props.receiverCodePath ?? distFolder('receiver'),
      description: 'ElevenLabs post-call webhook receiver: verify, forward to the CRM, store audio',
      timeout: RECEIVER_TIMEOUT,
      memorySize: RECEIVER_MEMORY_MB,
      logRetention: settings.logRetention,
      ...(props.reservedConcurrency === undefined ? {} : { reservedConcurrentExecutions: props.reservedConcurrency }),
    });
    bindSecret(receiver, 'WEBHOOK_SECRET_ARN', this.secret, props.webhookSecretArn !== undefined);
    bindValue(receiver, 'CRM_WEBHOOK_URL', settings.crmWebhookUrl);
    bindQueueSender(receiver, 'CRM_RETRY_QUEUE_URL', this.retryQueue);
    bindBucketPrefix(receiver, {
      env: { AUDIO_BUCKET: this.audioBucket.bucketName },
      bucket: this.audioBucket,
      prefix: AUDIO_PREFIX,
      actions: ['s3:PutObject'],
      why: 'Object keys are audio/<agent_id>/<conversation_id>.mp3, known only per request; the grant is PutObject only, on that prefix of this one bucket.',
    });
    bindTable(receiver, 'IDEMPOTENCY_TABLE', this.idempotencyTable, IDEMPOTENCY_ACTIONS);
    bindBucketPrefix(receiver, {
      env: { ARCHIVE_EVENTS: 'true' },
      bucket: this.audioBucket,
      prefix: ARCHIVE_PREFIX,
      actions: ['s3:PutObject', 's3:DeleteObject'],
      why: 'Archive keys are calls/<agent_id>/<conversation_id>/<type>.json, known only per request; the grant is PutObject, and DeleteObject to withdraw an event whose forward was not durable (the archive is the ledger), on that prefix of this one bucket.',
    });
    bindQueueSender(receiver, 'AUDIO_CHECK_QUEUE_URL', this.audioCheckQueue);
    bindValue(receiver, 'AUDIO_CHECK_DELAY_SECONDS', String(settings.audioCheckDelaySeconds));
    for (const [name, value] of Object.entries({ ...settings.receiverOptions, ...settings.agentOptions, ...settings.crmMappingOptions }))
      bindValue(receiver, name, value);
    return receiver;
  }

  /** SPEC §14: the receiver's compile cache, made at deploy time on its runtime (infra/compile-cache-layer.ts). */
  private compileCacheLayer(props: WebhookStackProps, settings: StackSettings): CompileCacheLayer {
    return new CompileCacheLayer(this, 'CompileCache', {
      receiver: this.receiver,
      codePath: props.receiverCodePath ?? distFolder('receiver'),
      memorySize: RECEIVER_MEMORY_MB,
      bucket: this.audioBucket,
      logRetention: settings.logRetention,
    });
  }

  /** contract §5: re-forwards queued CRM payloads with backoff; a permanent 4xx goes to the DLQ at once. */
  private retryWorkerFunction(props: WebhookStackProps, settings: StackSettings): NodeFunction {
    const worker = new NodeFunction(this, 'RetryWorker', {
      codePath: props.retryWorkerCodePath ?? distFolder('retry-worker'),
      description: 'ElevenLabs webhook retry worker: re-forwards queued CRM payloads',
      timeout: RETRY_WORKER_TIMEOUT,
      memorySize: RETRY_WORKER_MEMORY_MB,
      logRetention: settings.logRetention,
    });
    bindValue(worker, 'CRM_WEBHOOK_URL', settings.crmWebhookUrl);
    bindQueueSender(worker, 'CRM_DEAD_LETTER_QUEUE_URL', this.deadLetterQueue);
    // One CRM record per queued message however often SQS delivers it (retry#<messageId>, contract §5).
    bindTable(worker, 'IDEMPOTENCY_TABLE', this.idempotencyTable, IDEMPOTENCY_ACTIONS);
    // maxConcurrency 2 (the minimum) caps a recovering CRM at 20 forwards in flight.
    bindQueueConsumer(worker, 'CRM_RETRY_QUEUE_URL', this.retryQueue, { batchSize: 10, maxConcurrency: 2 });
    return worker;
  }

  /** contract §10: checks each call's recording is kept, and recovers it from the ElevenLabs API if not. */
  private audioWorkerFunction(props: WebhookStackProps, settings: StackSettings): NodeFunction {
    const worker = new NodeFunction(this, 'AudioWorker', {
      codePath: props.audioWorkerCodePath ?? distFolder('audio-worker'),
      description:
        "ElevenLabs call check: recovers a call's CRM record and its recording when their webhooks never arrived, from the ElevenLabs API",
      timeout: AUDIO_WORKER_TIMEOUT,
      memorySize: AUDIO_WORKER_MEMORY_MB,
      logRetention: settings.logRetention,
    });
    this.bindCallCheck(worker, settings);
    // HeadObject (s3:GetObject), the multipart upload and the metadata copy onto itself
    // (s3:PutObject, s3:GetObject as the copy source), AbortMultipartUpload.
    bindBucketPrefix(worker, {
      env: { AUDIO_BUCKET: this.audioBucket.bucketName },
      bucket: this.audioBucket,
      prefix: AUDIO_PREFIX,
      actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
      why: 'Recording keys are audio/<agent_id>/<conversation_id>.mp3, known only per message; the grant covers reading, writing and aborting uploads on that prefix of this one bucket, never deleting.',
    });
    // The receiver gets no grant to this secret.
    bindSecret(worker, 'ELEVENLABS_API_KEY_SECRET_ARN', this.apiKeySecret, props.elevenLabsApiKeySecretArn !== undefined);
    bindValue(worker, 'ELEVENLABS_API_BASE_URL', settings.elevenLabsApiBaseUrl);
    // One recording per invocation.
    bindQueueConsumer(worker, 'AUDIO_CHECK_QUEUE_URL', this.audioCheckQueue, { batchSize: 1, maxConcurrency: 4 });
    return worker;
  }

  /**
   * contract §12, the record half of the call check: read the ledger and archive a recovered
   * record under calls/, deliver it as the receiver does (the CRM, else the retry queue), claim
   * it in the idempotency table so a late webhook is deduplicated.
   */
  private bindCallCheck(worker: NodeFunction, settings: StackSettings): void {
    bindBucketPrefix(worker, {
      env: { ARCHIVE_EVENTS: 'true' },
      bucket: this.audioBucket,
      prefix: ARCHIVE_PREFIX,
      actions: ['s3:GetObject', 's3:PutObject'],
      why: 'Archive keys are calls/<agent_id>/<conversation_id>/<type>.json, known only per message; the worker reads their heads (the ledger) and writes a recovered record there, never deleting.',
    });
    bindBucketListing(worker, this.audioBucket);
    bindValue(worker, 'CRM_WEBHOOK_URL', settings.crmWebhookUrl);
    bindQueueSender(worker, 'CRM_RETRY_QUEUE_URL', this.retryQueue);
    bindTable(worker, 'IDEMPOTENCY_TABLE', this.idempotencyTable, IDEMPOTENCY_ACTIONS);
    for (const [name, value] of Object.entries({ ...settings.agentOptions, ...settings.crmMappingOptions })) bindValue(worker, name, value);
  }

  /**
   * contract §12: every `reconcileEveryMinutes` (EventBridge Scheduler), list the window's
   * conversations and send a call check for each whose record is missing. It reads heads under
   * calls/, its own marker, the API key; it sends to the audio-check queue; nothing else.
   */
  private reconcilerFunction(props: WebhookStackProps, settings: StackSettings): NodeFunction {
    const reconciler = new NodeFunction(this, 'Reconciler', {
      codePath: props.reconcilerCodePath ?? distFolder('reconciler'),
      description: 'ElevenLabs reconciler: finds the calls whose webhook never arrived and sends each a call check',
      timeout: RECONCILER_TIMEOUT,
      memorySize: RECONCILER_MEMORY_MB,
      logRetention: settings.logRetention,
    });
    bindBucketPrefix(reconciler, {
      env: { AUDIO_BUCKET: this.audioBucket.bucketName, ARCHIVE_EVENTS: 'true' },
      bucket: this.audioBucket,
      prefix: ARCHIVE_PREFIX,
      actions: ['s3:GetObject'],
      why: 'The ledger is calls/<agent_id>/<conversation_id>/<type>.json, known only per listed conversation; the grant is reading heads on that prefix of this one bucket.',
    });
    bindBucketListing(reconciler, this.audioBucket);
    bindBucketObject(reconciler, { bucket: this.audioBucket, key: FIRST_RUN_KEY, actions: ['s3:GetObject', 's3:PutObject'] });
    bindQueueSender(reconciler, 'AUDIO_CHECK_QUEUE_URL', this.audioCheckQueue);
    bindSecret(reconciler, 'ELEVENLABS_API_KEY_SECRET_ARN', this.apiKeySecret, props.elevenLabsApiKeySecretArn !== undefined);
    bindValue(reconciler, 'ELEVENLABS_API_BASE_URL', settings.elevenLabsApiBaseUrl);
    bindValue(reconciler, 'RECONCILE_LOOKBACK_HOURS', String(settings.reconcile.lookbackHours));
    bindValue(reconciler, 'RECONCILE_SETTLE_MINUTES', String(settings.reconcile.settleMinutes));
    for (const [name, value] of Object.entries(settings.agentOptions)) bindValue(reconciler, name, value);
    // A failed run is not retried: the next run lists the same window (48 h) anyway.
    reconciler.function.configureAsyncInvoke({ retryAttempts: 0 });
    // The schedule's own role, assumable by EventBridge Scheduler for this account only.
    const role = new Role(this, 'ReconcileScheduleRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': this.account } } }),
      description: 'EventBridge Scheduler: invoke the reconciler',
    });
    new Schedule(this, 'ReconcileSchedule', {
      description: 'Runs the reconciler (contract §12)',
      schedule: ScheduleExpression.rate(Duration.minutes(settings.reconcile.everyMinutes)),
      // An invocation that could not start by the next run is pointless: that run lists the same window.
      target: new LambdaInvoke(reconciler.function, {
        role,
        retryAttempts: 2,
        maxEventAge: Duration.minutes(settings.reconcile.everyMinutes),
      }),
    });
    const functionId = Stack.of(this).getLogicalId(reconciler.function.node.defaultChild as CfnFunction);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${functionId}.Arn>:*]`,
      reason:
        "aws-scheduler-targets' LambdaInvoke grants lambda:InvokeFunction on the reconciler and its versions (:*); the role can do nothing else and only EventBridge Scheduler of this account can assume it.",
    });
    return reconciler;
  }

  /** POST WEBHOOK_PATH → receiver, on a throttled $default stage with access logs. */
  private httpApi(receiver: NodeFunction, settings: StackSettings) {
    const api = new HttpApi(this, 'HttpApi', {
      apiName: `${this.stackName}-webhooks`,
      description: 'ElevenLabs post-call webhooks',
      // Our own $default stage below carries throttling and access logs.
      createDefaultStage: false,
    });
    api.addRoutes({
      path: WEBHOOK_PATH,
      methods: [HttpMethod.POST],
      // Payload format 2.0 (lambda/adapters/api-gateway.ts reads both 1.0 and 2.0).
      integration: new HttpLambdaIntegration('ReceiverIntegration', receiver.function, { timeout: INTEGRATION_TIMEOUT }),
    });
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: settings.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    const stage = new HttpStage(this, 'DefaultStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: STAGE_THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'ElevenLabs cannot send IAM, JWT or Cognito credentials; each request is authenticated in the receiver by its HMAC ElevenLabs-Signature (contract §3) before anything else happens.',
    });
    return { api, accessLogs, webhookUrl: `${stage.url.replace(/\/$/, '')}${WEBHOOK_PATH}` };
  }

  private alarmTopicFor(alarmEmail: string | undefined): Topic {
    const topic = new Topic(this, 'AlarmTopic', { displayName: 'ElevenLabs webhook alarms', enforceSSL: true });
    // enforceSSL gives the topic a policy of its own, which replaces SNS's default policy that
    // let the account (and so CloudWatch acting for it) publish. Without this statement the
    // alarms change state but no notification is sent. Scoped to this stack's alarms
    // (https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html).
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowThisStacksAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: { 'aws:SourceArn': `arn:${this.partition}:cloudwatch:${this.region}:${this.account}:alarm:${this.stackName}-*` },
        },
      }),
    );
    if (alarmEmail) topic.addSubscription(new EmailSubscription(alarmEmail));
    return topic;
  }

  private addOutputs(dashboard: WebhookDashboard, accessLogs: LogGroup): void {
    new CfnOutput(this, 'WebhookUrl', {
      value: this.webhookUrl,
      description: 'Paste into ElevenLabs: Agents Platform → Settings → Post-call webhook',
    });
    new CfnOutput(this, 'SecretArn', {
      value: this.secret.secretArn,
      description: 'Put the ElevenLabs webhook secret here (README, "Put the secret into Secrets Manager")',
    });
    new CfnOutput(this, 'AudioBucketName', { value: this.audioBucket.bucketName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
    new CfnOutput(this, 'RetryQueueUrl', { value: this.retryQueue.queueUrl });
    new CfnOutput(this, 'DlqUrl', { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'DashboardName', { value: dashboard.dashboard.dashboardName });
    // Where the runbook's Logs Insights queries look (README, "Runbook").
    new CfnOutput(this, 'ReceiverLogGroup', { value: this.receiver.logGroup.logGroupName });
    new CfnOutput(this, 'RetryWorkerLogGroup', { value: this.retryWorker.logGroup.logGroupName });
    new CfnOutput(this, 'AudioWorkerLogGroup', { value: this.audioWorker.logGroup.logGroupName });
    new CfnOutput(this, 'ReconcilerLogGroup', { value: this.reconciler.logGroup.logGroupName });
    new CfnOutput(this, 'ElevenLabsApiKeySecretArn', {
      value: this.apiKeySecret.secretArn,
      description: 'Put an ElevenLabs API key that can read conversations here, to recover recordings (README, "Recordings of any length")',
    });
    new CfnOutput(this, 'AudioCheckQueueUrl', { value: this.audioCheckQueue.queueUrl });
    new CfnOutput(this, 'AudioCheckDlqUrl', { value: this.audioCheckDeadLetterQueue.queueUrl });
    new CfnOutput(this, 'ApiAccessLogGroup', { value: accessLogs.logGroupName });
  }
}

/** What each API access log line holds. No headers or body: the signature and personal data stay out. */
const ACCESS_LOG_FIELDS = {
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
};
