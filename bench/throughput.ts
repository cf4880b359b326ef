/**
 * Figure 6: throughput of the local server (`npm start`'s createLocalServer) with signed
 * transcription events and a CRM sink, all on 127.0.0.1. The server runs in a child process
 * (bench/throughput-server.ts), autocannon in this one: one core each on a 2-core machine.
 * Baseline in the same run: the same server in front of the floor handler of figure 3.
 * Bounded: fixed connections and seconds per round; rounds alternate receiver and floor.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { ROOT, tsxArgs } from './lib/child';
import { assertLoopback, BENCH_SECRET, childEnv } from './lib/local-env';
import { atMost, type Measurement, ms, times, verdict } from './lib/report';
import { signedTranscriptions } from './lib/signed-events';
import { median, round } from './lib/stats';

interface Round {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  total: number;
}

export interface ThroughputData {
  connections: number;
  secondsPerRound: number;
  rounds: number;
  receiver: { reqPerSecMedian: number; p99MsMedian: number; errors: number; non2xx: number; total: number; rounds: Round[] };
  floor: { reqPerSecMedian: number; p99MsMedian: number; errors: number; non2xx: number; total: number; rounds: Round[] };
  ratio: number;
  crmForwards: number;
}

async function startServer(mode: 'receiver' | 'floor', crmPayloadBytes: number) {
  const child = spawn(process.execPath, tsxArgs('throughput-server.ts', mode), {
    cwd: ROOT,
    env: childEnv({ BENCH_CRM_PAYLOAD_BYTES: String(crmPayloadBytes) }),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error(`throughput server (${mode}) did not start`);
  const { url } = JSON.parse(first.value) as { url: string };
  return {
    url: assertLoopback(url),
    async stop(): Promise<number> {
      child.stdin!.end();
      const last = await lines.next();
      await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)));
      return last.done ? 0 : (JSON.parse(last.value) as { crmRequests: number }).crmRequests;
    },
  };
}

export async function benchThroughput(quick: boolean, crmPayloadBytes: number): Promise<Measurement<ThroughputData>> {
  const started = performance.now();
  const connections = 10;
  const seconds = quick ? 1 : 5;
  const rounds = quick ? 1 : 3;
  const pool = signedTranscriptions(BENCH_SECRET, 1000);
  let next = 0;

  const load = async (url: string, duration: number): Promise<Round> => {
    const result = await autocannon({
      url,
      connections,
      duration,
      timeout: 10,
      requests: [
        {
          method: 'POST',
          setupRequest: (req) => {
            const signed = pool[next++ % pool.length]!;
            return { ...req, method: 'POST', body: signed.body, headers: signed.headers };
          },
        },
      ],
    });
    return {
      reqPerSec: result.requests.average,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      total: result['2xx'] + result.non2xx,
    };
  };

  const receiver = await startServer('receiver', crmPayloadBytes);
  const floor = await startServer('floor', crmPayloadBytes);
  const results: Record<'receiver' | 'floor', Round[]> = { receiver: [], floor: [] };
  let crmForwards = 0;
  try {
    // Warm-up: JIT and connection pools on both servers before anything counts.
    await load(receiver.url, 1);
    await load(floor.url, 1);
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['receiver', 'floor'] as const) : (['floor', 'receiver'] as const);
      for (const mode of order) results[mode].push(await load(mode === 'receiver' ? receiver.url : floor.url, seconds));
    }
  } finally {
    crmForwards = await receiver.stop();
    await floor.stop();
  }

  const summary = (list: Round[]) => ({
    reqPerSecMedian: Math.round(median(list.map((r) => r.reqPerSec))),
    p99MsMedian: median(list.map((r) => r.p99Ms)),
    errors: list.reduce((s, r) => s + r.errors + r.timeouts, 0),
    non2xx: list.reduce((s, r) => s + r.non2xx, 0),
    total: list.reduce((s, r) => s + r.total, 0),
    rounds: list.map((r) => ({ ...r, reqPerSec: Math.round(r.reqPerSec) })),
  });
  const rec = summary(results.receiver);
  const flo = summary(results.floor);
  const failures = rec.errors + rec.non2xx;
  const check = atMost('throughput: 0 errors (connection errors, timeouts and non-2xx answers)', failures, 0, 'errors');
  check.margin = failures === 0 ? `0 of ${rec.total} requests failed` : `${failures} of ${rec.total} requests failed`;
  const ratio = rec.reqPerSecMedian / flo.reqPerSecMedian;
  return {
    name: 'throughput',
    rows: [
      {
        figure: `6. throughput (${connections} conns, ${rounds}×${seconds} s)`,
        ours: `${rec.reqPerSecMedian.toLocaleString('en-US')} req/s, p99 ${ms(rec.p99MsMedian)}`,
        baseline: `floor ${flo.reqPerSecMedian.toLocaleString('en-US')} req/s, p99 ${ms(flo.p99MsMedian)}`,
        comparison: `${times(ratio)} req/s`,
        target: '0 errors; report req/s',
        verdict: verdict(check),
      },
    ],
    checks: [check],
    data: {
      connections,
      secondsPerRound: seconds,
      rounds,
      receiver: rec,
      floor: flo,
      ratio: round(ratio),
      crmForwards,
    },
    seconds: (performance.now() - started) / 1000,
  };
}
