/**
 * `npm run bench`: the figures side by side in one run, each with its baseline
 * measured in the same run, checked against the issue's targets. Prints a table and writes
 * every figure to bench/results.json (`--quick`: small counts, same code paths, written to
 * bench/results.quick.json so the committed full-run figures stay as they are).
 *
 * Exits non-zero only when a measurement cannot be taken; a missed target is reported, not
 * fatal, so CI's quick run catches breakage without failing on a noisy shared machine.
 */
import { writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchAudio } from './audio';
import { benchBundleSize } from './bundle-size';
import { benchColdImport } from './cold-import';
import { benchCrmRecord } from './crm-record';
import { benchFirstAnswer } from './first-answer';
import { ROOT } from './lib/child';
import { applySafeAwsEnv } from './lib/local-env';
import { type Measurement, renderMarkdown, renderTable } from './lib/report';
import { benchPerEvent } from './per-event';
import { benchPerEventKept } from './per-event-kept';
import { benchReconcile } from './reconcile';
import { benchRecovery } from './recovery';
import { benchStalls } from './stalls';
import { benchThroughput } from './throughput';
import { benchVerifier } from './verifier';
import { benchWarmVsNaive } from './warm-vs-naive';

const quick = process.argv.includes('--quick');
const markdown = process.argv.includes('--markdown');
/** `--only 11,12`: those figures alone (figure 1 always runs: it builds dist/), written to results.partial.json. */
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? new Set(['1', ...(process.argv[onlyAt + 1] ?? '').split(',')]) : undefined;
applySafeAwsEnv();

/** The CRM record's size when figure 3, which measures it, did not run (--only). */
const DEFAULT_CRM_PAYLOAD_BYTES = 700;
const started = performance.now();
const log = (text: string) => process.stderr.write(`${text}\n`);
const measurements: Measurement[] = [];
const step = async <T>(label: string, run: () => Promise<Measurement<T>>): Promise<Measurement<T> | undefined> => {
  if (only && !only.has(label.replace(/^(\d+).*$/, '$1'))) return undefined;
  log(`bench: ${label}…`);
  const m = await run();
  log(`bench: ${label} done in ${m.seconds.toFixed(1)} s`);
  measurements.push(m as Measurement);
  return m;
};

await step('1. bundle size', benchBundleSize);
await step('2. cold import', () => benchColdImport(quick));
const perEvent = await step('3. per-event overhead', () => benchPerEvent(quick));
await step('3c. per-event with archive + audio check', () => benchPerEventKept(quick));
await step('4. verifier vs ElevenLabs SDK', () => benchVerifier(quick));
await step('5. audio', () => benchAudio(quick));
await step('6. throughput', () => benchThroughput(quick, perEvent?.data.crmPayloadBytes ?? DEFAULT_CRM_PAYLOAD_BYTES));
await step('7. stalled dependencies', benchStalls);
await step('8. recovery from the ElevenLabs API', () => benchRecovery(quick));
await step('9. CRM record', () => benchCrmRecord(quick));
await step('10. reconciler over a full window', () => benchReconcile(quick));
await step('11. cold first answer vs the naive receiver (Node 24)', () => benchFirstAnswer(quick));
await step('12. warm per-event vs the naive receiver (Node 24)', () => benchWarmVsNaive(quick));

const rows = measurements.flatMap((m) => m.rows);
const checks = measurements.flatMap((m) => m.checks);
const seconds = (performance.now() - started) / 1000;
const cpu = cpus()[0];
const results = {
  date: new Date().toISOString(),
  mode: `${quick ? 'quick' : 'full'}${only ? ` (only ${[...only].join(',')})` : ''}`,
  machine: {
    cpuModel: cpu?.model.trim() ?? 'unknown',
    cpus: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${release()} ${process.arch}`,
  },
  durationSeconds: Math.round(seconds * 10) / 10,
  summary: {
    targets: checks.length,
    passed: checks.filter((c) => c.pass).length,
    missed: checks.filter((c) => !c.pass).map((c) => c.target),
  },
  checks,
  figures: Object.fromEntries(measurements.map((m) => [m.name, { seconds: Math.round(m.seconds * 10) / 10, ...(m.data as object) }])),
  table: rows,
};
const file = join(ROOT, 'bench', only ? 'results.partial.json' : quick ? 'results.quick.json' : 'results.json');
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);

console.log(`\n${markdown ? renderMarkdown(rows) : renderTable(rows)}\n`);
console.log(
  `${results.mode} run on ${results.machine.cpuModel} (${results.machine.cpus} cores), Node ${process.version}, ${results.date}: ` +
    `${results.summary.passed}/${results.summary.targets} targets met in ${seconds.toFixed(1)} s; figures in ${file.slice(ROOT.length)}`,
);
for (const c of checks.filter((c) => !c.pass)) console.log(`MISS: ${c.target}: ${c.margin}`);
// undici keep-alive sockets and the SDK's agents would hold the loop open for seconds.
process.exit(0);
