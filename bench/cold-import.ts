/**
 * Figure 2: cold import. Each run is a fresh `node` process that imports one module and reports
 * how long `await import()` took; the receiver bundle (dist/receiver/index.mjs, which also runs
 * createReceiver(process.env) at import, as Lambda INIT does) against an empty module. Runs are
 * interleaved so drift on the machine hits both alike. A third kind of run also handles one
 * signed transcription right after the import: what the first event of a cold container pays
 * for the lazily loaded CRM client (undici, ~45 ms to import on these machines). A fourth does the
 * same with the stack's settings, archive and audio check on (2c): that event also loads the
 * S3 and SQS clients, against stand-ins in a process of their own.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startCrmStandIn } from '../support/stand-ins/crm';
import { ROOT, runNodeJson } from './lib/child';
import { BENCH_SECRET, childEnv } from './lib/local-env';
import { atMost, type Measurement, ms, verdict } from './lib/report';
import { gatewayEvent, signedBody } from './lib/signed-events';
import { startStandIns } from './lib/stand-ins';
import { median, round } from './lib/stats';

interface ChildAnswer {
  importMs: number;
  firstEventMs: number | null;
  status: number | null;
  archive: string | null;
  audioCheck: string | null;
}

export interface ColdImportData {
  runs: number;
  receiverImportMs: { median: number; samples: number[] };
  emptyImportMs: { median: number; samples: number[] };
  differenceMs: number;
  processWallMs: { receiverMedian: number; emptyMedian: number; differenceMs: number };
  firstTranscriptionAfterColdImportMs: { median: number; samples: number[] };
  /** 2c: the same with the stack's "every call kept" settings (archive and audio check on). */
  firstTranscriptionWithCallKeptMs: { median: number; samples: number[]; growthVsWithout: number };
}

/**
 * Imports argv[1], optionally handles the event in BENCH_EVENT, prints one JSON line and exits
 * (undici keeps sockets alive). The handler's own log line is captured so the answer says
 * whether the archive and the audio check really happened (2c).
 */
const CHILD = `
const log = [];
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => { if (String(chunk).startsWith('{"level"')) { log.push(String(chunk)); return true; } return write(chunk, ...rest); };
const t0 = performance.now();
const mod = await import(process.argv[1]);
const importMs = performance.now() - t0;
let firstEventMs = null, status = null;
if (process.env.BENCH_EVENT) {
  const event = JSON.parse(process.env.BENCH_EVENT);
  const t1 = performance.now();
  status = (await mod.handler(event)).statusCode;
  firstEventMs = performance.now() - t1;
}
const line = log.length ? JSON.parse(log.at(-1)) : {};
write('\\n' + JSON.stringify({ importMs, firstEventMs, status, archive: line.archive ?? null, audioCheck: line.audioCheck ?? null }) + '\\n', () => process.exit(0));
`;

const TARGET_MS = 60;

