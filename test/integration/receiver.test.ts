/**
 * The wired receiver (real adapters, real SDK clients, real undici) against local servers:
 * a CRM on 127.0.0.1, s3rver, and JSON-protocol fakes for Secrets Manager and SQS.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatSignatureHeader } from '../../lambda/core/verify-signature';
import { createReceiver, initReceiver, type ReceiverHandler } from '../../lambda/create-receiver';
import { apiGatewayEvent, restApiEvent } from '../../support/api-gateway-event';
import { sampleEvent } from '../../support/fixtures/samples';
import { silentMp3 } from '../../support/fixtures/silent-mp3';
import { type LocalAws, SECRET_ARN, startLocalAws } from '../helpers/local-aws';

const SECRET = 'wsec_integration_secret';
let local: LocalAws;
const logs: string[] = [];

beforeAll(async () => {
  local = await startLocalAws();
});
afterAll(async () => {
  await local.close();
});
beforeEach(() => {
  local.crm.respond({ status: 200 });
  local.aws.failWith(undefined);
  local.aws.secrets.set(SECRET_ARN, JSON.stringify({ hmacSecret: SECRET }));
  logs.length = 0;
});

function receiver(env: Record<string, string> = {}): ReceiverHandler {
  return createReceiver({ ...local.env, ...env }, { write: (line) => logs.push(line), crm: { backoffBaseMs: 5 } });
}

function signed(event: object, secret = SECRET) {
  const body = JSON.stringify(event);
  return apiGatewayEvent(body, { 'ElevenLabs-Signature': formatSignatureHeader(secret, Math.floor(Date.now() / 1000), body) });
}

const parse = (result: { body: string }) => JSON.parse(result.body);

describe('transcription and failure → CRM', () => {
  it('POSTs the CRM payload as JSON and answers forwarded', async () => {
    const handler = receiver();
    const before = local.crm.received.length;
    const event = sampleEvent('transcription', { conversationId: 'conv_int_1' });
    const result = await handler(signed(event));
    expect(result.statusCode).toBe(200);
    expect(parse(result)).toEqual({
      received: true,
      type: 'post_call_transcription',
      conversationId: 'conv_int_1',
      forwarded: true,
      queued: false,
    });
    expect(local.crm.received.slice(before)).toEqual([
      {
        type: 'conversationAICall',
        subject: 'Invitation to re-trial',
        to: '+61413052898',
        name: 'angelo',
        summary: event.data.analysis.transcript_summary,
        status: 'held',
        duration: 22,
      },
    ]);
    expect(local.crm.headers.at(-1)!['content-type']).toBe('application/json');
  });

  it('forwards an initiation failure', async () => {
    const before = local.crm.received.length;
    const result = await receiver()(signed(sampleEvent('failure')));
    expect(parse(result)).toMatchObject({ type: 'call_initiation_failure', forwarded: true });
    expect(local.crm.received.slice(before)).toEqual([
      // The docs' placeholder "+441111111111" is not a valid UK number: contract §5 sends "Unknown".
      expect.objectContaining({ to: 'Unknown', status: 'no answer', summary: 'Call not connected: busy (SIP 487).', duration: 0 }),
    ]);
  });

  it('reuses one keep-alive connection across requests', async () => {
    const handler = receiver();
    const before = local.crm.headers.length;
    for (let i = 0; i < 3; i++) await handler(signed(sampleEvent('transcription')));
    expect(local.crm.headers.slice(before).every((h) => h.connection !== 'close')).toBe(true);
  });

  it('queues the contract §5 message in SQS when the CRM keeps failing, and answers 200 queued', async () => {
    local.crm.respond({ status: 503 });
    const handler = receiver({ CRM_MAX_ATTEMPTS: '3' });
    const beforeCrm = local.crm.received.length;
    const queue = local.aws.sent.get('crm-retry')!;
    const beforeQueue = queue.length;
    const result = await handler(signed(sampleEvent('transcription', { conversationId: 'conv_queued' })));
    expect(result.statusCode).toBe(200);
    expect(parse(result)).toMatchObject({ forwarded: false, queued: true });
    expect(local.crm.received.length - beforeCrm).toBe(3);
    const message = JSON.parse(queue[beforeQueue]!);
    expect(message).toEqual({
      crmPayload: local.crm.received.at(-1),
      eventType: 'post_call_transcription',
      conversationId: 'conv_queued',
      attempts: 3,
      lastError: 'HTTP 503',
      firstAttemptAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('does not retry a permanent 4xx, and queues it', async () => {
    local.crm.respond({ status: 422 });
    const before = local.crm.received.length;
    const result = await receiver()(signed(sampleEvent('failure')));
    expect(parse(result)).toMatchObject({ queued: true });
    expect(local.crm.received.length - before).toBe(1);
  });

  it('answers 500 when the CRM and SQS are both down', async () => {
    local.crm.respond({ status: 500 });
    local.aws.failWith(500, 'AmazonSQS.SendMessage');
    const result = await receiver()(signed(sampleEvent('transcription')));
    expect(result.statusCode).toBe(500);
    expect(parse(result)).toEqual({ error: 'event could not be forwarded or queued' });
  });
});

describe('audio → S3', () => {
  it('stores the decoded MP3 with its content type and metadata', async () => {
    const mp3 = silentMp3(2);
    const event = sampleEvent('audio', { conversationId: 'conv_audio_1', agentId: 'agent_a', audioBase64: mp3.toString('base64') });
    const before = local.crm.received.length;
    const result = await receiver()(signed(event));
    expect(parse(result)).toEqual({
      received: true,
      type: 'post_call_audio',
      conversationId: 'conv_audio_1',
      audioKey: 'audio/agent_a/conv_audio_1.mp3',
    });
    const stored = await local.getObject('audio/agent_a/conv_audio_1.mp3');
    expect(stored?.body.equals(mp3)).toBe(true);
    expect(stored?.contentType).toBe('audio/mpeg');
    expect(stored?.metadata).toEqual({
      'conversation-id': 'conv_audio_1',
      'agent-id': 'agent_a',
      sha256: createHash('sha256').update(mp3).digest('hex'),
    });
    expect(local.crm.received.length).toBe(before);
  });

  it('writes the same key on re-delivery (idempotent)', async () => {
    const event = sampleEvent('audio', { conversationId: 'conv_audio_2', agentId: 'agent_a', audioSeconds: 0.5 });
    const handler = receiver();
    const first = parse(await handler(signed(event)));
    const second = parse(await handler(signed(event)));
    expect(second.audioKey).toBe(first.audioKey);
    expect((await local.getObject(first.audioKey))?.body.toString('base64')).toBe(event.data.full_audio);
  });

  it('answers 500 when S3 refuses (the bucket does not exist)', async () => {
    const result = await receiver({ AUDIO_BUCKET: 'no-such-bucket' })(signed(sampleEvent('audio', { audioSeconds: 0.2 })));
    expect(result.statusCode).toBe(500);
    expect(parse(result)).toEqual({ error: 'audio could not be stored' });
  });

  it('answers 400 for invalid base64 and stores nothing', async () => {
    const event = sampleEvent('audio', { conversationId: 'conv_bad_audio', agentId: 'agent_a', audioBase64: 'SUQz!!!!' });
    const result = await receiver()(signed(event));
    expect(result.statusCode).toBe(400);
    expect(await local.getObject('audio/agent_a/conv_bad_audio.mp3')).toBeUndefined();
  });
});

describe('the secret from Secrets Manager', () => {
  const getSecretCalls = () => local.aws.calls.filter((c) => c.target === 'secretsmanager.GetSecretValue').length;

  it('is fetched once and cached across requests', async () => {
    const handler = receiver();
    const before = getSecretCalls();
    for (let i = 0; i < 3; i++) expect((await handler(signed(sampleEvent('transcription')))).statusCode).toBe(200);
    expect(getSecretCalls() - before).toBe(1);
  });

  it('may be a plain SecretString', async () => {
    local.aws.secrets.set(SECRET_ARN, SECRET);
    expect((await receiver()(signed(sampleEvent('transcription')))).statusCode).toBe(200);
  });

  it('accepts the previous secret during a rotation', async () => {
    local.aws.secrets.set(SECRET_ARN, JSON.stringify({ hmacSecret: 'wsec_new', previousHmacSecrets: [SECRET] }));
    const handler = receiver();
    expect((await handler(signed(sampleEvent('transcription')))).statusCode).toBe(200);
    expect((await handler(signed(sampleEvent('transcription'), 'wsec_new'))).statusCode).toBe(200);
  });

  it('picks up a rotated secret on the first mismatch, without waiting for the cache', async () => {
    const handler = receiver({ SECRET_CACHE_SECONDS: '3600' });
    expect((await handler(signed(sampleEvent('transcription')))).statusCode).toBe(200);
    local.aws.secrets.set(SECRET_ARN, JSON.stringify({ hmacSecret: 'wsec_rotated' }));
    // The receiver refetches at most once per 10 s per container; a fresh container shows the path.
    const fresh = receiver({ SECRET_CACHE_SECONDS: '3600' });
    expect((await fresh(signed(sampleEvent('transcription'), 'wsec_rotated'))).statusCode).toBe(200);
    expect((await handler(signed(sampleEvent('transcription'), 'wsec_rotated'))).statusCode).toBe(401);
  });

  it('fails closed with 500 when Secrets Manager is down at cold start', async () => {
    local.aws.failWith(500, 'secretsmanager.GetSecretValue');
    const result = await receiver()(signed(sampleEvent('transcription')));
    expect(result.statusCode).toBe(500);
    expect(parse(result)).toEqual({ error: 'webhook secret unavailable' });
    expect(logs.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ level: 'error', outcome: 'secret_unavailable', SecretUnavailable: 1 }),
    ]);
  });

  it('is fetched during INIT by the Lambda entry, so the first request waits on no Secrets Manager call', async () => {
    const before = getSecretCalls();
    const handler = await initReceiver(local.env, { write: (line) => logs.push(line) });
    await vi.waitFor(() => expect(getSecretCalls() - before).toBe(1));
    expect((await handler(signed(sampleEvent('transcription')))).statusCode).toBe(200);
    expect(getSecretCalls() - before).toBe(1);
  });

  it('is fetched again by the first request when the fetch during INIT failed', async () => {
    local.aws.failWith(500, 'secretsmanager.GetSecretValue');
    const before = getSecretCalls();
    const handler = await initReceiver(local.env, { write: (line) => logs.push(line) });
    // The SDK makes two attempts (core/time-budget.ts SDK_ATTEMPTS.secret).
    await vi.waitFor(() => expect(getSecretCalls() - before).toBe(2));
    local.aws.failWith(undefined);
    expect((await handler(signed(sampleEvent('transcription')))).statusCode).toBe(200);
    expect(getSecretCalls() - before).toBe(3);
  });

  it('fails closed while the secret still holds the stack placeholder', async () => {
    local.aws.secrets.set(SECRET_ARN, '{"hmacSecret":""}');
    expect((await receiver()(signed(sampleEvent('transcription')))).statusCode).toBe(500);
  });

  it('prefers WEBHOOK_SECRET_ARN over ELEVENLABS_WEBHOOK_SECRET', async () => {
    const handler = receiver({ ELEVENLABS_WEBHOOK_SECRET: 'wsec_env_only' });
    expect((await handler(signed(sampleEvent('transcription'), 'wsec_env_only'))).statusCode).toBe(401);
    expect((await handler(signed(sampleEvent('transcription')))).statusCode).toBe(200);
  });
});

describe('REST API (payload 1.0) events', () => {
  it('verifies a base64-encoded body and forwards it', async () => {
    const body = JSON.stringify(sampleEvent('transcription'));
    const event = restApiEvent(
      body,
      { 'Elevenlabs-Signature': formatSignatureHeader(SECRET, Math.floor(Date.now() / 1000), body) },
      { base64: true },
    );
    const result = await receiver()(event);
    expect(result.statusCode).toBe(200);
    expect(parse(result)).toMatchObject({ forwarded: true });
  });
});

describe('events without requestContext (a direct invocation, a console test event)', () => {
  it.each([
    ['an empty object', {}],
    ['headers and a body but no requestContext', { headers: { 'content-type': 'application/json' }, body: '{}' }],
    ['null headers', { headers: null, body: '{}' }],
  ])('%s → 401 missing signature, never a 500', async (_name, event) => {
    const result = await receiver()(event as never);
    expect(result.statusCode).toBe(401);
    expect(parse(result)).toEqual({ error: 'missing signature' });
  });

  it('a signed event without requestContext is processed by the normal rules', async () => {
    const body = JSON.stringify(sampleEvent('transcription'));
    const event = { headers: { 'ElevenLabs-Signature': formatSignatureHeader(SECRET, Math.floor(Date.now() / 1000), body) }, body };
    const result = await receiver()(event as never);
    expect(result.statusCode).toBe(200);
    expect(parse(result)).toMatchObject({ forwarded: true });
  });
});

describe('every call kept (contract §10): archive and audio check, wired', () => {
  it('archives the verified body in S3 and schedules a delayed audio check on SQS', async () => {
    const audioChecks = local.aws.queueUrl('audio-checks-wired');
    const handler = receiver({ ARCHIVE_EVENTS: 'true', AUDIO_CHECK_QUEUE_URL: audioChecks, AUDIO_CHECK_DELAY_SECONDS: '600' });
    const event = sampleEvent('transcription', { conversationId: 'conv_kept_1', agentId: 'agent_kept' });
    const request = signed(event);
    const result = await handler(request);
    expect(parse(result)).toMatchObject({ forwarded: true });

    const archived = await local.getObject('calls/agent_kept/conv_kept_1/post_call_transcription.json');
    expect(archived?.body.toString('utf8')).toBe(request.body);
    expect(archived?.contentType).toBe('application/json');
    expect(archived?.metadata).toEqual({
      'conversation-id': 'conv_kept_1',
      'agent-id': 'agent_kept',
      'event-timestamp': String(event.event_timestamp),
    });

    expect(local.aws.messages('audio-checks-wired').map((m) => JSON.parse(m))).toEqual([
      { conversationId: 'conv_kept_1', agentId: 'agent_kept', eventTimestamp: event.event_timestamp },
    ]);
    expect(local.aws.delays.filter((d) => d.queue === 'audio-checks-wired')).toEqual([{ queue: 'audio-checks-wired', seconds: 600 }]);
    expect(JSON.parse(logs.at(-1)!)).toMatchObject({
      archive: 'archived',
      audioCheck: 'scheduled',
      EventArchived: 1,
      AudioCheckScheduled: 1,
    });
  });

  it('an unreachable bucket and queue change nothing about the answer', async () => {
    const handler = receiver({
      ARCHIVE_EVENTS: 'true',
      AUDIO_BUCKET: 'no-such-bucket',
      AUDIO_CHECK_QUEUE_URL: local.aws.queueUrl('audio-checks-wired').replace('audio-checks-wired', 'no-such-queue'),
    });
    const result = await handler(signed(sampleEvent('transcription')));
    expect(result.statusCode).toBe(200);
    expect(parse(result)).toMatchObject({ forwarded: true });
    expect(JSON.parse(logs.at(-1)!)).toMatchObject({
      archive: 'failed',
      audioCheck: 'not_scheduled',
      ArchiveFailed: 1,
      AudioCheckNotScheduled: 1,
    });
  });
});
