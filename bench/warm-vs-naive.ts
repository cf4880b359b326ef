/**
 * Figure 12: the warm per-event time against the naive reference receiver (issue 20), on Node.js
 * 24, with the stack's settings (lib/stack-env.ts): both receivers in one child process
 * (warm-vs-naive-child.ts), signed transcriptions one at a time, alternating in blocks. Against a
 * CRM that answers in 20 ms, as one across a network does (target: p50 ≤ 1.05× naive, which does
 * one idempotency write where the receiver, rightly, does two: contract §2 step 6), and against
 * the instant loopback CRM (a guard, reported: there the CPU of every step shows). S3 is the
 * stand-in that acknowledges at once (as in figure 3c), so neither receiver waits on disk writes.
 */
import { pathToFileURL } from 'node:url';
import { startCrmStandIn } from '../support/stand-ins/crm';
import type { AlternateCounts } from './lib/alternate';
import { ROOT, runNodeJson, tsxArgs } from './lib/child';
import { childEnv } from './lib/local-env';
import { node24 } from './lib/node24';
import { atMost, type Measurement, ms, times, verdict } from './lib/report';
import { stackSettings } from './lib/stack-env';
import { startStandIns } from './lib/stand-ins';
import { round } from './lib/stats';
import { NAIVE_BUNDLE } from './naive/build';

interface ChildAnswer {
  ours: { p50: number; p99: number };
  naive: { p50: number; p99: number };
}

export interface WarmVsNaiveData {
  node: string;
  crm20Ms: ChildAnswer & { events: number; ratioP50: number };
  instantCrm: ChildAnswer & { events: number; ratioP50: number };
}

/** What the slow CRM stand-in waits before answering: a CRM in the same region (figures 2e, 3c use the same). */
const CRM_LATENCY_MS = 20;
const RATIO_LIMIT = 1.05;

/** Needs dist/receiver (figure 1 builds it) and dist/naive-receiver (figure 11 builds it). */
export async function benchWarmVsNaive(quick: boolean): Promise<Measurement<WarmVsNaiveData>> {
  const started = performance.now();
  const node = node24();
  const slowCounts: AlternateCounts = quick ? { warmup: 10, rounds: 2, perRound: 10 } : { warmup: 50, rounds: 6, perRound: 50 };
  const fastCounts: AlternateCounts = quick ? { warmup: 50, rounds: 2, perRound: 30 } : { warmup: 500, rounds: 10, perRound: 200 };
  const slow = await startCrmStandIn({ record: false });
  slow.respond({ status: 200, delayMs: CRM_LATENCY_MS });
  const fast = await startCrmStandIn({ record: false });
  const standIns = await startStandIns();
  const bundles = [pathToFileURL(`${ROOT}dist/receiver/index.mjs`).href, pathToFileURL(NAIVE_BUNDLE).href];
  const compare = async (crmUrl: string, counts: AlternateCounts) => {
    const answer = await runNodeJson<ChildAnswer>({
      node: node.binary,
      args: tsxArgs('warm-vs-naive-child.ts', ...bundles),
      env: childEnv({ ...stackSettings(standIns, crmUrl, { s3: 'null' }), BENCH_COUNTS: JSON.stringify(counts) }),
      timeoutMs: 300_000,
    });
    return { ...answer, events: counts.rounds * counts.perRound, ratioP50: answer.ours.p50 / answer.naive.p50 };
  };
  let data: WarmVsNaiveData;
  try {
    data = { node: node.version, crm20Ms: await compare(slow.url, slowCounts), instantCrm: await compare(fast.url, fastCounts) };
  } finally {
    await Promise.all([slow.close(), fast.close()]);
    await standIns.close();
  }
  const check = atMost(
    `warm per-event p50, stack settings, CRM answering in ${CRM_LATENCY_MS} ms ≤ ${RATIO_LIMIT}× the naive receiver's (Node 24)`,
    data.crm20Ms.ratioP50,
    RATIO_LIMIT,
    '×',
  );
  const { crm20Ms: slowRun, instantCrm: fastRun } = data;
  return {
    name: 'warmVsNaive',
    rows: [
      {
        figure: `12. warm per-event p50, stack settings, CRM in ${CRM_LATENCY_MS} ms (${slowRun.events} events each, Node ${node.version})`,
        ours: ms(slowRun.ours.p50),
        baseline: `naive ${ms(slowRun.naive.p50)}`,
        comparison: `${times(slowRun.ratioP50)} (p99 ${ms(slowRun.ours.p99)} vs ${ms(slowRun.naive.p99)})`,
        target: `≤ ${RATIO_LIMIT}× naive`,
        verdict: verdict(check),
      },
      {
        figure: `12. the same, instant loopback CRM (${fastRun.events} events each)`,
        ours: ms(fastRun.ours.p50),
        baseline: `naive ${ms(fastRun.naive.p50)}`,
        comparison: `${times(fastRun.ratioP50)}: two idempotency writes against one (p99 ${ms(fastRun.ours.p99)} vs ${ms(fastRun.naive.p99)})`,
        target: '(guard: reported)',
        verdict: 'reported',
      },
    ],
    checks: [check],
    data: {
      ...data,
      crm20Ms: { ...slowRun, ratioP50: round(slowRun.ratioP50) },
      instantCrm: { ...fastRun, ratioP50: round(fastRun.ratioP50) },
    },
    seconds: (performance.now() - started) / 1000,
  };
}
