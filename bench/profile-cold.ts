/**
 * `npx tsx bench/profile-cold.ts [runs]`: where the cold first answer's time goes (figure 9).
 * Runs the receiver bundle and the naive one, `runs` fresh Node 24 processes each, under
 * `node --cpu-prof` with the stack's settings against the stand-ins, and prints each one's mean
 * self time per package or Node built-in, for the import (INIT) and for the first event. The
 * .cpuprofile files stay in a temporary folder (printed; open them in Chrome DevTools).
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildLambda } from '../scripts/build';
import { startFirstAnswerRig } from './first-answer';
import { ROOT, runNodeJson } from './lib/child';
import { applySafeAwsEnv, BENCH_SECRET } from './lib/local-env';
import { addPhaseProfile, type PhaseMarks, type PhaseTotals } from './lib/phase-profile';
import { gatewayEvent, signedBody } from './lib/signed-events';
import { buildNaiveReceiver } from './naive/build';

applySafeAwsEnv();
const runs = Number(process.argv[2] ?? 4);
const INTERVAL_US = 250;
/** Like figure 9's child, with the instants that split the profile into import and first event. */
const CHILD = `
const us = () => Number(process.hrtime.bigint() / 1000n);
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => (String(chunk).startsWith('{') ? true : write(chunk, ...rest));
const marks = { start: us() };
const mod = await import(process.argv[1]);
marks.imported = us();
const result = await mod.handler(JSON.parse(process.env.BENCH_EVENT), { awsRequestId: 'profile', getRemainingTimeInMillis: () => 28000 });
marks.answered = us();
write('\\n' + JSON.stringify({ marks, status: result.statusCode }) + '\\n', () => process.exit(0));
`;

await buildLambda('receiver');
const bundles = { ours: join(ROOT, 'dist', 'receiver', 'index.mjs'), naive: await buildNaiveReceiver() };
// Figure 11's stand-ins and environment; this script runs its own child, under the profiler.
const rig = await startFirstAnswerRig();
const totals: Record<keyof typeof bundles, PhaseTotals> = {
  ours: { import: new Map(), event: new Map() },
  naive: { import: new Map(), event: new Map() },
};
const dir = mkdtempSync(join(tmpdir(), 'bench-cold-prof-'));
try {
  for (let i = 0; i < runs; i++) {
    for (const side of ['ours', 'naive'] as const) {
      const out = join(dir, `${side}-${i}`);
      const event = gatewayEvent(signedBody(BENCH_SECRET, 'transcription'), `profile-${side}-${i}`);
      const answer = await runNodeJson<{ marks: PhaseMarks; status: number }>({
        node: rig.node.binary,
        args: [
          '--cpu-prof',
          `--cpu-prof-dir=${out}`,
          `--cpu-prof-interval=${INTERVAL_US}`,
          '--input-type=module',
          '-e',
          CHILD,
          pathToFileURL(bundles[side]).href,
        ],
        env: { ...rig.env, BENCH_EVENT: JSON.stringify(event) },
      });
      if (answer.status !== 200) throw new Error(`${side} answered ${answer.status}`);
      const [file] = readdirSync(out);
      // Kept beside the profile: the instants let a timeline be read off it later.
      writeFileSync(join(out, 'marks.json'), JSON.stringify(answer.marks));
      addPhaseProfile(join(out, file!), answer.marks, INTERVAL_US, totals[side]);
    }
  }
} finally {
  await rig.close();
}

for (const phase of ['import', 'event'] as const) {
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0) / runs;
  console.log(
    `\n${phase}: ours ${sum(totals.ours[phase]).toFixed(0)} ms, naive ${sum(totals.naive[phase]).toFixed(0)} ms of sampled self time (means of ${runs} runs)`,
  );
  const rows = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([k, v]) => `${(v / runs).toFixed(1).padStart(7)}  ${k}`);
  const [a, b] = [rows(totals.ours[phase]), rows(totals.naive[phase])];
  console.log(`  ${'ours'.padEnd(50)}naive`);
  for (let i = 0; i < Math.max(a.length, b.length); i++) console.log(`  ${(a[i] ?? '').padEnd(50)}${b[i] ?? ''}`);
}
console.log(`\nprofiles: ${dir}`);
process.exit(0);
