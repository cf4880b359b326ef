/**
 * One recovery run in a fresh process (figure 8), so its memory is its own.
 *
 * mode `worker`: the audio worker (createAudioWorker) handles one audio check for a recording
 *                of BENCH_RECORDING_BYTES that is not in the bucket: it streams it from the
 *                ElevenLabs API stand-in into s3rver (multipart, SHA-256, metadata copy).
 * mode `floor`:  the same bytes from the same stand-in piped into a local file, nothing else.
 * Both warm their path with a small recording first (module loads are once per container, not
 * per recording), then measure time and peak extra RSS (bench/lib/peak-rss.ts).
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { SQSEvent } from 'aws-lambda';
import { request } from 'undici';
import { createAudioWorker } from '../lambda/create-audio-worker';
import { measurePeak } from './lib/peak-rss';

const mode = process.argv[2] === 'floor' ? 'floor' : 'worker';
const bytes = Number(process.env.BENCH_RECORDING_BYTES);
const run = process.env.BENCH_RUN ?? '0';
const apiBaseUrl = process.env.ELEVENLABS_API_BASE_URL!;
const apiKey = process.env.ELEVENLABS_API_KEY!;

async function main() {
  let recover: (size: number, id: string) => Promise<void>;
  if (mode === 'worker') {
    let last = '';
    const worker = createAudioWorker(process.env, {
      write: (line) => {
        last = line;
      },
    });
    recover = async (size, id) => {
      const body = JSON.stringify({ conversationId: `conv_bench_${size}_${id}`, agentId: 'agent_bench', eventTimestamp: null });
      const result = await worker({
        Records: [{ messageId: id, body, attributes: { ApproximateReceiveCount: '1' } }],
      } as unknown as SQSEvent);
      if (result.batchItemFailures.length > 0 || !last.includes('"outcome":"recovered"'))
        throw new Error(`not recovered: ${last.slice(0, 200)}`);
    };
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'bench-floor-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    recover = async (size, id) => {
      const response = await request(`${apiBaseUrl}/v1/convai/conversations/conv_bench_${size}_${id}/audio`, {
        headers: { 'xi-api-key': apiKey },
      });
      if (response.statusCode !== 200) throw new Error(`stand-in answered ${response.statusCode}`);
      await pipeline(response.body, createWriteStream(join(dir, `${id}.mp3`)));
    };
  }
  await recover(200_000, `warm-${run}`);
  const measured = await measurePeak(() => recover(bytes, `run-${run}`));
  process.stdout.write(`${JSON.stringify({ mode, bytes, ...measured })}\n`, () => process.exit(0));
}

await main();
