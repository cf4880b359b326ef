/**
 * `npx tsx bench/compare.ts <git-rev> [rounds]`: per-event p50 (figure 3) of another commit
 * against this working tree, each run a fresh process, alternating, so "before / after" claims
 * about the hot path can be checked (issue notes give their figures with this command). The
 * other commit is checked out in a temporary git worktree that borrows this tree's
 * node_modules, and removed afterwards. Works for commits whose bench/per-event.ts exports
 * `benchPerEvent(quick)` (2026-11-25 on).
 */
import { ROOT, runNodeJson, tsxArgs } from './lib/child';
import { childEnv } from './lib/local-env';
import { openComparison } from './lib/other-commit';
import { median, round } from './lib/stats';

const { count: rounds, other } = openComparison(process.argv.slice(2), { name: 'bench/compare', unit: 'rounds', count: 5, max: 50 });
const trees = { [other.commit.slice(0, 7)]: other.dir, 'this tree': ROOT };
const p50s: Record<string, number[]> = Object.fromEntries(Object.keys(trees).map((name) => [name, []]));
try {
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first so drift on the machine falls on both alike.
    const order = i % 2 === 0 ? Object.entries(trees) : Object.entries(trees).reverse();
    for (const [name, root] of order) {
      const answer = await runNodeJson<{ p50: number }>({ args: tsxArgs('compare-child.ts', root), env: childEnv(), timeoutMs: 300_000 });
      p50s[name]!.push(answer.p50);
      console.error(`round ${i + 1}/${rounds}: ${name} p50 ${answer.p50.toFixed(4)} ms`);
    }
  }
} finally {
  other.remove();
}

const [before, after] = Object.values(p50s).map((samples) => median(samples));
console.log(`per-event p50, median of ${rounds} fresh processes each (figure 3, ${rounds * 2} runs alternating):`);
for (const [name, samples] of Object.entries(p50s)) {
  console.log(`  ${name.padEnd(10)} ${median(samples).toFixed(4)} ms   (${samples.map((v) => v.toFixed(4)).join(', ')})`);
}
console.log(`  change     ${after! >= before! ? '+' : ''}${round((after! / before! - 1) * 100, 1)}%`);
