/**
 * Figure 11: the cold first answer (SPEC §14, issue 20), against the naive reference receiver
 * (bench/naive/receiver.ts) in the same run, on Node.js 24 (lib/node24.ts). Each run is a whole
 * fresh process: start Node, import the bundle (which builds the handler, as Lambda INIT does),
 * handle one signed `post_call_transcription` with the stack's settings (lib/stack-env.ts; every
 * AWS part a loopback stand-in in another process, the CRM a loopback server in this one, each
 * behind HTTPS as on AWS: support/stand-ins/tls-front.ts), exit. The stack's settings include
 * the receiver's compile cache, which the stack makes at deploy time on the receiver's runtime
 * (infra/compile-cache-layer.ts); here the same fill makes it on this Node 24 before the pairs.
 * Runs alternate in pairs, receiver then naive, then naive then receiver, so drift on the machine
 * falls on both; the ratio is taken pair by pair and its median reported.
 *
 * Per process: wall time from spawn to exit (measured here), CPU time user + system and peak RSS
 * (`process.resourceUsage()` in the child just before it exits: its own accounting, all threads).
 * Import time and the first event's time alone are information: work moved from one into the
 * other counts the same (§14).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startCrmStandIn } from '../support/stand-ins/crm';
import { startTlsFront } from '../support/stand-ins/tls-front';
import { ROOT, runNodeJson } from './lib/child';
import { BENCH_SECRET, childEnv } from './lib/local-env';
import { node24 } from './lib/node24';
import { atMost, type Check, type Measurement, ms, times, verdict } from './lib/report';
import { gatewayEvent, signedBody } from './lib/signed-events';
import { stackSettings } from './lib/stack-env';
import { startStandIns } from './lib/stand-ins';
import { median, round } from './lib/stats';
import { buildNaiveReceiver } from './naive/build';

/** What one fresh process reports (CHILD below), plus its wall time measured from here. */
export interface ProcessRun {
  wallMs: number;
  importMs: number;
  firstEventMs: number;
  cpuMs: number;
  peakRssKiB: number;
}

/**
 * Imports argv[1], handles the event in BENCH_EVENT with a Lambda-style context, prints one JSON
 * line and exits (keep-alive sockets would hold it open). Log lines are captured so the answer
 * says whether the archive and the audio check really happened.
 */
const CHILD = `
const log = [];
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => { const s = String(chunk); if (s.startsWith('{')) { log.push(s); return true; } return write(chunk, ...rest); };
const t0 = performance.now();
const mod = await import(process.argv[1]);
const importMs = performance.now() - t0;
const event = JSON.parse(process.env.BENCH_EVENT);
const t1 = performance.now();
const result = await mod.handler(event, { awsRequestId: 'first-answer', getRemainingTimeInMillis: () => 28000 - (performance.now() - t1) });
const firstEventMs = performance.now() - t1;
const usage = process.resourceUsage();
const line = log.length ? JSON.parse(log.at(-1)) : {};
write('\\n' + JSON.stringify({
  importMs, firstEventMs, status: result.statusCode, forwarded: String(result.body).includes('"forwarded":true'),
  archive: line.archive ?? null, audioCheck: line.audioCheck ?? null,
  cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, peakRssKiB: usage.maxRSS,
}) + '\\n', () => process.exit(0));
`;

interface ChildAnswer extends Omit<ProcessRun, 'wallMs'> {
  status: number;
  forwarded: boolean;
  archive: string | null;
  audioCheck: string | null;
}

/** Issue 20: the cold first answer at most 0.8× the naive receiver's wall time, peak RSS no higher. */
const WALL_RATIO_LIMIT = 0.8;

type Side = 'ours' | 'naive';
type Stat = { median: number; samples: number[] };

export interface FirstAnswerData {
  node: string;
  pairs: number;
  ours: Record<keyof ProcessRun, Stat>;
  naive: Record<keyof ProcessRun, Stat>;
  /** Ours' compile cache (SPEC §14), filled before the pairs as the layer builder fills it. */
  compileCache: CompileCacheMade;
  /** Medians of ours ÷ naive, pair by pair. */
  ratio: { wall: number; cpu: number; peakRss: number };
}

/** The stand-ins, the CRM and the environment of figure 11, and one fresh process per call. */
export interface FirstAnswerRig {
  node: { binary: string; version: string };
  /** A child's environment: the stack's settings pointing at the stand-ins (bench/profile-cold.ts runs its own child with it). */
  env: Record<string, string>;
  /** One fresh process: import `bundleUrl`, answer one new signed transcription, exit; `extraEnv` added to its environment. */
  run(bundleUrl: string, label: string, extraEnv?: Record<string, string>): Promise<ProcessRun>;
  close(): Promise<void>;
}

