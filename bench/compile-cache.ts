/**
 * `npx tsx bench/compile-cache.ts [pairs]`: what Node's compile cache (`module.enableCompileCache`,
 * `NODE_COMPILE_CACHE`) would do for the cold first answer (figure 11's child), measured, not
 * shipped. A cache is filled the way a deploy-time step could fill it: one Node 24 process imports
 * the receiver's entry (INIT, with the stack's settings against the stand-ins) and every chunk of
 * dist/receiver, handling no event, and exits, which writes the cache. Then figure 11's child runs
 * in alternating pairs without and with it. Prints medians and the median of pair ratios.
 *
 * Why it is not shipped (bench/README.md, "Figure 11 in the evening of 2026-12-05"): the cache is
 * keyed to the exact Node.js build, its V8 flags, the CPU architecture and the user id (its folder
 * here is named like `v24.22.3-x64-964aae3f-0`). Lambda runs the receiver on arm64 with a Node.js
 * 24 that AWS patches, so a cache made on this machine would never be read there; it has to be
 * made on the runtime itself.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildLambda } from '../scripts/build';
import { type ProcessRun, pairRatio, runPairs, startFirstAnswerRig } from './first-answer';
import { ROOT, runNodeJson } from './lib/child';
import { median, round } from './lib/stats';

const USAGE = 'usage: npx tsx bench/compile-cache.ts [pairs 1-100, default 20]';
const [countArg = '20', ...extra] = process.argv.slice(2);
const pairs = /^\d{1,3}$/.test(countArg) ? Number(countArg) : Number.NaN;
if (extra.length > 0 || !(pairs >= 1 && pairs <= 100)) {
  console.error(USAGE);
  process.exit(2);
}

/** Imports the entry (argv[1], a file: URL) and then every chunk beside it; prints how many modules it imported. */
const FILL = `
import { readdirSync } from 'node:fs';
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => (String(chunk).startsWith('{') ? true : write(chunk, ...rest));
await import(process.argv[1]);
const dir = new URL('chunks/', process.argv[1]);
const chunks = readdirSync(dir).filter((file) => file.endsWith('.mjs'));
for (const file of chunks) await import(new URL(file, dir).href);
write('\\n' + JSON.stringify({ modules: chunks.length + 1 }) + '\\n', () => process.exit(0));
`;

await buildLambda('receiver');
const dist = join(ROOT, 'dist', 'receiver');
const entry = pathToFileURL(join(dist, 'index.mjs')).href;
const cacheDir = mkdtempSync(join(tmpdir(), 'bench-compile-cache-'));
let runs: Record<'without' | 'with', ProcessRun[]>;
const cacheEnv = { NODE_COMPILE_CACHE: cacheDir };
let filled: { modules: number; files: number; kib: number; tag: string };
try {
  const rig = await startFirstAnswerRig();
  try {
    const { modules } = await runNodeJson<{ modules: number }>({
      node: rig.node.binary,
      args: ['--input-type=module', '-e', FILL, entry],
      env: { ...rig.env, ...cacheEnv },
    });
    // One folder per Node build, flags and user: this process wrote exactly one.
    const [tag = ''] = readdirSync(cacheDir);
    const files = tag ? readdirSync(join(cacheDir, tag)) : [];
    const bytes = files.reduce((sum, file) => sum + statSync(join(cacheDir, tag, file)).size, 0);
    filled = { modules, files: files.length, kib: round(bytes / 1024, 0), tag };
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
console.log(
  `  filled by importing ${filled.modules} modules without an event: ${filled.files} cache files, ${filled.kib} KiB, folder ${filled.tag || '(none)'}`,
);
for (const side of ['without', 'with'] as const) {
  console.log(
    `  ${side.padEnd(8)} wall ${med(side, 'wallMs')} ms, CPU ${med(side, 'cpuMs')} ms (import ${med(side, 'importMs')} + first event ${med(side, 'firstEventMs')} ms), peak RSS ${round(med(side, 'peakRssKiB') / 1024, 1)} MiB`,
  );
}
console.log(`  with ÷ without: wall ${ratio('wallMs')}×, CPU ${ratio('cpuMs')}×, peak RSS ${ratio('peakRssKiB')}× (median of pair ratios)`);
