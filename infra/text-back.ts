/**
 * The missed-call text-back (contract §13), built only when texting is on (context
 * `smsOriginationIdentity`): the SMS queue and its dead-letter queue, and the SMS worker that
 * drains it, allowed to call `sms-voice:SendTextMessage` on that one origination identity (and
 * the configuration set, when one is named) and nothing else. `bindTrigger` gives a function that
 * queues text-backs (the receiver, the call check) the queue and the trigger's settings.
 *
 * IAM names End User Messaging resources by ARN (Service Authorization Reference, "AWS End User
 * Messaging SMS and Voice V2", https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsendusermessagingsmsandvoicev2.html):
 * `phone-number/<PhoneNumberId>`, `pool/<PoolId>`, `sender-id/<SenderId>/<IsoCountryCode>`,
 * `configuration-set/<ConfigurationSetName>`. So the stack takes the identity as a phone number
 * id, a pool id, or the ARN of a phone number, pool or sender id: a bare number (`+61…`) or a
 * bare sender id cannot be granted without also granting every other identity of the account.
 */
import { ArnFormat, CfnOutput, Duration, Stack, Token } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SMS_STATUSES } from '../lambda/core/text-back/sms-message';
import { SMS_WORKER_TIMEOUT_MS } from '../lambda/core/time-budget';
import { bindQueueConsumer, bindQueueSender, bindSmsSending, bindTable, bindValue } from './bindings';
import { ContextError } from './context';
import { NodeFunction } from './node-function';
import { queueWithDeadLetters } from './queues';

/** ≥ 6× the worker's timeout (AWS guidance for SQS event sources); quiet-hours waits and backoff set their own. */
const SMS_VISIBILITY_TIMEOUT = Duration.minutes(5);
const SMS_WORKER_MEMORY_MB = 256;

/** An origination identity or configuration set IAM can name: the ARN, or the parts to build it in this stack's account and region. */
export interface SmsResource {
  /** What the worker passes to SendTextMessage (the id or ARN as given). */
  readonly value: string;
  readonly resourceType: 'phone-number' | 'pool' | 'sender-id' | 'configuration-set';
  readonly resourceName: string;
  /** Set when `value` is an ARN: its own partition, region and account. */
  readonly arn?: { readonly partition: string; readonly region: string; readonly account: string };
}

const HEX_ID = /^(phone|pool)-[0-9a-f]{32}$/i;
const SMS_ARN = /^arn:(aws[a-z-]*):sms-voice:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):([a-z-]+)\/(.+)$/;
const RESOURCE_NAMES: Record<SmsResource['resourceType'], RegExp> = {
  'phone-number': /^phone-[0-9a-f]{32}$/i,
  pool: /^pool-[0-9a-f]{32}$/i,
  'sender-id': /^[A-Za-z0-9_-]{1,11}\/[A-Z]{2}$/,
  'configuration-set': /^[A-Za-z0-9_-]{1,64}$/,
};

/**
 * `smsOriginationIdentity` as the stack can grant it; throws a one-line message naming the option.
 * Run after the worker's own parser (the value must also be one the worker accepts).
 */
export function parseSmsIdentity(value: string): SmsResource {
  if (HEX_ID.test(value)) return { value, resourceType: /^phone-/i.test(value) ? 'phone-number' : 'pool', resourceName: value };
  const arn = parsedArn(value, ['phone-number', 'pool', 'sender-id']);
  if (arn) return arn;
  throw new Error(
    'smsOriginationIdentity must be a phone number id (phone-…), a pool id (pool-…), or the ARN of a phone number, pool or sender id (arn:aws:sms-voice:<region>:<account>:sender-id/<SenderId>/<country>): IAM cannot grant a bare number or sender id to this stack alone',
  );
}

/** `smsConfigurationSet`: a name, or its ARN. */
export function parseSmsConfigurationSet(value: string): SmsResource {
  if (RESOURCE_NAMES['configuration-set'].test(value)) return { value, resourceType: 'configuration-set', resourceName: value };
  const arn = parsedArn(value, ['configuration-set']);
  if (arn) return arn;
  throw new Error('smsConfigurationSet must be a configuration set name (letters, digits, _ and -) or its ARN');
}

