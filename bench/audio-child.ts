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
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createReceiver } from '../lambda/create-receiver';
import { silentMp3OfSize } from '../support/fixtures/silent-mp3';
import { measurePeak } from './lib/peak-rss';
import { gatewayEvent, signedBody } from './lib/signed-events';

const mode = process.argv[2] === 'direct' ? 'direct' : 'handler';
const mp3Bytes = Number(process.env.BENCH_MP3_BYTES);
const bucket = process.env.AUDIO_BUCKET!;
const secret = process.env.BENCH_WEBHOOK_SECRET!;

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
  const event = gatewayEvent(signed, 'audio-big');
  const bodyBytes = Buffer.byteLength(event.body!);
  const eventJsonBytes = Buffer.byteLength(JSON.stringify(event));
  mp3 = undefined;
  signed = undefined;
  const base64 = mode === 'direct' ? (JSON.parse(event.body!) as { data: { full_audio: string } }).data.full_audio : '';

  let run: () => Promise<void>;
  let warm: () => Promise<void>;
  if (mode === 'handler') {
    const handler = createReceiver(
      {
        CRM_WEBHOOK_URL: 'http://127.0.0.1:9/',
        ELEVENLABS_WEBHOOK_SECRET: secret,
        AUDIO_BUCKET: bucket,
        AWS_ENDPOINT_URL_S3: process.env.AWS_ENDPOINT_URL_S3,
      },
      { write: () => undefined },
    );
    const call = async (e: typeof event) => {
      const result = await handler(e);
      if (result.statusCode !== 200) throw new Error(`handler answered ${result.statusCode}: ${result.body.slice(0, 80)}`);
    };
    warm = () => call(gatewayEvent(signedBody(secret, 'audio', { audioSeconds: 1 }), 'audio-warm'));
    run = () => call(event);
  } else {
    const client = new S3Client(s3Options);
    const put = (bytes: Buffer, key: string) =>
      client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.length, ContentType: 'audio/mpeg' }));
    warm = async () => void (await put(Buffer.from('SUQzBAAAAAAAAA==', 'base64'), 'audio/bench/warm.mp3'));
    run = async () => void (await put(Buffer.from(base64, 'base64'), 'audio/bench/direct.mp3'));
  }

  await warm();
  const measured = await measurePeak(run);
  process.stdout.write(`${JSON.stringify({ mode, ...measured, bodyBytes, eventJsonBytes, decodedBytes })}\n`, () => process.exit(0));
}

await main();
