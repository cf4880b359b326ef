/**
 * Figure 12's child, on Node.js 24: imports the receiver bundle and the naive one (both build
 * their handler from this process's environment, the stack's settings), then times signed
 * transcriptions through each in alternating blocks (lib/alternate.ts). Each receiver gets its
 * own events (fresh conversation ids: never a duplicate). Prints one JSON line.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { type AlternateCounts, alternateBlocks, eventsNeeded } from './lib/alternate';
import { gatewayEvent, signedTranscriptions } from './lib/signed-events';
import { percentile } from './lib/stats';

type Handler = (event: unknown, context: object) => Promise<APIGatewayProxyResult>;

const [oursUrl, naiveUrl] = process.argv.slice(2) as [string, string];
const counts = JSON.parse(process.env.BENCH_COUNTS!) as AlternateCounts;
const secret = process.env.BENCH_WEBHOOK_SECRET!;

// Both receivers log one line per event to stdout: keep the last, to check the call was kept.
let lastLine = '';
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array) => {
  lastLine = String(chunk);
  return true;
}) as typeof process.stdout.write;

const ours = (await import(oursUrl)).handler as Handler;
const naive = (await import(naiveUrl)).handler as Handler;
const needed = eventsNeeded(counts);
const events = (side: string) => signedTranscriptions(secret, needed).map((b, i) => gatewayEvent(b, `warm-${side}-${i}`));
const inputs = { ours: events('ours'), naive: events('naive') };

const timed = (side: 'ours' | 'naive', handler: Handler) => async (i: number) => {
  const t0 = performance.now();
  const result = await handler(inputs[side][i], { awsRequestId: `warm-${side}-${i}`, getRemainingTimeInMillis: () => 28_000 });
  const elapsed = performance.now() - t0;
  const kept = lastLine.includes('"archive":"archived"') && lastLine.includes('"audioCheck":"scheduled"');
  if (result.statusCode !== 200 || !result.body.includes('"forwarded":true') || !kept) {
    throw new Error(`${side} answered ${result.statusCode} (${result.body.slice(0, 80)}); kept: ${kept}`);
  }
  return elapsed;
};

const samples = await alternateBlocks(timed('ours', ours), timed('naive', naive), counts);
const summary = (s: number[]) => ({ p50: percentile(s, 50), p99: percentile(s, 99) });
write(`\n${JSON.stringify({ ours: summary(samples.a), naive: summary(samples.b), roundP50s: samples.roundP50s })}\n`, () =>
  process.exit(0),
);
