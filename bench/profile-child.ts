/**
 * Runs signed transcription events through the handler (or the floor of bench/per-event.ts)
 * for `node --cpu-prof`; started by bench/profile.ts, which owns the CRM sink so this
 * process's profile holds the handler's work only.
 */
import { createReceiver } from '../lambda/create-receiver';
import { createFloor } from './lib/floor';
import { gatewayEvent, signedTranscriptions } from './lib/signed-events';

const mode = process.argv[2] === 'floor' ? 'floor' : 'handler';
const events = Number(process.env.BENCH_EVENTS ?? 20_000);
const secret = process.env.BENCH_WEBHOOK_SECRET!;
const crmUrl = process.env.CRM_WEBHOOK_URL!;
const bodies = signedTranscriptions(secret, events);
const handler = createReceiver({ CRM_WEBHOOK_URL: crmUrl, ELEVENLABS_WEBHOOK_SECRET: secret }, { write: () => undefined });
const floor = createFloor(secret, crmUrl, Number(process.env.BENCH_CRM_PAYLOAD_BYTES ?? 700));

const t0 = performance.now();
for (let i = 0; i < bodies.length; i++) {
  const { body, headers } = bodies[i]!;
  if (mode === 'handler') {
    const result = await handler(gatewayEvent(bodies[i]!, `p-${i}`), { awsRequestId: `p-${i}` });
    if (result.statusCode !== 200) throw new Error(`handler answered ${result.statusCode}`);
  } else {
    await floor.run(body, headers['elevenlabs-signature']!);
  }
}
process.stdout.write(`${JSON.stringify({ mode, events, msPerEvent: (performance.now() - t0) / events })}\n`, () => process.exit(0));
