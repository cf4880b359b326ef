/**
 * One record per call whatever path builds it (contract §5): the receiver (through its handler,
 * with CRM_NUMBER_FIELDS and CRM_VOICEMAIL_PHRASES in its environment), the replay tool
 * (scripts/replay.ts: `toCrmPayload` with `loadConfig(process.env)`'s mapping) and the retry
 * worker (which forwards the queued record as `parseRetryMessage` reads it back) all give the
 * same record for the 2026 fixtures.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambda/config/receiver-config';
import { toCrmPayload } from '../../lambda/core/crm-payload';
import { type FailureEvent, parseEvent, type TranscriptionEvent } from '../../lambda/core/events';
import { parseRetryMessage } from '../../lambda/core/retry-message';
import { formatSignatureHeader } from '../../lambda/core/verify-signature';
import { createReceiver } from '../../lambda/create-receiver';
import { apiGatewayEvent } from '../../support/api-gateway-event';
import type { Json } from '../../support/fixtures/real-calls';
import {
  callHearing,
  collectedNumber,
  GREETINGS_BY_LANGUAGE,
  llmCascadeErrorCall,
  rejectedOutboundCall,
  SCREENER_PROMPTS,
  sipInitiationFailure,
  webConversation,
} from '../../support/fixtures/real-calls-2026';
import { memoryWorld, TEST_SECRET } from '../helpers/memory-ports';

const env = {
  CRM_WEBHOOK_URL: 'http://127.0.0.1:9/crm',
  ELEVENLABS_WEBHOOK_SECRET: TEST_SECRET,
  CRM_NUMBER_FIELDS: 'lead_phone, customer_phone',
  CRM_VOICEMAIL_PHRASES: 'please call the front desk, buzón personal',
};

/** What the receiver sends the CRM for `body`, and (with the CRM down) what it queues for the retry worker. */
async function receiverRecords(body: Json) {
  const world = memoryWorld({ now: Date.now });
  const handler = createReceiver(env, { write: () => undefined, deps: { crm: world.deps.crm, retryQueue: world.deps.retryQueue } });
  const raw = JSON.stringify(body);
  const send = () =>
    handler(apiGatewayEvent(raw, { 'ElevenLabs-Signature': formatSignatureHeader(TEST_SECRET, Math.floor(Date.now() / 1000), raw) }));
  expect((await send()).statusCode).toBe(200);
  world.setCrmResult({ ok: false, attempts: 3, lastError: 'HTTP 503', permanent: false });
  const again = JSON.parse(raw);
  again.data.conversation_id = `${again.data.conversation_id}_again`; // not a duplicate of the first delivery
  const rawAgain = JSON.stringify(again);
  await handler(
    apiGatewayEvent(rawAgain, { 'ElevenLabs-Signature': formatSignatureHeader(TEST_SECRET, Math.floor(Date.now() / 1000), rawAgain) }),
  );
  expect(world.crmCalls).toHaveLength(2);
  expect(world.queued).toHaveLength(1);
  return { forwarded: world.crmCalls[0]!, queued: parseRetryMessage(JSON.stringify(world.queued[0]))?.message.crmPayload };
}

describe('receiver, replay and retry worker build the same record', () => {
  it.each<[string, Json, Record<string, unknown>]>([
    ['a rejected outbound call (SIP 603)', rejectedOutboundCall(), { status: 'no answer' }],
    ['an LLM error with a trailing blank', llmCascadeErrorCall(), { status: 'failed', summary: 'Call failed: LLM Cascade Error.' }],
    ['a Spanish answering machine', callHearing([GREETINGS_BY_LANGUAGE.es.accented]), { status: 'voicemail' }],
    ['a configured greeting', callHearing(['BUZON PERSONAL de Andrés.']), { status: 'voicemail' }],
    ['a call screener', callHearing([SCREENER_PROMPTS.google]), { status: 'no answer' }],
    [
      'a web chat with a configured number field',
      webConversation({}, { 'Lead Phone': collectedNumber('Lead Phone', 491570158) }),
      { to: '+61491570158' },
    ],
    ['a declined SIP initiation failure', sipInitiationFailure(603, 'INVITE failed: sip status: 603: Decline'), { status: 'no answer' }],
  ])('%s', async (_case, body, expected) => {
    const { forwarded, queued } = await receiverRecords(body);
    const replayed = toCrmPayload(
      parseEvent(JSON.parse(JSON.stringify(body))) as TranscriptionEvent | FailureEvent,
      loadConfig(env).pipeline.crmMapping,
    );
    expect(forwarded).toMatchObject(expected);
    expect(replayed).toEqual(forwarded);
    expect(queued).toEqual(forwarded);
  });
});
