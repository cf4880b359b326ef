/**
 * `npx tsx bench/profile.ts [events]`: where the per-event time goes. Runs the handler and the floor of figure 3 in two child processes
 * under `node --cpu-prof`, against a CRM sink in this process, and prints each profile's self
 * time by module and by function. The .cpuprofile files stay in bench/profiles/ (git-ignored
 * by nothing: delete them, or open them in Chrome DevTools › Performance).
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCrmStandIn } from '../support/stand-ins/crm';
import { runNodeJson, tsxArgs } from './lib/child';
import { summariseProfile } from './lib/cpu-profile';
import { applySafeAwsEnv, childEnv } from './lib/local-env';

applySafeAwsEnv();
const events = Number(process.argv[2] ?? 20_000);
/** Frames that only build the signed sample events or load modules: setup, not per-event work. */
const SETUP = /^(test\/fixtures|bench\/lib\/signed-events|node:modules|node:cjs|tsx|esbuild|node:bootstrap)/;
const sink = await startCrmStandIn({ record: false });
const perEvent: Record<string, Map<string, number>> = {};
const fnPerEvent: Record<string, Map<string, number>> = {};
const measured: Record<string, number> = {};
const files: string[] = [];
try {
  for (const mode of ['handler', 'floor'] as const) {
    const dir = mkdtempSync(join(tmpdir(), `bench-prof-${mode}-`));
    const answer = await runNodeJson<{ msPerEvent: number }>({
      args: ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...tsxArgs('profile-child.ts', mode)],
      env: childEnv({ CRM_WEBHOOK_URL: sink.url, BENCH_EVENTS: String(events) }),
      timeoutMs: 300_000,
    });
    // tsx's loader thread writes a small profile of its own: the busiest file is the main thread's.
    const file = readdirSync(dir)
      .map((f) => join(dir, f))
      .sort((a, b) => summariseProfile(b).totalMs - summariseProfile(a).totalMs)[0]!;
    files.push(file);
    const summary = summariseProfile(file, 400);
    measured[mode] = answer.msPerEvent * 1000;
    perEvent[mode] = new Map(summary.byModule.map((e) => [e.name, (e.selfMs * 1000) / events]));
    fnPerEvent[mode] = new Map(summary.byFunction.map((e) => [e.name, (e.selfMs * 1000) / events]));
  }
} finally {
  await sink.close();
}

function table(title: string, maps: Record<string, Map<string, number>>, top: number): void {
  const names = new Set([...maps.handler!.keys(), ...maps.floor!.keys()]);
  const rows = [...names]
    .filter((n) => !SETUP.test(n.replace(/^\S+ /, '')) && !SETUP.test(n))
    .map((n) => ({ n, h: maps.handler!.get(n) ?? 0, f: maps.floor!.get(n) ?? 0 }))
    .sort((a, b) => Math.abs(b.h - b.f) - Math.abs(a.h - a.f))
    .slice(0, top);
  console.log(`\n${title} (CPU µs per event, handler | floor | difference; largest differences first)`);
  for (const r of rows)
    console.log(`  ${r.h.toFixed(1).padStart(6)} | ${r.f.toFixed(1).padStart(6)} | ${(r.h - r.f).toFixed(1).padStart(6)}  ${r.n}`);
}

console.log(
  `wall time per event, sequential, sink in another process: handler ${measured.handler!.toFixed(0)} µs, floor ${measured.floor!.toFixed(0)} µs (setup included)`,
);
table('self time by module', perEvent, 16);
table('self time by function', fnPerEvent, 20);
console.log(`\nprofiles (open in Chrome DevTools › Performance): ${files.join(' ')}`);
process.exit(0);
