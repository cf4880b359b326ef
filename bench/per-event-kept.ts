/**
 * Figure 3c: what "every call kept" (contract §10) adds per event. The same signed transcriptions
 * through two receivers in this process, alternating in blocks: one as figure 3 configures it,
 * one with the stack's settings (ARCHIVE_EVENTS on, AUDIO_CHECK_QUEUE_URL set), whose S3 PutObject
 * and SQS SendMessage run alongside the CRM forward against stand-ins in another process that
 * answer at once. Reported, not a target: the archive and the audio check are two more requests
 * per event, and against a loopback CRM no network wait can hide their CPU (see the README).
 */
import { createReceiver } from '../lambda/create-receiver';
import { startCrmStandIn } from '../support/stand-ins/crm';
import { alternateBlocks, eventsNeeded } from './lib/alternate';
import { BENCH_SECRET } from './lib/local-env';
import { type Measurement, ms } from './lib/report';
import { gatewayEvent, signedTranscriptions } from './lib/signed-events';
import { startStandIns } from './lib/stand-ins';
import { percentile, round } from './lib/stats';

export interface PerEventKeptData {
  events: number;
  withoutMs: { p50: number; p99: number };
  keptMs: { p50: number; p99: number };
  growthP50: number;
}

export async function benchPerEventKept(quick: boolean): Promise<Measurement<PerEventKeptData>> {
  const started = performance.now();
  const events = quick ? 300 : 2000;
  const rounds = quick ? 3 : 10;
  const counts = { warmup: quick ? 200 : 1000, rounds, perRound: Math.ceil(events / rounds) };
  const sink = await startCrmStandIn({ record: false });
  const standIns = await startStandIns();
  try {
    const without = createReceiver({ CRM_WEBHOOK_URL: sink.url, ELEVENLABS_WEBHOOK_SECRET: BENCH_SECRET }, { write: () => undefined });
    let lastLine = '';
    const kept = createReceiver(
      {
        CRM_WEBHOOK_URL: sink.url,
        ELEVENLABS_WEBHOOK_SECRET: BENCH_SECRET,
        AUDIO_BUCKET: standIns.bucket,
        AWS_ENDPOINT_URL_S3: standIns.nullS3Endpoint,
        ARCHIVE_EVENTS: 'true',
        AUDIO_CHECK_QUEUE_URL: standIns.audioCheckQueueUrl,
      },
      {
        write: (line) => {
          lastLine = line;
        },
      },
    );
    const bodies = signedTranscriptions(BENCH_SECRET, eventsNeeded(counts));
    const gatewayEvents = bodies.map((b, i) => gatewayEvent(b, `kept-${i}`));
    const time = async (handler: typeof kept, i: number, check: boolean) => {
      const t0 = performance.now();
      const result = await handler(gatewayEvents[i]!, { awsRequestId: `kept-${i}` });
      const elapsed = performance.now() - t0;
      if (result.statusCode !== 200) throw new Error(`handler answered ${result.statusCode}`);
      if (check && !(lastLine.includes('"archive":"archived"') && lastLine.includes('"audioCheck":"scheduled"'))) {
        throw new Error(`archive or audio check did not happen: ${lastLine.slice(0, 160)}`);
      }
      return elapsed;
    };
    const samples = await alternateBlocks(
      (i) => time(without, i, false),
      (i) => time(kept, i, true),
      counts,
    );
    const withoutSamples = samples.a;
    const keptSamples = samples.b;
    const withoutMs = { p50: percentile(withoutSamples, 50), p99: percentile(withoutSamples, 99) };
    const keptMs = { p50: percentile(keptSamples, 50), p99: percentile(keptSamples, 99) };
    const growth = keptMs.p50 / withoutMs.p50 - 1;
    return {
      name: 'perEventKept',
      rows: [
        {
          figure: `3c. per-event p50, archive + audio check on (${keptSamples.length} events)`,
          ours: ms(keptMs.p50),
          baseline: `without them ${ms(withoutMs.p50)}`,
          comparison: `+${(growth * 100).toFixed(0)}%: an S3 PutObject and an SQS SendMessage per event (p99 ${ms(keptMs.p99)})`,
          target: '(info)',
          verdict: 'reported',
        },
      ],
      checks: [],
      data: {
        events: keptSamples.length,
        withoutMs: { p50: round(withoutMs.p50, 4), p99: round(withoutMs.p99, 4) },
        keptMs: { p50: round(keptMs.p50, 4), p99: round(keptMs.p99, 4) },
        growthP50: round(growth),
      },
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await sink.close();
    await standIns.close();
  }
}
