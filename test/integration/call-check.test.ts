/**
 * The call check of contract §12, wired as the audio worker runs it on AWS (ARCHIVE_EVENTS=true),
 * with its real adapters against local servers: s3rver (behind a fault proxy that counts and
 * stalls requests), dynalite (behind another), the SQS stand-in, the CRM stand-in and the
 * ElevenLabs API stand-in. The receiver runs against the same parts where a webhook comes first
 * or late.
 */
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toCrmPayload } from '../../lambda/core/crm-payload';
import { parseEvent, type TranscriptionEvent } from '../../lambda/core/events';
import { formatSignatureHeader } from '../../lambda/core/verify-signature';
import { createAudioWorker } from '../../lambda/create-audio-worker';
import { createReceiver } from '../../lambda/create-receiver';
import { apiGatewayEvent } from '../../support/api-gateway-event';
import { otelCall } from '../../support/fixtures/otel-calls';
import { type Json, realCall } from '../../support/fixtures/real-calls';
import { type DynamoStandIn, startDynamo } from '../../support/stand-ins/dynamo';
import { type ElevenLabsApiStandIn, startElevenLabsApi } from '../../support/stand-ins/elevenlabs-api';
import { type FaultProxy, startFaultProxy } from '../../support/stand-ins/fault-proxy';
import { BUCKET, type LocalAws, SECRET_ARN, startLocalAws } from '../helpers/local-aws';

const TABLE = 'idempotency-call-check';
const SECRET = 'wsec_call_check_secret';
const AGENT = 'agent_7f3c21d0e9b84a5c';
const mapping = { defaultSubject: 'Conversational AI call', subjectsByAgent: {} };
let local: LocalAws;
let s3: FaultProxy;
let dynamo: DynamoStandIn;
let dynamoProxy: FaultProxy;
let api: ElevenLabsApiStandIn;
let logs: Record<string, unknown>[] = [];

beforeAll(async () => {
  local = await startLocalAws();
  [s3, dynamo, api] = await Promise.all([startFaultProxy(local.s3.endpoint), startDynamo({ table: TABLE }), startElevenLabsApi()]);
  dynamoProxy = await startFaultProxy(dynamo.endpoint);
  // Clients are built once per container; in this file they always go through the proxies.
  process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamoProxy.endpoint;
  local.aws.secrets.set(SECRET_ARN, JSON.stringify({ hmacSecret: SECRET }));
});
afterAll(async () => {
  await Promise.all([s3.close(), dynamoProxy.close(), api.close()]);
  await dynamo.close();
  await local.close();
});
beforeEach(() => {
  logs = [];
  s3.plan(() => 'pass');
  dynamoProxy.plan(() => 'pass');
  local.crm.respond({ status: 200 });
  local.aws.failWith(undefined);
  api.conversation(undefined);
  api.audio(() => ({ kind: 'status', status: 404 }));
});

const env = () => ({
  ...local.env,
  AWS_ENDPOINT_URL_S3: s3.endpoint,
  AUDIO_CHECK_QUEUE_URL: local.aws.queueUrl('audio-checks'),
  ELEVENLABS_API_KEY: api.apiKey,
  ELEVENLABS_API_BASE_URL: api.baseUrl,
  ARCHIVE_EVENTS: 'true',
  IDEMPOTENCY_TABLE: TABLE,
});
const worker = () => createAudioWorker(env(), { write: (line) => logs.push(JSON.parse(line)), crm: { backoffBaseMs: 5 } });
const receiver = () => createReceiver(env(), { write: () => undefined, crm: { backoffBaseMs: 5 } });

let sequence = 0;
function check(conversationId: string): SQSEvent {
  sequence += 1;
  const body = JSON.stringify({ conversationId, agentId: AGENT, eventTimestamp: null });
  return {
    Records: [{ messageId: `cc${sequence}`, receiptHandle: `rh${sequence}`, body, attributes: { ApproximateReceiveCount: '1' } }],
  } as unknown as SQSEvent;
}
const context = (ms = 60_000) => {
  const started = Date.now();
  return { getRemainingTimeInMillis: () => ms - (Date.now() - started) };
};
const failed = (event: SQSEvent) => ({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] });