export async function startFirstAnswerRig(): Promise<FirstAnswerRig> {
  const node = node24();
  const crm = await startCrmStandIn({ record: false });
  const standIns = await startStandIns({ tls: true });
  const crmFront = await startTlsFront(crm.url, standIns.tls!.certificate);
  const env = childEnv(stackSettings(standIns, crmFront.origin));
  let id = 0;
  return {
    node,
    env,
    async run(bundleUrl, label, extraEnv = {}) {
      // A fresh conversation per process, signed now: never a duplicate, never stale.
      const event = gatewayEvent(signedBody(BENCH_SECRET, 'transcription'), `first-${label}-${id++}`);
      const t0 = performance.now();
      const a = await runNodeJson<ChildAnswer>({
        node: node.binary,
        args: ['--input-type=module', '-e', CHILD, bundleUrl],
        env: { ...env, ...extraEnv, BENCH_EVENT: JSON.stringify(event) },
      });
      const wallMs = performance.now() - t0;
      if (!(a.status === 200 && a.forwarded && a.archive === 'archived' && a.audioCheck === 'scheduled')) {
        throw new Error(
          `${label}: first event answered ${a.status}, forwarded ${a.forwarded}, archive ${a.archive}, audio check ${a.audioCheck}`,
        );
      }
      return { wallMs, importMs: a.importMs, firstEventMs: a.firstEventMs, cpuMs: a.cpuMs, peakRssKiB: a.peakRssKiB };
    },
    async close() {
      await crmFront.close();
      await crm.close();
      await standIns.close();
    },
  };
}

/**
 * `pairs` alternating pairs of fresh processes (`a` then `b`, then `b` then `a`) after one
 * unmeasured pair that warms the OS page cache for node24, the builds and their chunks; what
 * figure 11, bench/compare-cold.ts and bench/compile-cache.ts measure. `onPair` sees each pair's runs.
 */
export async function runPairs<S extends string>(
  pairs: number,
  [a, b]: readonly [S, S],
  run: (side: S) => Promise<ProcessRun>,
  onPair?: (done: number, last: Record<S, ProcessRun>) => void,
): Promise<Record<S, ProcessRun[]>> {
  await run(a);
  await run(b);
  const runs = { [a]: [], [b]: [] } as unknown as Record<S, ProcessRun[]>;
  for (let i = 0; i < pairs; i++) {
    for (const side of i % 2 === 0 ? [a, b] : [b, a]) runs[side].push(await run(side));
    onPair?.(i + 1, { [a]: runs[a].at(-1)!, [b]: runs[b].at(-1)! } as Record<S, ProcessRun>);
  }
  return runs;
}

/** The median over pairs of `over`'s `field` ÷ `under`'s. */
export function pairRatio(over: readonly ProcessRun[], under: readonly ProcessRun[], field: keyof ProcessRun): number {
  return median(over.map((r, i) => r[field] / under[i]![field]));
}

/** What `fillReceiverCompileCache` made. */
export interface CompileCacheMade {
  folder: string;
  files: number;
  kib: number;
}

/**
 * Fills Node's compile cache for dist/receiver in `cacheDir` the way the stack does at deploy time
 * (SPEC §14, infra/compile-cache-layer.ts): a fresh Node 24 process runs the layer builder's own
 * fill (`fillCompileCache`, exported by dist/receiver/layer-builder) over the receiver's chunks.
 * The receiver then reads it with NODE_COMPILE_CACHE=`cacheDir`, as on Lambda it reads the layer.
 */
export async function fillReceiverCompileCache(node: string, cacheDir: string): Promise<CompileCacheMade> {
  const child = `
    const { fillCompileCache } = await import(process.argv[1]);
    const fill = await fillCompileCache(process.env.CODE_DIR, process.env.CACHE_DIR);
    const bytes = fill.files.reduce((sum, file) => sum + file.data.byteLength, 0);
    process.stdout.write('\\n' + JSON.stringify({ folder: fill.tag, files: fill.files.length, kib: Math.round(bytes / 1024), failed: fill.failed }) + '\\n');
  `;
  const made = await runNodeJson<CompileCacheMade & { failed: number }>({
    node,
    args: ['--input-type=module', '-e', child, pathToFileURL(`${ROOT}dist/receiver/layer-builder/index.mjs`).href],
    // LAYER_BUCKET only quiets the builder's configuration check at import; nothing is written.
    env: { PATH: process.env.PATH ?? '', CODE_DIR: `${ROOT}dist/receiver`, CACHE_DIR: cacheDir, LAYER_BUCKET: 'bench' },
  });
  if (made.failed > 0 || made.files === 0)
    throw new Error(`the compile cache fill imported ${made.failed} chunk(s) with errors, wrote ${made.files} file(s)`);
  return { folder: made.folder, files: made.files, kib: made.kib };
}

