/**
 * `npx tsx bench/compile-cache.ts [pairs]`: what the receiver's compile cache (SPEC §14,
 * infra/compile-cache-layer.ts) does for the cold first answer: figure 11's child, in alternating
 * pairs of fresh Node 24 processes, without and with the cache. The cache is filled as figure 11
 * fills it, by the layer builder's own fill over the receiver's chunks (`fillReceiverCompileCache`),
 * as the stack fills it at deploy time on the receiver's runtime. Prints medians and the median of
 * pair ratios.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildLambda } from '../scripts/build';
import { type CompileCacheMade, fillReceiverCompileCache, type ProcessRun, pairRatio, runPairs, startFirstAnswerRig } from './first-answer';
import { ROOT } from './lib/child';
import { median, round } from './lib/stats';

const USAGE = 'usage: npx tsx bench/compile-cache.ts [pairs 1-100, default 20]';
const [countArg = '20', ...extra] = process.argv.slice(2);
const pairs = /^\d{1,3}$/.test(countArg) ? Number(countArg) : Number.NaN;
if (extra.length > 0 || !(pairs >= 1 && pairs <= 100)) {
  console.error(USAGE);
  process.exit(2);
}

await buildLambda('receiver');
const dist = join(ROOT, 'dist', 'receiver');
const entry = pathToFileURL(join(dist, 'index.mjs')).href;
const cacheDir = mkdtempSync(join(tmpdir(), 'bench-compile-cache-'));
let runs: Record<'without' | 'with', ProcessRun[]>;
const cacheEnv = { NODE_COMPILE_CACHE: cacheDir };
let filled: CompileCacheMade;
try {
  const rig = await startFirstAnswerRig();
  try {
    filled = await fillReceiverCompileCache(rig.node.binary, cacheDir);
    runs = await runPairs(
      pairs,
      ['without', 'with'],
      (side) => rig.run(entry, side, side === 'with' ? cacheEnv : {}),
      (done, last) =>
        console.error(`pair ${done}/${pairs}: without ${last.without.wallMs.toFixed(1)} ms, with ${last.with.wallMs.toFixed(1)} ms`),
    );
  } finally {
    await rig.close();
  }
} finally {
  rmSync(cacheDir, { recursive: true, force: true });
}

const med = (side: 'without' | 'with', field: keyof ProcessRun) => round(median(runs[side].map((r) => r[field])), 1);
const ratio = (field: keyof ProcessRun) => round(pairRatio(runs.with, runs.without, field), 3);
console.log(`compile cache for the cold first answer, ${pairs} alternating pairs of fresh processes (figure 11's child):`);
console.log(`  filled by the layer builder's fill: ${filled.files} cache files, ${filled.kib} KiB, folder ${filled.folder}`);
for (const side of ['without', 'with'] as const) {
  console.log(
    `  ${side.padEnd(8)} wall ${med(side, 'wallMs')} ms, CPU ${med(side, 'cpuMs')} ms (import ${med(side, 'importMs')} + first event ${med(side, 'firstEventMs')} ms), peak RSS ${round(med(side, 'peakRssKiB') / 1024, 1)} MiB`,
  );
}
console.log(`  with ÷ without: wall ${ratio('wallMs')}×, CPU ${ratio('cpuMs')}×, peak RSS ${ratio('peakRssKiB')}× (median of pair ratios)`);