function signed(body: Json) {
  const text = JSON.stringify(body);
  return apiGatewayEvent(text, { 'ElevenLabs-Signature': formatSignatureHeader(SECRET, Math.floor(Date.now() / 1000), text) });
}
/** The API's model of a call, and the record the receiver would have built from its webhook. */
function call(conversationId: string, patch?: (data: Json) => void) {
  const body = realCall({ conversationId }, patch);
  const record = toCrmPayload(parseEvent(structuredClone(body)) as TranscriptionEvent, mapping);
  return { body, model: body.data as Json, record };
}

describe('a record the archive holds', () => {
  it('costs one HeadObject and never an API call; the recording half follows', async () => {
    const { body } = call('conv_cc_present');
    expect((await receiver()(signed(body))).statusCode).toBe(200);
    const apiBefore = api.requests.length;
    const heads: string[] = [];
    s3.plan((_i, req) => {
      if (req.method === 'HEAD') heads.push(req.path.split('?')[0]!);
      return 'pass';
    });
    expect(await worker()(check('conv_cc_present'), context())).toEqual({ batchItemFailures: [] });
    expect(heads).toEqual([
      `/${BUCKET}/calls/${AGENT}/conv_cc_present/post_call_transcription.json`,
      `/${BUCKET}/audio/${AGENT}/conv_cc_present.mp3`,
    ]);
    expect(api.requests.slice(apiBefore).map((r) => r.path)).toEqual([`/v1/convai/conversations/conv_cc_present/audio`]);
    expect(logs.at(-1)).toMatchObject({ record: 'present', outcome: 'unavailable' });
  });

  it('an OpenTelemetry transcription in the archive is the record too; once found, that type is asked first', async () => {
    for (const id of ['conv_cc_otel', 'conv_cc_otel_2']) {
      expect((await receiver()(signed(otelCall({ conversationId: id, agentId: AGENT })))).statusCode).toBe(200);
    }
    const ledgerHeads: string[] = [];
    s3.plan((_i, req) => {
      if (req.method === 'HEAD' && req.path.includes('/calls/')) ledgerHeads.push(req.path.split('?')[0]!);
      return 'pass';
    });
    const sameContainer = worker();
    await sameContainer(check('conv_cc_otel'), context());
    expect(logs.at(-1)).toMatchObject({ record: 'present' });
    expect(ledgerHeads.at(-1)).toBe(`/${BUCKET}/calls/${AGENT}/conv_cc_otel/post_call_transcription_otel.json`);
    expect(ledgerHeads.length).toBeGreaterThan(1);
    ledgerHeads.length = 0;
    await sameContainer(check('conv_cc_otel_2'), context());
    expect(logs.at(-1)).toMatchObject({ record: 'present' });
    expect(ledgerHeads).toEqual([`/${BUCKET}/calls/${AGENT}/conv_cc_otel_2/post_call_transcription_otel.json`]);
  });
});

describe('another agent (ALLOWED_AGENT_IDS)', () => {
  it('is left alone: logged skipped, no S3 request, no API call', async () => {
    const requests: string[] = [];
    s3.plan((_i, req) => {
      requests.push(req.method);
      return 'pass';
    });
    const apiBefore = api.requests.length;
    const handler = createAudioWorker(
      { ...env(), ALLOWED_AGENT_IDS: 'agent_someone_else' },
      { write: (line) => logs.push(JSON.parse(line)) },
    );
    expect(await handler(check('conv_cc_other_agent'), context())).toEqual({ batchItemFailures: [] });
    expect(logs.at(-1)).toMatchObject({
      outcome: 'skipped',
      reason: 'agent not in ALLOWED_AGENT_IDS',
      conversationId: 'conv_cc_other_agent',
    });
    expect(requests).toEqual([]);
    expect(api.requests.length).toBe(apiBefore);
  });
});

