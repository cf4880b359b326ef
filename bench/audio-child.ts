/**
 * One audio run in a fresh process (figure 5), so its memory is its own. Builds a signed
 * `post_call_audio` event the size Lambda allows, warms the path with a small event (the S3
 * client loads once per container; that one-off load is not per-event memory), collects
 * garbage, resets the kernel's peak-RSS mark, then handles the big event once and reports
 * time and peak RSS above the mark.
 *
 * mode `handler`: the receiver (createReceiver) with AUDIO_BUCKET on s3rver.
 * mode `direct`:  the floor, Buffer.from(base64) + one PutObject of the same bytes with the
 *                 same client settings as lambda/adapters/audio-store.ts.
 *
 * Peak RSS: writing "5" to /proc/self/clear_refs resets VmHWM to the current RSS (Linux ≥ 4.0,
 * proc(5)); VmHWM after the run is then the peak of this run alone. Where that is refused, a
 * worker thread samples process.memoryUsage.rss() every millisecond instead (it runs while the
 * main thread is busy in synchronous code).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createReceiver } from '../lambda/create-receiver';
import { silentMp3OfSize } from '../test/fixtures/silent-mp3';
import { apiGatewayEvent, signedBody } from './lib/signed-events';

const mode = process.argv[2] === 'direct' ? 'direct' : 'handler';
const mp3Bytes = Number(process.env.BENCH_MP3_BYTES);
const bucket = process.env.AUDIO_BUCKET!;
const secret = process.env.BENCH_WEBHOOK_SECRET!;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

function statusKb(field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return Number(line?.match(/(\d+)/)?.[1] ?? Number.NaN);
}

/** True when the kernel took the reset: the mark then sits at the current RSS (give or take what GC threads touched since). */
function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return statusKb('VmHWM') - statusKb('VmRSS') < 1024;
  } catch {
    return false;
  }
}

/** Fallback peak sampler: a worker reading the process RSS every millisecond. */
function startSampler(): { reset: () => void; stop: () => Promise<number> } {
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads'); let peak = 0, on = true;
     parentPort.on('message', (m) => { if (m === 'reset') { peak = process.memoryUsage.rss(); return; } on = false; parentPort.postMessage(peak); });
     (function tick() { if (!on) return; peak = Math.max(peak, process.memoryUsage.rss()); setTimeout(tick, 1); })();`,
    { eval: true },
  );
  return {
    reset: () => worker.postMessage('reset'),
    stop: () =>
      new Promise((resolve) => {
        worker.once('message', (peak: number) => void worker.terminate().then(() => resolve(peak)));
        worker.postMessage('stop');
      }),
  };
}

/**
 * RSS once garbage is collected and V8 has handed freed large-object pages back: it unmaps them
 * on a background thread, so a baseline read straight after gc() can still hold ~5 MB that
 * vanishes during the run and hides that much of its peak. Poll until RSS holds still.
 */
async function settledRss(): Promise<number> {
  gc!();
  let previous = statusKb('VmRSS');
  let steady = 0;
  for (let i = 0; i < 80 && steady < 4; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    if (i % 8 === 0) gc!();
    const current = statusKb('VmRSS');
    steady = Math.abs(current - previous) < 64 ? steady + 1 : 0;
    previous = current;
  }
  return previous;
}

const s3Options = {
  forcePathStyle: true,
  maxAttempts: 3,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 15_000 },
} as const;

async function main() {
  // The event as Lambda would hand it over: built, then everything but the event dropped.
  let mp3: Buffer | undefined = silentMp3OfSize(mp3Bytes);
  const decodedBytes = mp3.length;
  let signed: ReturnType<typeof signedBody> | undefined = signedBody(secret, 'audio', { audioBase64: mp3.toString('base64') });
  const event = apiGatewayEvent(signed, 'audio-big');
  const bodyBytes = Buffer.byteLength(event.body!);
  const eventJsonBytes = Buffer.byteLength(JSON.stringify(event));
  mp3 = undefined;
  signed = undefined;
  const base64 = mode === 'direct' ? (JSON.parse(event.body!) as { data: { full_audio: string } }).data.full_audio : '';

  let run: () => Promise<void>;
  let warm: () => Promise<void>;
  if (mode === 'handler') {
    const handler = createReceiver(
      { CRM_WEBHOOK_URL: 'http://127.0.0.1:9/', ELEVENLABS_WEBHOOK_SECRET: secret, AUDIO_BUCKET: bucket, AWS_ENDPOINT_URL_S3: process.env.AWS_ENDPOINT_URL_S3 },
      { write: () => undefined },
    );
    const call = async (e: typeof event) => {
      const result = await handler(e);
      if (result.statusCode !== 200) throw new Error(`handler answered ${result.statusCode}: ${result.body.slice(0, 80)}`);
    };
    warm = () => call(apiGatewayEvent(signedBody(secret, 'audio', { audioSeconds: 1 }), 'audio-warm'));
    run = () => call(event);
  } else {
    const client = new S3Client(s3Options);
    const put = (bytes: Buffer, key: string) =>
      client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.length, ContentType: 'audio/mpeg' }));
    warm = async () => void (await put(Buffer.from('SUQzBAAAAAAAAA==', 'base64'), 'audio/bench/warm.mp3'));
    run = async () => void (await put(Buffer.from(base64, 'base64'), 'audio/bench/direct.mp3'));
  }

  await warm();
  const viaClearRefs = resetPeak();
  // The fallback sampler starts before the baseline so its own memory is part of it.
  const sampler = viaClearRefs ? undefined : startSampler();
  const baselineKb = await settledRss();
  if (viaClearRefs) {
    // A GC thread may touch pages between the write and the check: retry until the mark took.
    for (let i = 0; i < 10 && !resetPeak(); i++);
  } else sampler!.reset();
  const t0 = performance.now();
  await run();
  const ms = performance.now() - t0;
  const peakKb = viaClearRefs ? statusKb('VmHWM') : (await sampler!.stop()) / 1024;
  process.stdout.write(
    `${JSON.stringify({
      mode,
      ms,
      baselineRssBytes: baselineKb * 1024,
      peakRssBytes: peakKb * 1024,
      extraBytes: (peakKb - baselineKb) * 1024,
      bodyBytes,
      eventJsonBytes,
      decodedBytes,
      peakMethod: viaClearRefs ? 'VmHWM after clear_refs' : 'rss sampler (1 ms)',
    })}\n`,
    () => process.exit(0),
  );
}

await main();
