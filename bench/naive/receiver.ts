/**
 * The naive reference receiver of bench figure 11 (SPEC §14): the straightforward way to write
 * this Lambda. Every module is loaded at import, each step is awaited in turn, the archive and
 * the audio check run alongside the forward. It does the same work as lambda/receiver.ts with
 * the stack's settings, against the same stand-ins: the HMAC secret from Secrets Manager (cached),
 * the ElevenLabs-Signature HMAC over the raw body, JSON + a zod schema (`import * as z from 'zod'`,
 * zod's documented import), one conditional PutItem into the idempotency table, the CRM payload
 * from the project's own pure mapping, the forward with undici `request`, the raw body archived to
 * S3 and the audio check sent to SQS with DelaySeconds, the payload queued to the retry queue when
 * the CRM fails.
 *
 * What it deliberately does not do (the real receiver must, contract §2, §3, §5, §11): no deadline
 * or abort signal on any call (SDK and undici defaults), no CRM retries, no stale-secret fallback
 * or refetch after a mismatch, no bearer token or rotation list, no source-IP or agent allowlist,
 * no "in flight" state (a repeat while the first is running is answered as a duplicate), no
 * completion write (one idempotency write where the receiver does claim + completion), one log
 * line without metrics, transcriptions only (the one event type the figure sends). Built by bench/naive/build.ts into one file, no code splitting.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { request } from 'undici';
import * as z from 'zod';
import { toCrmPayload } from '../../lambda/core/crm-payload';
import type { TranscriptionData, TranscriptionEvent } from '../../lambda/core/events';

const env = process.env;
const secrets = new SecretsManagerClient({});
const dynamo = new DynamoDBClient({});
// The receiver's one S3 setting (adapters/s3.ts): no CRC32 of every body, so both do the same work.
const s3 = new S3Client({ requestChecksumCalculation: 'WHEN_REQUIRED' });
const sqs = new SQSClient({});

let cachedSecret: { value: string; at: number } | undefined;
async function webhookSecret(): Promise<string> {
  if (cachedSecret && Date.now() - cachedSecret.at < 300_000) return cachedSecret.value;
  const result = await secrets.send(new GetSecretValueCommand({ SecretId: env.WEBHOOK_SECRET_ARN }));
  cachedSecret = { value: result.SecretString!, at: Date.now() };
  return cachedSecret.value;
}

function verifySignature(rawBody: string, header: string | undefined, secret: string): boolean {
  const parts = Object.fromEntries((header ?? '').split(',').map((p) => p.split('=') as [string, string]));
  const timestamp = Number(parts.t);
  if (!parts.v0 || !Number.isFinite(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > 1800) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${rawBody}`).digest();
  const given = Buffer.from(parts.v0, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const text = z.string().nullish();
const EventSchema = z.object({
  type: z.literal('post_call_transcription'),
  event_timestamp: z.number().nullish(),
  data: z.looseObject({
    conversation_id: z.string().min(1),
    agent_id: z.string().min(1),
    agent_name: text,
    status: text,
    call_duration_secs: z.number().nullish(),
    has_audio: z.boolean().nullish(),
    transcript: z.array(z.looseObject({ role: z.string(), message: text })).nullish(),
    metadata: z
      .looseObject({
        call_duration_secs: z.number().nullish(),
        termination_reason: text,
        phone_call: z.looseObject({ type: z.string(), direction: text, external_number: text, agent_number: text }).nullish(),
      })
      .nullish(),
    analysis: z.looseObject({ transcript_summary: text, data_collection_results: z.record(z.string(), z.unknown()).nullish() }).nullish(),
    conversation_initiation_client_data: z.looseObject({ dynamic_variables: z.record(z.string(), z.unknown()).nullish() }).nullish(),
  }),
});

const answer = (statusCode: number, body: object): APIGatewayProxyResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> {
  const rawBody = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
  const secret = await webhookSecret();
  if (!verifySignature(rawBody, event.headers['elevenlabs-signature'], secret)) return answer(401, { error: 'invalid signature' });
  const parsed = EventSchema.safeParse(JSON.parse(rawBody));
  if (!parsed.success) return answer(400, { error: 'invalid event' });
  const { type, event_timestamp: eventTimestamp, data } = parsed.data;

  try {
    await dynamo.send(
      new PutItemCommand({
        TableName: env.IDEMPOTENCY_TABLE,
        Item: { id: { S: `${type}#${data.conversation_id}` }, expiration: { N: String(Math.floor(Date.now() / 1000) + 7 * 86_400) } },
        ConditionExpression: 'attribute_not_exists(id)',
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return answer(200, { received: true, deduplicated: true });
    throw error;
  }

  // The project's own pure mapping (contract §5); it reads the fields the schema above checked.
  const transcription: TranscriptionEvent = {
    type,
    kind: 'transcription',
    eventTimestamp: eventTimestamp ?? undefined,
    conversationId: data.conversation_id,
    agentId: data.agent_id,
    data: data as TranscriptionData,
  };
  const payload = toCrmPayload(transcription, { defaultSubject: 'Conversational AI call', subjectsByAgent: {} });
  const forward = async () => {
    try {
      const response = await request(env.CRM_WEBHOOK_URL!, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
      });
      await response.body.dump();
      if (response.statusCode >= 300) throw new Error(`CRM answered ${response.statusCode}`);
      return true;
    } catch (error) {
      const message = { crmPayload: payload, eventType: type, conversationId: data.conversation_id, lastError: String(error) };
      await sqs.send(new SendMessageCommand({ QueueUrl: env.CRM_RETRY_QUEUE_URL, MessageBody: JSON.stringify(message) }));
      return false;
    }
  };
  const archive = () =>
    s3.send(
      new PutObjectCommand({
        Bucket: env.AUDIO_BUCKET,
        Key: `calls/${data.agent_id}/${data.conversation_id}/${type}.json`,
        Body: rawBody,
        ContentType: 'application/json',
      }),
    );
  const audioCheck = () =>
    sqs.send(
      new SendMessageCommand({
        QueueUrl: env.AUDIO_CHECK_QUEUE_URL,
        MessageBody: JSON.stringify({ conversationId: data.conversation_id, agentId: data.agent_id, eventTimestamp }),
        DelaySeconds: Number(env.AUDIO_CHECK_DELAY_SECONDS ?? 600),
      }),
    );
  const [forwarded] = await Promise.all([forward(), archive(), audioCheck()]);
  console.log(
    JSON.stringify({
      level: 'INFO',
      message: 'webhook request',
      conversationId: data.conversation_id,
      forwarded,
      archive: 'archived',
      audioCheck: 'scheduled',
    }),
  );
  return answer(200, { received: true, type, conversationId: data.conversation_id, forwarded, queued: !forwarded });
}