describe('a record the archive lacks (the webhook never arrived)', () => {
  it('is rebuilt from the API, delivered once, archived with its source, and a late webhook of either format is deduplicated', async () => {
    const { body, model, record } = call('conv_cc_missed');
    api.models.set('conv_cc_missed', model);
    const before = local.crm.accepted.length;
    expect(await worker()(check('conv_cc_missed'), context())).toEqual({ batchItemFailures: [] });
    expect(local.crm.accepted.slice(before)).toEqual([record]);
    expect(logs.at(-1)).toMatchObject({
      record: 'recovered',
      delivery: 'forwarded',
      archive: 'archived',
      CallRecovered: 1,
      crmTo: '+********156',
    });
    const archived = await local.getObject(`calls/${AGENT}/conv_cc_missed/post_call_transcription.json`);
    expect(JSON.parse(archived!.body.toString('utf8'))).toEqual(model);
    expect(archived?.metadata).toMatchObject({ source: 'elevenlabs-api', 'conversation-id': 'conv_cc_missed', 'agent-id': AGENT });
    expect(Math.abs(Number(archived?.metadata?.['event-timestamp']) - Date.now() / 1000)).toBeLessThan(60);

    // The webhook arrives after all, in either format: answered, never a second record.
    for (const late of [body, otelCall({ conversationId: 'conv_cc_missed', agentId: AGENT })]) {
      const answer = JSON.parse((await receiver()(signed(late))).body);
      expect(answer).toMatchObject({ deduplicated: true });
    }
    expect(local.crm.accepted.slice(before)).toHaveLength(1);
    // A second check finds the record.
    await worker()(check('conv_cc_missed'), context());
    expect(logs.at(-1)).toMatchObject({ record: 'present' });
  });

  it('a webhook that got there first wins: its claim is completed, so nothing is delivered twice', async () => {
    const { body, model } = call('conv_cc_webhook_first');
    api.models.set('conv_cc_webhook_first', model);
    // The webhook is delivered, but its archive write fails: the ledger has no record.
    s3.plan((_i, req) => (req.method === 'PUT' && req.path.includes('/calls/') ? { status: 500 } : 'pass'));
    expect((await receiver()(signed(body))).statusCode).toBe(200);
    s3.plan(() => 'pass');
    const before = local.crm.accepted.length;
    expect(await worker()(check('conv_cc_webhook_first'), context())).toEqual({ batchItemFailures: [] });
    expect(logs.at(-1)).toMatchObject({ record: 'delivered_by_webhook' });
    expect(local.crm.accepted.length).toBe(before);
  });

  it('a call that has not ended is left for the next run: acknowledged, nothing delivered, no recording fetched', async () => {
    api.models.set('conv_cc_live', call('conv_cc_live', (d) => (d.status = 'in-progress')).model);
    const before = { crm: local.crm.received.length, api: api.requests.length };
    expect(await worker()(check('conv_cc_live'), context())).toEqual({ batchItemFailures: [] });
    expect(logs.at(-1)).toMatchObject({ level: 'info', record: 'not_ended', recordReason: 'conversation status is in-progress' });
    expect(local.crm.received.length).toBe(before.crm);
    expect(api.requests.slice(before.api).map((r) => r.path)).toEqual(['/v1/convai/conversations/conv_cc_live']);
  });

  it('a status ElevenLabs does not document is left too, but logged as a warning (a new terminal state must be seen)', async () => {
    api.models.set('conv_cc_odd', call('conv_cc_odd', (d) => (d.status = 'archived')).model);
    expect(await worker()(check('conv_cc_odd'), context())).toEqual({ batchItemFailures: [] });
    expect(logs.at(-1)).toMatchObject({ level: 'warn', record: 'not_ended', recordReason: 'conversation status is archived' });
  });

  it('the CRM fails: queued for the retry worker, as the receiver would', async () => {
    const { model, record } = call('conv_cc_crm_down');
    api.models.set('conv_cc_crm_down', model);
    local.crm.respond({ status: 503 });
    expect(await worker()(check('conv_cc_crm_down'), context())).toEqual({ batchItemFailures: [] });
    expect(logs.at(-1)).toMatchObject({ record: 'recovered', delivery: 'queued', CrmForwardQueued: 1 });
    expect(JSON.parse(local.aws.sent.get('crm-retry')!.at(-1)!)).toMatchObject({ crmPayload: record, conversationId: 'conv_cc_crm_down' });
  });

  it('the CRM and the retry queue fail: not durable, the check comes back and a webhook may still deliver it', async () => {
    const { body, model } = call('conv_cc_not_durable');
    api.models.set('conv_cc_not_durable', model);
    local.crm.respond({ status: 503 });
    local.aws.failWith(500, 'AmazonSQS.SendMessage');
    const event = check('conv_cc_not_durable');
    expect(await worker()(event, context())).toEqual(failed(event));
    expect(logs.at(-1)).toMatchObject({ record: 'retry', CrmForwardNotDurable: 1 });
    expect(await local.getObject(`calls/${AGENT}/conv_cc_not_durable/post_call_transcription.json`)).toBeUndefined();
    // The claims were released: the webhook is processed, not answered "deduplicated".
    local.crm.respond({ status: 200 });
    local.aws.failWith(undefined);
    expect(JSON.parse((await receiver()(signed(body))).body)).toMatchObject({ forwarded: true });
  });
});

