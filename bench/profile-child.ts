/**
 * Runs signed transcription events through the handler (or the floor of bench/per-event.ts)
 * for `node --cpu-prof`; started by bench/profile.ts, which owns the CRM sink so this
 * process's profile holds the handler's work only.
 */
import { createHmac } from 'node:crypto';
import { Agent, type Dispatcher, request } from 'undici';
import { createReceiver } from '../lambda/create-receiver';
import { apiGatewayEvent, signedTranscriptions } from './lib/signed-events';

const mode = process.argv[2] === 'floor' ? 'floor' : 'handler';
const events = Number(process.env.BENCH_EVENTS ?? 20_000);
const secret = process.env.BENCH_WEBHOOK_SECRET!;
const crmUrl = process.env.CRM_WEBHOOK_URL!;
const crmBody = `{"p":"${'x'.repeat(Math.max(0, Number(process.env.BENCH_CRM_PAYLOAD_BYTES ?? 700) - 8))}"}`;
const bodies = signedTranscriptions(secret, events);
const handler = createReceiver({ CRM_WEBHOOK_URL: crmUrl, ELEVENLABS_WEBHOOK_SECRET: secret }, { write: () => undefined });
const agent = new Agent({ keepAliveTimeout: 4_000, keepAliveMaxTimeout: 60_000, connections: 32 });

// Named, so the floor's three parts show up by name in its profile.
function floorHmac(sig: string, body: string): string {
  return createHmac('sha256', secret).update(`${sig.slice(2, sig.indexOf(','))}.`).update(body).digest('hex');
}
function floorParse(body: string): unknown {
  return JSON.parse(body);
}
async function floorPost(): Promise<void> {
  const response = await request(crmUrl, {
    method: 'POST',
    dispatcher: agent as Dispatcher,
    headers: { 'content-type': 'application/json', 'user-agent': 'bench-floor/1' },
    body: crmBody,
  });
  await response.body.dump();
}

const t0 = performance.now();
for (let i = 0; i < bodies.length; i++) {
  const { body, headers } = bodies[i]!;
  if (mode === 'handler') {
    const result = await handler(apiGatewayEvent(bodies[i]!, `p-${i}`), { awsRequestId: `p-${i}` });
    if (result.statusCode !== 200) throw new Error(`handler answered ${result.statusCode}`);
  } else {
    floorHmac(headers['elevenlabs-signature']!, body);
    floorParse(body);
    await floorPost();
  }
}
process.stdout.write(`${JSON.stringify({ mode, events, msPerEvent: (performance.now() - t0) / events })}\n`, () => process.exit(0));
