/**
 * `npm run send -- <transcription|audio|failure|all> [--url URL] [--secret S]`
 * Signs sample events (built from the ElevenLabs docs' examples; audio is a real MP3) and
 * posts them, printing each response. Defaults to the local server and its secret.
 */
import { parseArgs } from 'node:util';
import { sampleEvent, type SampleKind } from '../test/fixtures/samples';
import { signatureHeaders } from '../test/fixtures/signing';
import { DEFAULT_PORT, findSecret, loadDotEnv } from './lib/local-env';
import { WEBHOOK_PATH } from './lib/local-server';

const KINDS: SampleKind[] = ['transcription', 'audio', 'failure'];
const usage = 'usage: npm run send -- <transcription|audio|failure|all> [--url URL] [--secret S] [--audio-seconds N]';

loadDotEnv();
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { url: { type: 'string' }, secret: { type: 'string' }, 'audio-seconds': { type: 'string' }, help: { type: 'boolean' } },
});
const which = positionals[0] ?? 'all';
if (values.help || !(which === 'all' || KINDS.includes(which as SampleKind))) {
  console.error(usage);
  process.exit(values.help ? 0 : 2);
}
const url = values.url ?? `http://127.0.0.1:${process.env.PORT ?? DEFAULT_PORT}${WEBHOOK_PATH}`;
const secret = values.secret ?? findSecret();
if (!secret) {
  console.error('No secret: pass --secret, set ELEVENLABS_WEBHOOK_SECRET, or run `npm start` once to generate one.');
  process.exit(2);
}

let failed = false;
for (const kind of which === 'all' ? KINDS : [which as SampleKind]) {
  const event = sampleEvent(kind, { audioSeconds: Number(values['audio-seconds'] ?? 3) });
  const body = JSON.stringify(event);
  try {
    const response = await fetch(url, { method: 'POST', headers: signatureHeaders(secret, body), body });
    const text = await response.text();
    console.log(`${kind.padEnd(13)} ${response.status} ${text}`);
    failed ||= response.status !== 200;
  } catch (error) {
    console.log(`${kind.padEnd(13)} could not reach ${url}: ${(error as Error).message}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
