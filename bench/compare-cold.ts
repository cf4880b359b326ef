/**
 * `npx tsx bench/compare-cold.ts <git-rev> [pairs]`: the cold first answer (figure 11's child:
 * a fresh Node 24 process imports the receiver bundle and answers one signed transcription with
 * the stack's settings, every dependency a loopback stand-in behind HTTPS) of another commit's
 * receiver against this tree's, in alternating pairs, so "this change saves n%" claims about the
 * cold start can be checked without the naive receiver's noise in between. Both bundles are
 * built by their own commit's `scripts/build.ts`; the other commit is checked out in a temporary
 * git worktree (lib/other-commit.ts); this tree's dist/ is rebuilt, as `npm run bench` does.
 * Prints medians and the median of pair ratios (this ÷ that).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ProcessRun, pairRatio, runPairs, startFirstAnswerRig } from './first-answer';
import { ROOT } from './lib/child';
import { openComparison } from './lib/other-commit';
import { median, round } from './lib/stats';

const { count: pairs, other } = openComparison(process.argv.slice(2), { name: 'bench/compare-cold', unit: 'pairs', count: 30, max: 100 });
const name = other.commit.slice(0, 7);
let runs: Record<'that' | 'this', ProcessRun[]>;
try {
  const build = (root: string) =>
    execFileSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'build.ts')], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  build(other.dir);
  build(ROOT);
  const bundles = {
    that: pathToFileURL(join(other.dir, 'dist', 'receiver', 'index.mjs')).href,
    this: pathToFileURL(join(ROOT, 'dist', 'receiver', 'index.mjs')).href,
  };
  const rig = await startFirstAnswerRig();
  try {
    runs = await runPairs(
      pairs,
      ['that', 'this'],
      (side) => rig.run(bundles[side], side),
      (done, last) =>
        console.error(`pair ${done}/${pairs}: ${name} ${last.that.wallMs.toFixed(1)} ms, this tree ${last.this.wallMs.toFixed(1)} ms`),
    );
  } finally {
    await rig.close();
  }
} finally {
  other.remove();
}

const med = (side: 'that' | 'this', field: keyof ProcessRun) => round(median(runs[side].map((r) => r[field])), 1);
const ratio = (field: keyof ProcessRun) => round(pairRatio(runs.this, runs.that, field), 3);
console.log(`cold first answer, ${pairs} alternating pairs of fresh processes (figure 11's child):`);
for (const [side, label] of [
  ['that', name],
  ['this', 'this tree'],
] as const) {
  console.log(
    `  ${label.padEnd(10)} wall ${med(side, 'wallMs')} ms, CPU ${med(side, 'cpuMs')} ms (import ${med(side, 'importMs')} + first event ${med(side, 'firstEventMs')} ms)`,
  );
}
console.log(`  this ÷ ${name}: wall ${ratio('wallMs')}×, CPU ${ratio('cpuMs')}× (median of pair ratios)`);
