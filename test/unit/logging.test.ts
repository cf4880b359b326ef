/**
 * contract §7: one structured line per request that doubles as the EMF metrics document, and no
 * secret, signature, transcript, summary, name or full phone number in any line.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lambda/core/metrics';
import { formatSignatureHeader } from '../../lambda/core/verify-signature';
import { createReceiver } from '../../lambda/create-receiver';
import { apiGatewayEvent } from '../../support/api-gateway-event';
import { collected, type Json, realCall, realInitiationFailure } from '../../support/fixtures/real-calls';
import { sampleEvent } from '../../support/fixtures/samples';
import { memoryWorld, TEST_SECRET } from '../helpers/memory-ports';

function receiverWithLog() {
  const lines: string[] = [];
  const world = memoryWorld({ now: Date.now });
  const handler = createReceiver(
    { CRM_WEBHOOK_URL: 'http://127.0.0.1:9/crm', ELEVENLABS_WEBHOOK_SECRET: TEST_SECRET },
    {
      write: (line) => lines.push(line),
      deps: { crm: world.deps.crm, retryQueue: world.deps.retryQueue, audioStore: world.deps.audioStore },
    },
  );
  return { handler, lines, world };
}

function signedEvent(event: object, secret = TEST_SECRET) {
  const body = JSON.stringify(event);
  const signature = formatSignatureHeader(secret, Math.floor(Date.now() / 1000), body);
  return { event: apiGatewayEvent(body, { 'ElevenLabs-Signature': signature }), body, signature };
}

describe('request log lines', () => {
  it('writes exactly one JSON line per request with the contract §7 fields', async () => {
    const { handler, lines } = receiverWithLog();
    await handler(signedEvent(sampleEvent('transcription', { conversationId: 'conv_log', agentId: 'agent_log' })).event, {
      awsRequestId: 'req-1',
    });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({
      level: 'info',
      requestId: expect.any(String),
      type: 'post_call_transcription',
      conversationId: 'conv_log',
      agentId: 'agent_log',
      outcome: 'forwarded',
      statusCode: 200,
      latencyMs: expect.any(Number),
    });
  });

  it('is an EMF document: namespace, Service dimension and the metric values', async () => {
    const { handler, lines } = receiverWithLog();
    await handler(signedEvent(sampleEvent('transcription')).event);
    const line = JSON.parse(lines[0]!);
    expect(line.Service).toBe(SERVICE_NAME);
    expect(line.EventType).toBe('post_call_transcription');
    expect(line.EventsReceived).toBe(1);
    expect(line.CrmForwardSucceeded).toBe(1);
    const directives = line._aws.CloudWatchMetrics;
    expect(directives.every((d: { Namespace: string }) => d.Namespace === METRICS_NAMESPACE)).toBe(true);
    const names = directives.flatMap((d: { Metrics: { Name: string }[] }) => d.Metrics.map((m) => m.Name)).sort();
    expect(names).toEqual(['CrmForwardSucceeded', 'EventsReceived']);
    expect(directives[1].Dimensions).toEqual([['Service'], ['Service', 'EventType']]);
  });

  it('counts a rejected signature and logs it as a warning', async () => {
    const { handler, lines } = receiverWithLog();
    await handler(signedEvent(sampleEvent('transcription'), 'forged').event);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: 'warn', outcome: 'signature_rejected', statusCode: 401, SignatureRejected: 1 });
    expect(line.EventsReceived).toBeUndefined();
  });

  it('logs a secret outage as an error line with its metric', async () => {
    const lines: string[] = [];
    const handler = createReceiver({ CRM_WEBHOOK_URL: 'http://127.0.0.1:9/crm' }, { write: (l) => lines.push(l) });
    const response = await handler(signedEvent(sampleEvent('transcription')).event);
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'error', outcome: 'secret_unavailable', SecretUnavailable: 1 });
  });

  it('reports invalid configuration once at start, naming the variable, then answers 500', async () => {
    const lines: string[] = [];
    const handler = createReceiver({ CRM_WEBHOOK_URL: 'not a url', ELEVENLABS_WEBHOOK_SECRET: 's' }, { write: (l) => lines.push(l) });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'error',
      message: 'invalid configuration',
      error: expect.stringContaining('CRM_WEBHOOK_URL'),
    });
    const response = await handler(signedEvent(sampleEvent('transcription')).event);
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toEqual({ error: 'receiver misconfigured' });
  });

  it('never logs the secret, the signature, the transcript, the summary, names or a full phone number', async () => {
    const { handler, lines, world } = receiverWithLog();
    const transcription = sampleEvent('transcription');
    transcription.data.conversation_initiation_client_data.dynamic_variables.first_name = 'Zelda';
    const sent = [
      signedEvent(transcription),
      signedEvent(sampleEvent('failure')),
      signedEvent(sampleEvent('audio', { audioSeconds: 0.2 })),
      signedEvent(sampleEvent('transcription'), 'forged'),
      signedEvent({ type: 'post_call_audio', data: { agent_id: 'a', conversation_id: 'c', full_audio: '!!' } }),
    ];
    world.setCrmResult({ ok: false, attempts: 3, lastError: 'HTTP 503', permanent: false });
    sent.push(signedEvent(sampleEvent('transcription')));
    for (const { event } of sent) await handler(event);
    expect(lines).toHaveLength(sent.length);

    const log = lines.join('\n');
    const forbidden = [
      TEST_SECRET,
      'forged',
      ...sent.map((s) => s.signature.split('v0=')[1]!),
      'angelo',
      'Angelo',
      'Zelda',
      'fun fact',
      transcription.data.analysis.transcript_summary.slice(0, 40),
      '+61413052898',
      '61413052898',
      '+441111111111',
      'Call not connected',
      'SUQzBA',
    ];
    for (const text of forbidden) expect(log).not.toContain(text);
    expect(log).toContain('+********898');
  });
});

describe('metrics for refused requests (contract §3, §7)', () => {
  const signedWith = (secret: string, sourceIp: string) => {
    const body = JSON.stringify(sampleEvent('transcription'));
    return apiGatewayEvent(
      body,
      { 'ElevenLabs-Signature': formatSignatureHeader(secret, Math.floor(Date.now() / 1000), body) },
      { sourceIp },
    );
  };

  it.each([
    ['from an ElevenLabs egress IP: the stored secret is wrong', '34.87.23.17', 1],
    ['from an IPv4-mapped ElevenLabs address', '::ffff:35.204.38.71', 1],
    ['from anywhere else: probing, not a wrong secret', '203.0.113.9', undefined],
  ])('a signature mismatch %s', async (_name, ip, fromElevenLabs) => {
    const { handler, lines } = receiverWithLog();
    const result = await handler(signedWith('wsec_not_the_stored_one', ip));
    expect(result.statusCode).toBe(401);
    const line = JSON.parse(lines[0]!);
    expect(line.SignatureRejected).toBe(1);
    expect(line.SignatureMismatchFromElevenLabs).toBe(fromElevenLabs);
    expect(line.fromElevenLabs).toBe(fromElevenLabs === 1 ? true : undefined);
  });

  it('a malformed header from an ElevenLabs IP is not a secret problem', async () => {
    const { handler, lines } = receiverWithLog();
    await handler(apiGatewayEvent('{}', { 'ElevenLabs-Signature': 'garbage' }, { sourceIp: '34.67.146.145' }));
    expect(JSON.parse(lines[0]!).SignatureMismatchFromElevenLabs).toBeUndefined();
  });

  it.each([
    ['invalid JSON (400)', '{not json', 400],
    ['an invalid event (400)', '{"type":"post_call_audio","data":{"conversation_id":"c","agent_id":"a"}}', 400],
    ['invalid audio (400)', '{"type":"post_call_audio","data":{"conversation_id":"c","agent_id":"a","full_audio":"!!"}}', 400],
  ])('RequestRejected for %s', async (_name, body, status) => {
    const { handler, lines } = receiverWithLog();
    const event = apiGatewayEvent(body, {
      'ElevenLabs-Signature': formatSignatureHeader(TEST_SECRET, Math.floor(Date.now() / 1000), body),
    });
    expect((await handler(event)).statusCode).toBe(status);
    expect(JSON.parse(lines[0]!)).toMatchObject({ RequestRejected: 1 });
  });

  it('RequestRejected for a source outside ALLOWED_SOURCE_IPS (403), and nothing for a 401', async () => {
    const lines: string[] = [];
    const handler = createReceiver(
      { CRM_WEBHOOK_URL: 'http://127.0.0.1:9/crm', ELEVENLABS_WEBHOOK_SECRET: TEST_SECRET, ALLOWED_SOURCE_IPS: 'elevenlabs' },
      { write: (line) => lines.push(line) },
    );
    expect((await handler(apiGatewayEvent('{}', {}, { sourceIp: '203.0.113.9' }))).statusCode).toBe(403);
    expect((await handler(apiGatewayEvent('{}', {}, { sourceIp: '34.67.146.145' }))).statusCode).toBe(401);
    expect(lines.map((l) => JSON.parse(l).RequestRejected)).toEqual([1, undefined]);
  });
});

describe('property: no name and no unmasked number reaches a log line', () => {
  /** A distinctive given or family name followed by arbitrary text (quotes, emoji, controls). */
  const namePartArb = fc
    .tuple(
      fc.constantFrom('Siobhán', 'Zoë', 'Tūī', 'Łucja', 'Nguyễn', '李娜', 'Ngozi', 'Þórdís', 'Oluwaseun'),
      fc.string({ unit: 'grapheme', maxLength: 12 }),
    )
    .map(([name, tail]) => `${name}${tail}`.trim());
  /** Digits of a number, as a country code and a national number. */
  const digitsArb = fc.oneof(
    fc.stringMatching(/^4\d{8}$/).map((n) => ({ country: '61', national: n })), // AU mobile
    fc.stringMatching(/^[2378]\d{8}$/).map((n) => ({ country: '61', national: n })), // AU landline
    fc.stringMatching(/^[2-9]\d{2}[2-9]\d{6}$/).map((n) => ({ country: '1', national: n })), // NANP
    fc.stringMatching(/^\d{9,13}$/).map((n) => ({ country: '64', national: n })), // anything
  );
  /** How the platform, a SIP trunk or a CRM import might write that number. */
  const numberArb = fc.tuple(digitsArb, fc.integer({ min: 0, max: 5 })).map(([{ country, national }, style]) => {
    const e164 = `+${country}${national}`;
    const written = [
      e164,
      `+${country} ${national.slice(0, 3)} ${national.slice(3, 6)} ${national.slice(6)}`,
      country === '61' ? `0${national}` : e164,
      `tel:+${country}-${national}`,
      `sip:${e164}@trunk.example.com;transport=tls`,
      `${country}${national}`,
    ][style]!;
    return { written, digits: `${country}${national}` };
  });
  const sipUserArb = namePartArb.map((user) => `sip:${encodeURIComponent(user)}@pbx.example.com`);

  type Case = { body: Json; secrets: string[]; digits?: string };
  const caseArb: fc.Arbitrary<Case> = fc
    .record({
      first: namePartArb,
      last: namePartArb,
      where: fc.constantFrom(
        'name',
        'caller_name',
        'first/last variables',
        'First Name/Last Name collected',
        'user_name collected',
        'failure',
      ),
      number: fc.option(numberArb, { nil: undefined }),
      sipUser: fc.option(sipUserArb, { nil: undefined }),
      inbound: fc.boolean(),
    })
    .map(({ first, last, where, number, sipUser, inbound }) => {
      const contact = sipUser ?? number?.written ?? '+61491570156';
      const full = `${first} ${last}`;
      const secrets = [full, first, last, ...(sipUser ? [decodeURIComponent(sipUser.slice(4, sipUser.indexOf('@')))] : [])];
      if (where === 'failure') {
        const body = realInitiationFailure('busy', { to: contact });
        body.data.conversation_initiation_client_data.dynamic_variables = { first_name: first, last_name: last };
        return { body, secrets, digits: number?.digits };
      }
      const body = realCall({ direction: inbound ? 'inbound' : 'outbound', contactNumber: contact, dataCollection: {} });
      const variables = body.data.conversation_initiation_client_data.dynamic_variables;
      const results = body.data.analysis.data_collection_results;
      if (where === 'name' || where === 'caller_name') variables[where] = full;
      if (where === 'first/last variables') Object.assign(variables, { first_name: first, last_name: last });
      if (where === 'First Name/Last Name collected')
        Object.assign(results, { 'First Name': collected('First Name', first), 'Last Name': collected('Last Name', last) });
      if (where === 'user_name collected') results.user_name = collected('user_name', full);
      // The name in the summary too: a summary must never be logged either.
      body.data.analysis.transcript_summary = `${full} confirmed the appointment.`;
      return { body, secrets, digits: number?.digits };
    });

  it('holds for arbitrary names and numbers, forwarded or queued', async () => {
    const { handler, lines, world } = receiverWithLog();
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, fc.boolean(), async ({ body, secrets, digits }, crmDown) => {
        world.setCrmResult(crmDown ? { ok: false, attempts: 3, lastError: 'HTTP 503', permanent: false } : { ok: true, attempts: 1 });
        lines.length = 0;
        const response = await handler(signedEvent(body).event);
        expect(response.statusCode).toBe(200);
        const log = lines.join('\n');
        for (const secret of secrets) {
          expect(log).not.toContain(secret);
          expect(log).not.toContain(JSON.stringify(secret).slice(1, -1)); // as JSON would escape it
        }
        if (digits !== undefined) {
          expect(log).not.toContain(digits);
          const crmTo = JSON.parse(lines[0]!).crmTo as string;
          // A valid number is logged masked, its last three digits only; anything else as "Unknown".
          expect(crmTo === 'Unknown' || (crmTo.endsWith(digits.slice(-3)) && /^\+\*+\d{3}$/.test(crmTo))).toBe(true);
        }
        checked += 1;
      }),
      { seed: 20261125, numRuns: 150 },
    );
    expect(checked).toBe(150);
    // The CRM did get the names: the property is about logs, not about dropping data.
    expect(world.crmCalls.some((payload) => payload.name !== 'Unknown')).toBe(true);
  });
});
