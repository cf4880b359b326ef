/**
 * Figure 4: the verifier alone. Ours is what the handler runs before dispatch (contract §3, §4):
 * verifyWebhook (header parsing, timestamp tolerance, node:crypto HMAC, timingSafeEqual) +
 * JSON.parse + parseEvent (zod). ElevenLabs' SDK is
 * `new ElevenLabsClient().webhooks.constructEvent(rawBody, sigHeader, secret)`
 * (node_modules/@elevenlabs/elevenlabs-js/wrapper/webhooks.js): async WebCrypto HMAC, `!==`
 * compare, JSON.parse. Both run over the same signed payloads, one at a time, in interleaved
 * rounds; ops/s is the median over rounds.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ElevenLabsClient } from '@elevenlabs/elevenlabs-js';
import { parseEvent } from '../lambda/core/events';
import { SIGNATURE_HEADER, verifyWebhook } from '../lambda/core/verify-signature';
import { BENCH_SECRET } from './lib/local-env';
import { atLeast, type Measurement, times, verdict } from './lib/report';
import { type SignedBody, signedTranscriptions } from './lib/signed-events';
import { median, round } from './lib/stats';

export interface VerifierData {
  payloads: number;
  rounds: number;
  oursOpsPerSec: { median: number; rounds: number[] };
  sdkOpsPerSec: { median: number; rounds: number[] };
  floorOpsPerSec: { median: number; rounds: number[] };
  floorRatio: number;
  ratio: number;
  sdkVersion: string;
}

const TOLERANCE_SECONDS = 1800;

/** Our verify + parse: the pipeline's own verifyWebhook (lambda/core/verify-signature.ts), then the event schema. */
function oursVerifyAndParse({ body, headers }: SignedBody, secrets: readonly string[]): unknown {
  verifyWebhook(body, headers, { hmacSecrets: [...secrets] }, Date.now(), { toleranceSeconds: TOLERANCE_SECONDS });
  return parseEvent(JSON.parse(body));
}

export async function benchVerifier(quick: boolean): Promise<Measurement<VerifierData>> {
  const started = performance.now();
  const payloads = signedTranscriptions(BENCH_SECRET, quick ? 500 : 2000);
  const rounds = quick ? 3 : 11;
  const secrets = [BENCH_SECRET];
  // The SDK client makes no request when constructed; constructEvent is pure apart from WebCrypto.
  const sdk = new ElevenLabsClient({ apiKey: 'bench-unused', environment: 'http://127.0.0.1:9' }).webhooks;
  const sdkVersion = (
    (await import('@elevenlabs/elevenlabs-js/package.json', { with: { type: 'json' } })) as { default: { version: string } }
  ).default.version;

  // Both must accept every payload and reject a tampered one, or the comparison means nothing.
  const tampered = { ...payloads[0]!, body: payloads[0]!.body.replace('"agent_', '"agent-') };
  let sdkRejects = false;
  await sdk.constructEvent(tampered.body, tampered.headers[SIGNATURE_HEADER]!, BENCH_SECRET).catch(() => (sdkRejects = true));
  let oursRejects = false;
  try {
    oursVerifyAndParse(tampered, secrets);
  } catch {
    oursRejects = true;
  }
  if (!sdkRejects || !oursRejects) throw new Error('a verifier accepted a tampered body');

  // The floor of any verify + parse: HMAC, one constant-time compare, JSON.parse; no header
  // parsing, no timestamp check, no schema. Not a target: it shows how much of the 5× budget
  // the floor itself takes, and so how much is left for the real work.
  const expectedHex = payloads.map((p) => p.headers[SIGNATURE_HEADER]!.split('v0=')[1]!);
  const timestamps = payloads.map((p) => p.headers[SIGNATURE_HEADER]!.slice(2, p.headers[SIGNATURE_HEADER]!.indexOf(',')));
  const runFloor = () => {
    const t0 = performance.now();
    for (let i = 0; i < payloads.length; i++) {
      const digest = createHmac('sha256', BENCH_SECRET).update(`${timestamps[i]}.`).update(payloads[i]!.body).digest();
      if (!timingSafeEqual(digest, Buffer.from(expectedHex[i]!, 'hex'))) throw new Error('floor mismatch');
      observed += JSON.parse(payloads[i]!.body) ? 1 : 0;
    }
    return payloads.length / ((performance.now() - t0) / 1000);
  };

  let observed = 0;
  const runOurs = () => {
    const t0 = performance.now();
    for (const p of payloads) observed += oursVerifyAndParse(p, secrets) ? 1 : 0;
    return payloads.length / ((performance.now() - t0) / 1000);
  };
  const runSdk = async () => {
    const t0 = performance.now();
    for (const p of payloads) observed += (await sdk.constructEvent(p.body, p.headers[SIGNATURE_HEADER]!, BENCH_SECRET)) ? 1 : 0;
    return payloads.length / ((performance.now() - t0) / 1000);
  };

  // Warm-up: JIT every path before anything counts.
  runOurs();
  runFloor();
  await runSdk();
  const ours: number[] = [];
  const sdkOps: number[] = [];
  const floor: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      ours.push(runOurs());
      sdkOps.push(await runSdk());
    } else {
      sdkOps.push(await runSdk());
      ours.push(runOurs());
    }
    floor.push(runFloor());
  }
  if (observed === 0) throw new Error('verifiers did no work');
  const ratio = median(ours) / median(sdkOps);
  const check = atLeast("verifier (verify + parse) ≥ 5× the ElevenLabs SDK's ops/s", ratio, 5, '×');
  return {
    name: 'verifier',
    rows: [
      {
        figure: `4. verifier (${payloads.length} payloads × ${rounds})`,
        ours: `${Math.round(median(ours)).toLocaleString('en-US')} ops/s`,
        baseline: `SDK ${Math.round(median(sdkOps)).toLocaleString('en-US')} ops/s`,
        comparison: times(ratio),
        target: '≥ 5× SDK',
        verdict: verdict(check),
      },
      {
        figure: '4b. verify floor: HMAC + compare + JSON.parse',
        ours: `${Math.round(median(floor)).toLocaleString('en-US')} ops/s`,
        baseline: `SDK ${Math.round(median(sdkOps)).toLocaleString('en-US')} ops/s`,
        comparison: times(median(floor) / median(sdkOps)),
        target: '(info: the most 4. can reach)',
        verdict: 'reported',
      },
    ],
    checks: [check],
    data: {
      payloads: payloads.length,
      rounds,
      oursOpsPerSec: { median: Math.round(median(ours)), rounds: ours.map(Math.round) },
      sdkOpsPerSec: { median: Math.round(median(sdkOps)), rounds: sdkOps.map(Math.round) },
      floorOpsPerSec: { median: Math.round(median(floor)), rounds: floor.map(Math.round) },
      floorRatio: round(median(floor) / median(sdkOps)),
      ratio: round(ratio),
      sdkVersion,
    },
    seconds: (performance.now() - started) / 1000,
  };
}