export async function benchFirstAnswer(quick: boolean): Promise<Measurement<FirstAnswerData>> {
  const started = performance.now();
  const pairs = quick ? 5 : 20;
  const bundles: Record<Side, string> = {
    ours: pathToFileURL(`${ROOT}dist/receiver/index.mjs`).href,
    naive: pathToFileURL(await buildNaiveReceiver()).href,
  };
  const rig = await startFirstAnswerRig();
  const cacheDir = mkdtempSync(join(tmpdir(), 'bench-compile-cache-'));
  let runs: Record<Side, ProcessRun[]>;
  let cache: CompileCacheMade;
  try {
    // The stack's settings include the receiver's deploy-time compile cache; the naive receiver has none.
    cache = await fillReceiverCompileCache(rig.node.binary, cacheDir);
    const extraEnv: Record<Side, Record<string, string>> = { ours: { NODE_COMPILE_CACHE: cacheDir }, naive: {} };
    runs = await runPairs(pairs, ['ours', 'naive'], (side) => rig.run(bundles[side], side, extraEnv[side]));
  } finally {
    await rig.close();
    rmSync(cacheDir, { recursive: true, force: true });
  }
  return report(rig.node.version, pairs, runs, cache, (performance.now() - started) / 1000);
}

function report(
  nodeVersion: string,
  pairs: number,
  runs: Record<Side, ProcessRun[]>,
  cache: CompileCacheMade,
  seconds: number,
): Measurement<FirstAnswerData> {
  const fields = ['wallMs', 'importMs', 'firstEventMs', 'cpuMs', 'peakRssKiB'] as const;
  const stats = (side: Side) =>
    Object.fromEntries(
      fields.map((f) => {
        const samples = runs[side].map((r) => r[f]);
        return [f, { median: round(median(samples)), samples: samples.map((v) => round(v)) }];
      }),
    ) as Record<keyof ProcessRun, Stat>;
  const oursOverNaive = (f: keyof ProcessRun) => pairRatio(runs.ours, runs.naive, f);
  const ours = stats('ours');
  const naive = stats('naive');
  const ratio = { wall: oursOverNaive('wallMs'), cpu: oursOverNaive('cpuMs'), peakRss: oursOverNaive('peakRssKiB') };
  const wallCheck = atMost(
    `cold first answer ≤ ${WALL_RATIO_LIMIT}× the naive receiver's wall time (Node 24)`,
    ratio.wall,
    WALL_RATIO_LIMIT,
    '×',
  );
  const rssCheck: Check = atMost("cold first answer: peak RSS ≤ the naive receiver's", ratio.peakRss, 1, '×');
  const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
  const label = `${pairs} pairs of fresh processes, Node ${nodeVersion}, ours with its deploy-time compile cache`;
  return {
    name: 'firstAnswer',
    rows: [
      {
        figure: `11. cold first answer, whole process (${label})`,
        ours: `${ms(ours.wallMs.median)} wall`,
        baseline: `naive ${ms(naive.wallMs.median)}`,
        comparison: `${times(ratio.wall)} (median of pair ratios)`,
        target: `≤ ${WALL_RATIO_LIMIT}× naive`,
        verdict: verdict(wallCheck),
      },
      {
        figure: '11. the same: CPU user + system per process',
        ours: ms(ours.cpuMs.median),
        baseline: `naive ${ms(naive.cpuMs.median)}`,
        comparison: times(ratio.cpu),
        target: '(info)',
        verdict: 'reported',
      },
      {
        figure: '11. the same: peak RSS per process',
        ours: mib(ours.peakRssKiB.median),
        baseline: `naive ${mib(naive.peakRssKiB.median)}`,
        comparison: times(ratio.peakRss),
        target: '≤ 1× naive',
        verdict: verdict(rssCheck),
      },
      {
        figure: '11. the same: import, then first event (in-process)',
        ours: `${ms(ours.importMs.median)} + ${ms(ours.firstEventMs.median)}`,
        baseline: `naive ${ms(naive.importMs.median)} + ${ms(naive.firstEventMs.median)}`,
        comparison: `import ${times(ours.importMs.median / naive.importMs.median)}`,
        target: '(info: not a target, §14)',
        verdict: 'reported',
      },
      {
        figure: "11. the same: ours' compile cache, made as the stack's layer builder makes it",
        ours: `${cache.files} files, ${cache.kib} KiB`,
        baseline: '(the naive receiver has none)',
        comparison: cache.folder,
        target: '(info)',
        verdict: 'reported',
      },
    ],
    checks: [wallCheck, rssCheck],
    data: {
      node: nodeVersion,
      pairs,
      compileCache: cache,
      ours,
      naive,
      ratio: { wall: round(ratio.wall), cpu: round(ratio.cpu), peakRss: round(ratio.peakRss) },
    },
    seconds,
  };
}
