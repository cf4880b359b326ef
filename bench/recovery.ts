/**
 * Figure 8: recovering a recording from the ElevenLabs API (contract §10). The audio worker streams
 * a recording of 20 MiB and of 200 MiB (quick: 20 and 60) from the API stand-in into s3rver;
 * each run is a fresh process. Targets: peak extra RSS of the large one ≤ 64 MiB and
 * within ±16 MiB of the small one's — memory must not grow with the recording. Throughput is
 * reported next to a floor measured in the same run: the same bytes from the same stand-in
 * piped into a local file. The stand-ins run in a process of their own.
 */
import { runNodeJson, tsxArgs } from './lib/child';
import { childEnv } from './lib/local-env';
import { atMost, type Check, type Measurement, mib, ms, type Row, verdict } from './lib/report';
import { startStandIns } from './lib/stand-ins';
import { median, round } from './lib/stats';

interface RecoveryAnswer {
  mode: 'worker' | 'floor';
  bytes: number;
  ms: number;
  extraBytes: number;
  peakMethod: string;
}

export interface RecoveryData {
  runs: number;
  sizes: { bytes: number; workerExtraBytes: number; workerMs: number; floorExtraBytes: number; floorMs: number }[];
}

const MiB = 1024 * 1024;

export async function benchRecovery(quick: boolean): Promise<Measurement<RecoveryData>> {
  const started = performance.now();
  const sizes = quick ? [20 * MiB, 60 * MiB] : [20 * MiB, 200 * MiB];
  const runs = quick ? 1 : 3;
  const standIns = await startStandIns();
  const results: RecoveryData['sizes'] = [];
  try {
    for (const bytes of sizes) {
      const worker: RecoveryAnswer[] = [];
      const floor: RecoveryAnswer[] = [];
      for (let run = 0; run < runs; run++) {
        const env = childEnv({
          BENCH_RECORDING_BYTES: String(bytes),
          BENCH_RUN: `${bytes}-${run}-${Date.now()}`,
          AUDIO_BUCKET: standIns.bucket,
          AWS_ENDPOINT_URL_S3: standIns.s3Endpoint,
          ELEVENLABS_API_KEY: standIns.apiKey,
          ELEVENLABS_API_BASE_URL: standIns.apiBaseUrl,
        });
        for (const mode of run % 2 === 0 ? (['worker', 'floor'] as const) : (['floor', 'worker'] as const)) {
          const answer = await runNodeJson<RecoveryAnswer>({
            args: ['--expose-gc', ...tsxArgs('recovery-child.ts', mode)],
            env,
            timeoutMs: 300_000,
          });
          (mode === 'worker' ? worker : floor).push(answer);
        }
      }
      results.push({
        bytes,
        workerExtraBytes: median(worker.map((a) => a.extraBytes)),
        workerMs: median(worker.map((a) => a.ms)),
        floorExtraBytes: median(floor.map((a) => a.extraBytes)),
        floorMs: median(floor.map((a) => a.ms)),
      });
    }
  } finally {
    await standIns.close();
  }
  const [small, large] = results as [RecoveryData['sizes'][number], RecoveryData['sizes'][number]];
  const checks: Check[] = [
    atMost(`recovery of ${mib(large.bytes)}: peak extra RSS ≤ 64 MiB`, large.workerExtraBytes / MiB, 64, 'MiB'),
    atMost(
      `recovery memory does not grow with the recording: |${mib(large.bytes)} − ${mib(small.bytes)}| ≤ 16 MiB`,
      Math.abs(large.workerExtraBytes - small.workerExtraBytes) / MiB,
      16,
      'MiB',
    ),
  ];
  const throughput = (size: RecoveryData['sizes'][number], which: 'worker' | 'floor') =>
    size.bytes / MiB / ((which === 'worker' ? size.workerMs : size.floorMs) / 1000);
  const rows: Row[] = results.map((size, i) => ({
    figure: `8. recover ${mib(size.bytes)} from the API (${runs} run${runs === 1 ? '' : 's'})`,
    ours: `peak +${mib(size.workerExtraBytes)}, ${ms(size.workerMs)} (${throughput(size, 'worker').toFixed(0)} MiB/s)`,
    baseline: `floor: pipe to a file, +${mib(size.floorExtraBytes)}, ${throughput(size, 'floor').toFixed(0)} MiB/s`,
    comparison: `${(throughput(size, 'worker') / throughput(size, 'floor')).toFixed(2)}× the floor's throughput`,
    target: i === 0 ? '(the small one: reference)' : '≤ 64 MiB, within ±16 MiB of the small one',
    verdict: i === 0 ? 'reported' : `${verdict(checks[0]!)}; ${verdict(checks[1]!)}`,
  }));
  return {
    name: 'recovery',
    rows,
    checks,
    data: { runs, sizes: results.map((s) => ({ ...s, workerMs: round(s.workerMs), floorMs: round(s.floorMs) })) },
    seconds: (performance.now() - started) / 1000,
  };
}
