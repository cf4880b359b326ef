/**
 * The server side of figure 6, in its own process so the load generator does not share its
 * event loop: a CRM sink and the local server (scripts/lib/local-server.ts) on 127.0.0.1, in
 * front of either the real receiver or the floor handler. Prints its URL, then serves until
 * its parent closes stdin.
 *
 * mode `receiver`: createReceiver, logs silenced (stdout logging is not what is measured).
 * mode `floor`:    HMAC-SHA256 over the body + JSON.parse + one POST of the CRM payload's size
 *                  over an undici keep-alive Agent, the same floor as figure 3.
 */
import type { AddressInfo } from 'node:net';
import { createReceiver } from '../lambda/create-receiver';
import { createLocalServer, type LocalHandler, WEBHOOK_PATH } from '../scripts/lib/local-server';
import { startCrmStandIn } from '../support/stand-ins/crm';
import { createFloor } from './lib/floor';

const mode = process.argv[2] === 'floor' ? 'floor' : 'receiver';
const secret = process.env.BENCH_WEBHOOK_SECRET!;
const crmPayloadBytes = Number(process.env.BENCH_CRM_PAYLOAD_BYTES ?? 700);
const sink = await startCrmStandIn({ record: false });

let handler: LocalHandler;
if (mode === 'receiver') {
  handler = createReceiver({ CRM_WEBHOOK_URL: sink.url, ELEVENLABS_WEBHOOK_SECRET: secret }, { write: () => undefined });
} else {
  const floor = createFloor(secret, sink.url, crmPayloadBytes);
  handler = async (event) => {
    const result = await floor.run(event.body ?? '', event.headers['elevenlabs-signature'] ?? '');
    return { statusCode: result.statusCode, body: JSON.stringify({ received: true, type: result.type, d: result.digestLength }) };
  };
}

const server = createLocalServer({ handler });
server.keepAliveTimeout = 10_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}${WEBHOOK_PATH}` })}\n`);

// Stop when the parent goes away (stdin closes) so no server outlives the benchmark.
process.stdin.resume();
process.stdin.on('end', () => {
  process.stdout.write(`${JSON.stringify({ crmRequests: sink.stats.requests })}\n`, () => process.exit(0));
});
