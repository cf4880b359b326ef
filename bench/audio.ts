/**
 * Figure 5: the largest audio event Lambda accepts (contract §6: 6,291,456 bytes of invocation
 * payload; a ~4.3 MB MP3 is ~5.7 MB of base64) into a local S3 (s3rver on 127.0.0.1). Each
 * run is a fresh process (bench/audio-child.ts): the receiver, then the floor (base64-decode
 * + one PutObject of the same bytes), alternating. Medians over the runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAMBDA_MAX_EVENT_BYTES } from '../scripts/lib/local-server';
import { startEmbeddedS3 } from '../support/stand-ins/s3';
import { runNodeJson, tsxArgs } from './lib/child';
import { childEnv } from './lib/local-env';
import { atMost, type Measurement, mib, ms, times, verdict } from './lib/report';
import { median, round } from './lib/stats';

interface AudioChildAnswer {
  mode: 'handler' | 'direct';
  ms: number;
  baselineRssBytes: number;
  peakRssBytes: number;
  extraBytes: number;
  bodyBytes: number;
  eventJsonBytes: number;
  decodedBytes: number;
  peakMethod: string;
}

export interface AudioData {
  runs: number;
  mp3Bytes: number;
  bodyBytes: number;
  eventJsonBytes: number;
  lambdaLimitBytes: number;
  peakMethod: string;
  handler: { msMedian: number; extraBytesMedian: number; ms: number[]; extraBytes: number[] };
  direct: { msMedian: number; extraBytesMedian: number; ms: number[]; extraBytes: number[] };
  memoryRatioToBody: number;
  timeRatioToDirect: number;
}

/** ~4.3 MB: the figure for the largest MP3 a synchronous Lambda invocation carries. */
const MP3_BYTES = 4_300_000;
const BUCKET = 'bench-audio';

export async function benchAudio(quick: boolean): Promise<Measurement<AudioData>> {
  const started = performance.now();
  const runs = quick ? 1 : 5;
  const dir = mkdtempSync(join(tmpdir(), 'bench-s3-'));
  const s3 = await startEmbeddedS3(dir, [BUCKET]);
  const env = childEnv({
    ...s3.env,
    AUDIO_BUCKET: BUCKET,
    BENCH_MP3_BYTES: String(MP3_BYTES),
    // Explicit thresholds turn off glibc's dynamic mmap threshold (mallopt(3)), so multi-MB
    // buffers freed during setup go back to the OS instead of hiding in the baseline.
    MALLOC_MMAP_THRESHOLD_: '131072',
    MALLOC_TRIM_THRESHOLD_: '131072',
  });
  const handler: AudioChildAnswer[] = [];
  const direct: AudioChildAnswer[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? (['handler', 'direct'] as const) : (['direct', 'handler'] as const);
      for (const mode of order) {
        const answer = await runNodeJson<AudioChildAnswer>({
          args: ['--expose-gc', ...tsxArgs('audio-child.ts', mode)],
          env,
          timeoutMs: 120_000,
        });
        (mode === 'handler' ? handler : direct).push(answer);
      }
    }
  } finally {
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const first = handler[0]!;
  if (first.eventJsonBytes > LAMBDA_MAX_EVENT_BYTES)
    throw new Error(`audio event of ${first.eventJsonBytes} bytes would not reach a Lambda`);
  const summary = (list: AudioChildAnswer[]) => ({
    msMedian: round(median(list.map((a) => a.ms))),
    extraBytesMedian: Math.round(median(list.map((a) => a.extraBytes))),
    ms: list.map((a) => round(a.ms)),
    extraBytes: list.map((a) => Math.round(a.extraBytes)),
  });
  const h = summary(handler);
  const d = summary(direct);
  const memoryRatio = h.extraBytesMedian / first.bodyBytes;
  const timeRatio = h.msMedian / d.msMedian;
  const checks = [
    atMost('audio: peak extra memory ≤ 2× the body size', memoryRatio, 2, '×'),
    atMost('audio: time ≤ 2× a direct base64-decode + PutObject', timeRatio, 2, '×'),
  ];
  return {
    name: 'audio',
    rows: [
      {
        figure: `5. audio ${mib(first.decodedBytes)} MP3: peak RSS (${runs} runs)`,
        ours: `+${mib(h.extraBytesMedian)}`,
        baseline: `body ${mib(first.bodyBytes)} (direct path +${mib(d.extraBytesMedian)})`,
        comparison: `${times(memoryRatio)} body`,
        target: '≤ 2× body',
        verdict: verdict(checks[0]!),
      },
      {
        figure: `5. audio ${mib(first.decodedBytes)} MP3: time (${runs} runs)`,
        ours: ms(h.msMedian),
        baseline: `decode + PutObject ${ms(d.msMedian)}`,
        comparison: times(timeRatio),
        target: '≤ 2× direct',
        verdict: verdict(checks[1]!),
      },
    ],
    checks,
    data: {
      runs,
      mp3Bytes: first.decodedBytes,
      bodyBytes: first.bodyBytes,
      eventJsonBytes: first.eventJsonBytes,
      lambdaLimitBytes: LAMBDA_MAX_EVENT_BYTES,
      peakMethod: first.peakMethod,
      handler: h,
      direct: d,
      memoryRatioToBody: round(memoryRatio),
      timeRatioToDirect: round(timeRatio),
    },
    seconds: (performance.now() - started) / 1000,
  };
}
