/**
 * One scenario of figure 7 in a fresh process (so each gets its own SDK clients): the real
 * receiver, a Lambda context with the receiver's full 28 s, and one dependency that accepts
 * connections and never answers. Prints `{status, ms, outcome}` of the request as the last line.
 * Everything listens on 127.0.0.1.
 */
import { RECEIVER_TIMEOUT_MS } from '../lambda/core/time-budget';
import { formatSignatureHeader } from '../lambda/core/verify-signature';
import { initReceiver } from '../lambda/create-receiver';
import { type SampleKind, sampleEvent } from '../support/fixtures/samples';
import { startAwsFake } from '../support/stand-ins/aws-json';
import { startBlackHole } from '../support/stand-ins/black-hole';
import { startCrmStandIn } from '../support/stand-ins/crm';
import { startDynamo } from '../support/stand-ins/dynamo';
import { startFaultProxy } from '../support/stand-ins/fault-proxy';
import { gatewayEvent } from './lib/signed-events';
import { STALL_SCENARIOS, type StallScenario } from './stalls';

const scenario = process.argv[2] as StallScenario;
if (!STALL_SCENARIOS.includes(scenario)) throw new Error(`unknown scenario ${scenario}`);
const secret = process.env.BENCH_WEBHOOK_SECRET!;
const secretArn = 'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:bench';

const hole = await startBlackHole();
const crm = await startCrmStandIn();
const aws = await startAwsFake();
aws.secrets.set(secretArn, secret);
const retryQueueUrl = aws.queueUrl('bench-retry');
const env: Record<string, string> = {
  CRM_WEBHOOK_URL: crm.url,
  CRM_RETRY_QUEUE_URL: retryQueueUrl,
  AUDIO_BUCKET: 'bench-audio',
  WEBHOOK_SECRET_ARN: secretArn,
};
process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = aws.endpoint;
process.env.AWS_ENDPOINT_URL_SQS = aws.endpoint;
let kind: SampleKind = 'transcription';
let warmFirst = false;

switch (scenario) {
  case 'secrets-cold-start':
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = hole.endpoint;
    break;
  case 'secrets-cache-expired': {
    const proxy = await startFaultProxy(aws.endpoint);
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = proxy.endpoint;
    env.SECRET_CACHE_SECONDS = '0';
    warmFirst = true;
    // After the warm-up request has fetched the secret, every later fetch hangs.
    proxy.plan((index) => (index === 0 ? 'pass' : 'hang'));
    break;
  }
  case 'dynamodb-entirely':
  case 'dynamodb-completion-write': {
    const dynamo = await startDynamo();
    process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
    await dynamo.createTable('bench-idempotency');
    const proxy = await startFaultProxy(dynamo.endpoint);
    // The claim is the request's first PutItem; the completion write and its retry come after.
    let puts = 0;
    proxy.plan((_i, req) =>
      scenario === 'dynamodb-entirely' || (String(req.headers['x-amz-target']).endsWith('.PutItem') && ++puts >= 2) ? 'hang' : 'pass',
    );
    process.env.AWS_ENDPOINT_URL_DYNAMODB = proxy.endpoint;
    env.IDEMPOTENCY_TABLE = 'bench-idempotency';
    break;
  }
  case 's3-audio-put':
    process.env.AWS_ENDPOINT_URL_S3 = hole.endpoint;
    kind = 'audio';
    break;
  case 'sqs-after-crm-failure':
    env.CRM_WEBHOOK_URL = 'http://127.0.0.1:1/crm';
    env.CRM_RETRY_QUEUE_URL = `${hole.endpoint}/123456789012/bench-retry`;
    break;
  case 'crm':
    env.CRM_WEBHOOK_URL = `${hole.endpoint}/crm`;
    break;
  case 'crm-and-sqs':
    env.CRM_WEBHOOK_URL = `${hole.endpoint}/crm`;
    env.CRM_RETRY_QUEUE_URL = `${hole.endpoint}/123456789012/bench-retry`;
    break;
}

// As the Lambda entry builds it: clients loaded and the secret fetch started during INIT (SPEC §14).
const handler = await initReceiver(env, { write: () => undefined });
const send = async () => {
  const body = JSON.stringify(sampleEvent(kind, { audioSeconds: 1 }));
  const event = gatewayEvent(
    { body, headers: { 'elevenlabs-signature': formatSignatureHeader(secret, Math.floor(Date.now() / 1000), body) } },
    'stall',
  );
  const started = Date.now();
  const context = { getRemainingTimeInMillis: () => RECEIVER_TIMEOUT_MS - (Date.now() - started) };
  const result = await handler(event, context);
  return { status: result.statusCode, ms: Date.now() - started, outcome: JSON.parse(result.body) as Record<string, unknown> };
};
if (warmFirst) await send();
const { status, ms, outcome } = await send();
console.log(
  JSON.stringify({
    scenario,
    status,
    ms,
    answer:
      'error' in outcome
        ? outcome.error
        : Object.keys(outcome)
            .filter((k) => outcome[k] === true)
            .join(','),
  }),
);
process.exit(0);
