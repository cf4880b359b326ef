/**
 * Figure 3: per-event overhead. Signed transcription events go one at a time through the real
 * handler (createReceiver, logs silenced) in this process, forwarding to a CRM sink on
 * 127.0.0.1. The floor, in the same process against the same sink: HMAC-SHA256 over the body,
 * JSON.parse, and one POST of a body the size of the handler's CRM payload over an undici
 * keep-alive Agent (the client the handler uses, lambda/adapters/crm-client.ts). Handler and
 * floor alternate in blocks so GC, JIT and machine drift fall on both; p50/p99 over all samples.
 */
import { createReceiver } from '../lambda/create-receiver';
import { startCrmStandIn } from '../support/stand-ins/crm';
import { alternateBlocks, eventsNeeded } from './lib/alternate';
import { createFloor } from './lib/floor';
import { BENCH_SECRET } from './lib/local-env';
import { atMost, type Measurement, ms, times, verdict } from './lib/report';
import { gatewayEvent, signedTranscriptions } from './lib/signed-events';
import { percentile, round } from './lib/stats';

export interface PerEventData {
  events: number;
  rounds: number;
  bodyBytes: number;
  crmPayloadBytes: number;
  handlerMs: { p50: number; p99: number; roundP50s: number[] };
  floorMs: { p50: number; p99: number; roundP50s: number[] };
  ratio: { p50: number; p99: number };
}

export async function benchPerEvent(quick: boolean): Promise<Measurement<PerEventData>> {
  const started = performance.now();
  const events = quick ? 300 : 3000;
  const rounds = quick ? 3 : 10;
  const counts = { warmup: quick ? 200 : 1500, rounds, perRound: Math.ceil(events / rounds) };
  const sink = await startCrmStandIn({ record: false });
  const handler = createReceiver({ CRM_WEBHOOK_URL: sink.url, ELEVENLABS_WEBHOOK_SECRET: BENCH_SECRET }, { write: () => undefined });

  const bodies = signedTranscriptions(BENCH_SECRET, eventsNeeded(counts) + 1);
  const gatewayEvents = bodies.map((b, i) => gatewayEvent(b, `bench-${i}`));
  // Lambda always passes a context with the invocation's request id; so do we.
  const contexts = bodies.map((_, i) => ({ awsRequestId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }));

  const runHandler = async (i: number) => {
    const t0 = performance.now();
    const result = await handler(gatewayEvents[i]!, contexts[i]!);
    const elapsed = performance.now() - t0;
    if (result.statusCode !== 200 || !result.body.includes('"forwarded":true')) {
      throw new Error(`handler answered ${result.statusCode}: ${result.body.slice(0, 80)}`);
    }
    return elapsed;
  };

  // One event first, to learn the size of the CRM payload the handler sends.
  await runHandler(0);
  const crmPayloadBytes = sink.stats.lastBodyBytes;
  const floor = createFloor(BENCH_SECRET, sink.url, crmPayloadBytes);
  let observed = 0;

  const runFloor = async (i: number) => {
    const { body, headers } = bodies[i]!;
    const t0 = performance.now();
    const result = await floor.run(body, headers['elevenlabs-signature']!);
    const elapsed = performance.now() - t0;
    if (result.statusCode !== 200) throw new Error(`floor POST answered ${result.statusCode}`);
    observed += result.digestLength + result.type.length; // keep the work observable so it is not optimised away
    return elapsed;
  };

  try {
    // Event 0 was the handler's first; the warm-up starts again from 1.
    const samples = await alternateBlocks(
      (i) => runHandler(i + 1),
      (i) => runFloor(i + 1),
      counts,
    );
    const handlerSamples = samples.a;
    const floorSamples = samples.b;
    const handlerRoundP50 = samples.roundP50s.a;
    const floorRoundP50 = samples.roundP50s.b;
    if (observed === 0) throw new Error('floor did no work');

    const handlerMs = { p50: percentile(handlerSamples, 50), p99: percentile(handlerSamples, 99) };
    const floorMs = { p50: percentile(floorSamples, 50), p99: percentile(floorSamples, 99) };
    const ratio = { p50: handlerMs.p50 / floorMs.p50, p99: handlerMs.p99 / floorMs.p99 };
    const checks = [
      atMost('per-event overhead ≤ 1.5× the floor at p50', ratio.p50, 1.5, '×'),
      atMost('per-event overhead ≤ 3× the floor at p99', ratio.p99, 3, '×'),
    ];
    const n = handlerSamples.length;
    return {
      name: 'perEvent',
      rows: [
        {
          figure: `3. per-event p50 (${n} events)`,
          ours: ms(handlerMs.p50),
          baseline: `floor ${ms(floorMs.p50)}`,
          comparison: times(ratio.p50),
          target: '≤ 1.5× floor',
          verdict: verdict(checks[0]!),
        },
        {
          figure: `3. per-event p99 (${n} events)`,
          ours: ms(handlerMs.p99),
          baseline: `floor ${ms(floorMs.p99)}`,
          comparison: times(ratio.p99),
          target: '≤ 3× floor',
          verdict: verdict(checks[1]!),
        },
      ],
      checks,
      data: {
        events: n,
        rounds,
        bodyBytes: Buffer.byteLength(bodies[0]!.body),
        crmPayloadBytes,
        handlerMs: { p50: round(handlerMs.p50, 4), p99: round(handlerMs.p99, 4), roundP50s: handlerRoundP50.map((v) => round(v, 4)) },
        floorMs: { p50: round(floorMs.p50, 4), p99: round(floorMs.p99, 4), roundP50s: floorRoundP50.map((v) => round(v, 4)) },
        ratio: { p50: round(ratio.p50), p99: round(ratio.p99) },
      },
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await floor.close();
    await sink.close();
  }
}