export async function benchColdImport(quick: boolean): Promise<Measurement<ColdImportData>> {
  const started = performance.now();
  const runs = quick ? 5 : 25;
  const dir = mkdtempSync(join(tmpdir(), 'bench-empty-'));
  const empty = join(dir, 'empty.mjs');
  writeFileSync(empty, '// intentionally empty: the baseline of a fresh process importing a module\n');
  const receiver = pathToFileURL(join(ROOT, 'dist', 'receiver', 'index.mjs')).href;
  const sink = await startCrmStandIn({ record: false });
  const standIns = await startStandIns();

  // What the receiver needs at import (contract §8); port 9 (discard) on loopback: nothing is sent.
  const importEnv = childEnv({ CRM_WEBHOOK_URL: 'http://127.0.0.1:9/', ELEVENLABS_WEBHOOK_SECRET: BENCH_SECRET });
  const firstEventEnv = { ...childEnv({ CRM_WEBHOOK_URL: sink.url, ELEVENLABS_WEBHOOK_SECRET: BENCH_SECRET }) };
  // The stack's settings (contract §10): archive into the calls bucket, schedule an audio check.
  const keptEnv = childEnv({
    CRM_WEBHOOK_URL: sink.url,
    ELEVENLABS_WEBHOOK_SECRET: BENCH_SECRET,
    AUDIO_BUCKET: standIns.bucket,
    AWS_ENDPOINT_URL_S3: standIns.s3Endpoint,
    ARCHIVE_EVENTS: 'true',
    AUDIO_CHECK_QUEUE_URL: standIns.audioCheckQueueUrl,
    AWS_ENDPOINT_URL_SQS: standIns.sqsEndpoint,
  });

  const run = async (target: string, env: Record<string, string>) => {
    const t0 = performance.now();
    const answer = await runNodeJson<ChildAnswer>({ args: ['--input-type=module', '-e', CHILD, target], env });
    return { ...answer, wallMs: performance.now() - t0 };
  };

  const receiverRuns: { importMs: number; wallMs: number }[] = [];
  const emptyRuns: { importMs: number; wallMs: number }[] = [];
  const firstEvent: number[] = [];
  const firstEventKept: number[] = [];
  try {
    // One unmeasured round warms the OS page cache for node, the bundle and its chunks.
    await run(pathToFileURL(empty).href, importEnv);
    await run(receiver, importEnv);
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? (['empty', 'receiver'] as const) : (['receiver', 'empty'] as const);
      for (const kind of order) {
        if (kind === 'empty') emptyRuns.push(await run(pathToFileURL(empty).href, importEnv));
        else receiverRuns.push(await run(receiver, importEnv));
      }
      const event = gatewayEvent(signedBody(BENCH_SECRET, 'transcription'), `cold-${i}`);
      const answer = await run(receiver, { ...firstEventEnv, BENCH_EVENT: JSON.stringify(event) });
      if (answer.status !== 200) throw new Error(`first event after cold import answered ${answer.status}`);
      firstEvent.push(answer.firstEventMs!);
      const kept = await run(receiver, {
        ...keptEnv,
        BENCH_EVENT: JSON.stringify(gatewayEvent(signedBody(BENCH_SECRET, 'transcription'), `kept-${i}`)),
      });
      if (kept.status !== 200 || kept.archive !== 'archived' || kept.audioCheck !== 'scheduled') {
        throw new Error(
          `first event with the archive and audio check on: ${kept.status}, archive ${kept.archive}, audio check ${kept.audioCheck}`,
        );
      }
      firstEventKept.push(kept.firstEventMs!);
    }
  } finally {
    await sink.close();
    await standIns.close();
  }

  const receiverImport = receiverRuns.map((r) => r.importMs);
  const emptyImport = emptyRuns.map((r) => r.importMs);
  const differenceMs = median(receiverImport) - median(emptyImport);
  const wallDiff = median(receiverRuns.map((r) => r.wallMs)) - median(emptyRuns.map((r) => r.wallMs));
  const check = atMost('cold import of the receiver ≤ 60 ms above an empty module', differenceMs, TARGET_MS, 'ms');
  const data: ColdImportData = {
    runs,
    receiverImportMs: { median: round(median(receiverImport)), samples: receiverImport.map((v) => round(v)) },
    emptyImportMs: { median: round(median(emptyImport)), samples: emptyImport.map((v) => round(v)) },
    differenceMs: round(differenceMs),
    processWallMs: {
      receiverMedian: round(median(receiverRuns.map((r) => r.wallMs))),
      emptyMedian: round(median(emptyRuns.map((r) => r.wallMs))),
      differenceMs: round(wallDiff),
    },
    firstTranscriptionAfterColdImportMs: { median: round(median(firstEvent)), samples: firstEvent.map((v) => round(v)) },
    firstTranscriptionWithCallKeptMs: {
      median: round(median(firstEventKept)),
      samples: firstEventKept.map((v) => round(v)),
      growthVsWithout: round(median(firstEventKept) / median(firstEvent) - 1),
    },
  };
  const keptGrowth = median(firstEventKept) / median(firstEvent) - 1;
  return {
    name: 'coldImport',
    rows: [
      {
        figure: `2. cold import (median of ${runs} processes)`,
        ours: `receiver ${ms(median(receiverImport))}`,
        baseline: `empty module ${ms(median(emptyImport))}`,
        comparison: `+${ms(differenceMs)} (whole process +${ms(wallDiff)})`,
        target: '≤ 60 ms above empty',
        verdict: verdict(check),
      },
      {
        figure: '2b. first transcription after cold import',
        ours: ms(median(firstEvent)),
        baseline: '(info: loads undici lazily)',
        comparison: `INIT + first event ≈ ${ms(differenceMs + median(firstEvent))}`,
        target: '(none)',
        verdict: 'reported',
      },
      {
        figure: '2c. the same, archive + audio check on',
        ours: ms(median(firstEventKept)),
        baseline: `2b ${ms(median(firstEvent))}`,
        comparison: `${keptGrowth >= 0 ? '+' : ''}${(keptGrowth * 100).toFixed(0)}% (loads the S3 and SQS clients once per container)`,
        target: '(info)',
        verdict: 'reported',
      },
    ],
    checks: [check],
    data,
    seconds: (performance.now() - started) / 1000,
  };
}