function parsedArn(value: string, types: readonly SmsResource['resourceType'][]): SmsResource | undefined {
  const match = SMS_ARN.exec(value);
  if (!match) return undefined;
  const [, partition, region, account, type, resourceName] = match as unknown as [string, string, string, string, string, string];
  const resourceType = types.find((t) => t === type);
  if (!resourceType || !RESOURCE_NAMES[resourceType].test(resourceName)) return undefined;
  return { value, resourceType, resourceName, arn: { partition, region, account } };
}

/** What the stack passes the text-back (infra/stack-settings.ts checks it with the worker's own parsers). */
export interface TextBackSettings {
  readonly identity: SmsResource;
  readonly configurationSet?: SmsResource;
  /** SMS_TEMPLATE, SMS_TIMEZONE and SMS_QUIET_HOURS as the worker reads them. */
  readonly template: string;
  readonly timeZone: string;
  readonly quietHours: string;
}

export interface TextBackProps {
  readonly settings: TextBackSettings;
  readonly idempotencyTable: ITable;
  readonly logRetention: RetentionDays;
  /** Folder of the SMS worker bundle (`dist/sms-worker`). */
  readonly codePath: string;
}

export class TextBack extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly worker: NodeFunction;
  private readonly settings: TextBackSettings;

  constructor(scope: Construct, id: string, props: TextBackProps) {
    super(scope, id);
    this.settings = props.settings;
    [this.queue, this.deadLetterQueue] = queueWithDeadLetters(this, 'SmsQueue', 'SmsDeadLetterQueue', SMS_VISIBILITY_TIMEOUT);
    this.worker = new NodeFunction(this, 'SmsWorker', {
      codePath: props.codePath,
      description: 'ElevenLabs missed-call text-back: sends one SMS after an outbound call nobody answered',
      timeout: Duration.millis(SMS_WORKER_TIMEOUT_MS),
      memorySize: SMS_WORKER_MEMORY_MB,
      logRetention: props.logRetention,
    });
    const { identity, configurationSet, template, timeZone, quietHours } = props.settings;
    bindSmsSending(this.worker, {
      identity: identity.value,
      configurationSet: configurationSet?.value,
      resources: [this.arnOf(identity), ...(configurationSet ? [this.arnOf(configurationSet)] : [])],
    });
    bindValue(this.worker, 'SMS_TEMPLATE', template);
    bindValue(this.worker, 'SMS_TIMEZONE', timeZone);
    bindValue(this.worker, 'SMS_QUIET_HOURS', quietHours);
    bindValue(this.worker, 'SMS_ON_STATUSES', SMS_STATUSES.join(','));
    // Claim, complete and release `sms#<number>` (lambda/adapters/idempotency-store.ts).
    bindTable(this.worker, 'IDEMPOTENCY_TABLE', props.idempotencyTable, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem']);
    bindQueueSender(this.worker, 'SMS_DEAD_LETTER_QUEUE_URL', this.deadLetterQueue);
    // One batch at a time per poller, texts sent one after another: End User Messaging allows
    // each origination identity a few messages a second; throttling is retried anyway.
    bindQueueConsumer(this.worker, 'SMS_QUEUE_URL', this.queue, { batchSize: 10, maxConcurrency: 2 });
    // Named like the stack's other outputs (README, "Runbook").
    new CfnOutput(Stack.of(this), 'SmsDlqUrl', { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(Stack.of(this), 'SmsWorkerLogGroup', { value: this.worker.logGroup.logGroupName });
  }

  /** A function that queues text-backs: texting on, where to queue, which statuses (contract §13). */
  bindTrigger(fn: NodeFunction): void {
    bindValue(fn, 'SMS_ORIGINATION_IDENTITY', this.settings.identity.value);
    bindValue(fn, 'SMS_ON_STATUSES', SMS_STATUSES.join(','));
    bindQueueSender(fn, 'SMS_QUEUE_URL', this.queue);
  }

  /** The resource's ARN: as given, or built in this stack's partition, region and account. */
  private arnOf(resource: SmsResource): string {
    const stack = Stack.of(this);
    if (resource.arn) {
      if (!Token.isUnresolved(stack.region) && resource.arn.region !== stack.region) {
        const option = resource.resourceType === 'configuration-set' ? 'smsConfigurationSet' : 'smsOriginationIdentity';
        throw new ContextError(
          `${option} is in ${resource.arn.region}, but the stack deploys to ${stack.region}: texts are sent from the Lambda's region`,
        );
      }
      return resource.value;
    }
    return stack.formatArn({
      service: 'sms-voice',
      resource: resource.resourceType,
      resourceName: resource.resourceName,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }
}