describe('the ElevenLabs API is untrusted', () => {
  it.each<[string, Parameters<ElevenLabsApiStandIn['conversation']>[0], RegExp]>([
    ['not JSON', () => ({ kind: 'raw', status: 200, contentType: 'text/html', body: '<h1>Service Unavailable</h1>' }), /not JSON/],
    ['wrong types', () => ({ kind: 'json', body: { conversation_id: 42, status: 'done' } }), /cannot read/],
    [
      "another conversation's model",
      () => ({ kind: 'json', body: realCall({ conversationId: 'conv_other' }).data }),
      /another conversation/,
    ],
    ['a body that never ends', () => ({ kind: 'endless' }), /larger than/],
  ])('%s: nothing forwarded or stored, a batch item failure', async (_name, answer, reason) => {
    const id = `conv_cc_hostile_${_name.replace(/\W+/g, '_')}`;
    api.conversation(answer);
    const before = local.crm.received.length;
    const event = check(id);
    expect(await worker()(event, context())).toEqual(failed(event));
    expect(logs.at(-1)).toMatchObject({ record: 'retry', recordReason: expect.stringMatching(reason) });
    expect(local.crm.received.length).toBe(before);
    expect(await local.getObject(`calls/${AGENT}/${id}/post_call_transcription.json`)).toBeUndefined();
  });

  it.each([
    [401, { record: 'missing', CallRecordMissing: 1, recordReason: 'ElevenLabs API key rejected' }, false],
    [404, { record: 'unavailable', CallRecordUnavailable: 1 }, false],
    [503, { record: 'retry', recordReason: 'ElevenLabs API answered HTTP 503' }, true],
  ])('HTTP %i', async (status, expected, comesBack) => {
    api.conversation(() => ({ kind: 'status', status }));
    const event = check(`conv_cc_status_${status}`);
    expect(await worker()(event, context())).toEqual(comesBack ? failed(event) : { batchItemFailures: [] });
    expect(logs.at(-1)).toMatchObject(expected);
  });

  it('no API key: CallRecordMissing (alarmed) and AudioMissing, never an API call', async () => {
    const before = api.requests.length;
    const handler = createAudioWorker({ ...env(), ELEVENLABS_API_KEY: '' }, { write: (line) => logs.push(JSON.parse(line)) });
    expect(await handler(check('conv_cc_no_key'), context())).toEqual({ batchItemFailures: [] });
    expect(logs.at(-1)).toMatchObject({ level: 'warn', record: 'missing', CallRecordMissing: 1, outcome: 'missing', AudioMissing: 1 });
    expect(api.requests.length).toBe(before);
  });
});

describe('stalled dependencies end in a logged answer before the deadline (contract §11)', () => {
  it('the API accepts the conversation request and never answers: the check comes back', async () => {
    api.conversation(() => ({ kind: 'hang' }));
    const event = check('conv_cc_api_hang');
    expect(await worker()(event, context(7_000))).toEqual(failed(event));
    expect(logs.at(-1)).toMatchObject({ record: 'retry', recordReason: expect.stringMatching(/Abort|Timeout/) });
  });

  it('S3 accepts the ledger HeadObject and never answers: the check comes back', async () => {
    s3.plan((_i, req) => (req.method === 'HEAD' ? 'hang' : 'pass'));
    const event = check('conv_cc_s3_hang');
    expect(await worker()(event, context(7_000))).toEqual(failed(event));
    expect(logs.at(-1)).toMatchObject({ record: 'retry', recordReason: expect.stringMatching(/^S3: /) });
  });

  it('DynamoDB never answers: the record is delivered anyway (IdempotencyUnavailable)', async () => {
    const { model, record } = call('conv_cc_dynamo_hang');
    api.models.set('conv_cc_dynamo_hang', model);
    dynamoProxy.plan(() => 'hang');
    const before = local.crm.accepted.length;
    expect(await worker()(check('conv_cc_dynamo_hang'), context(20_000))).toEqual({ batchItemFailures: [] });
    expect(logs.at(-1)).toMatchObject({ record: 'recovered', IdempotencyUnavailable: 1 });
    expect(local.crm.accepted.slice(before)).toEqual([record]);
  });
});
