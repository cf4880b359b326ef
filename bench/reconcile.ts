/**
 * Figure 10: the reconciler over a full window (contract §12, issue "every call reaches the CRM").
 * The reconciler bundle (dist/reconciler/index.mjs, the code Lambda runs) pages through 10,000
 * conversations (100 pages of 100; quick: 2,000) from the ElevenLabs API stand-in in a fresh
 * process; half of them have their record in the ledger. Targets: the run ends in under 60 s,
 * with a peak RSS (the whole process, VmHWM) under 128 MiB, and a present record costs exactly
 * one HeadObject and no API call. The child runs with the V8 heap flags Lambda gives a function
 * of the reconciler's memory size (lib/lambda-flags.ts). The baseline, in the same run: a fresh
 * process that only pages the same list with `fetch` (the floor of the listing alone).
 *
 * The stand-ins run in this process: the API stand-in, a ledger S3 that answers HeadObject from
 * a rule and counts every request (s3rver would measure its own disk, not the reconciler), and
 * the SQS JSON-protocol stand-in that keeps every call check sent.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RECONCILER_MEMORY_MB } from '../infra/webhook-stack';
import { RECORD_EVENT_TYPES } from '../lambda/core/events';
import { ARCHIVE_PREFIX, FIRST_RUN_KEY } from '../lambda/core/storage-keys';
import { startAwsFake } from '../support/stand-ins/aws-json';
import { startElevenLabsApi } from '../support/stand-ins/elevenlabs-api';
import { ROOT, runNodeJson } from './lib/child';
import { lambdaNodeFlags } from './lib/lambda-flags';
import { childEnv } from './lib/local-env';
import { atMost, type Check, type Measurement, mib, ms, type Row, verdict } from './lib/report';

const BUCKET = 'bench-calls';
const QUEUE = 'bench-audio-checks';
const MiB = 1024 * 1024;
const LIMIT_SECONDS = 60;
const LIMIT_RSS_MIB = 128;

export interface ReconcileData {
  conversations: number;
  pages: number;
  present: number;
  /** The flags the child ran with: Lambda's for the reconciler's memory size (lib/lambda-flags.ts). */
  nodeFlags: string[];
  run: {
    ms: number;
    cpuMs: number;
    peakRssBytes: number;
    afterImportRssBytes: number;
    liveHeapBytes: number;
    outcome: string;
    listed: number;
    scheduled: number;
    presentCounted: number;
  };
  floor: { ms: number; peakRssBytes: number; pages: number };
  requests: {
    listPages: number;
    otherApiCalls: number;
    headObjects: number;
    otherS3Calls: number;
    s3Connections: number;
    callChecksSent: number;
  };
}

interface RunAnswer {
  ms: number;
  cpuMs: number;
  peakRssKb: number;
  afterImportKb: number;
  liveHeapBytes: number;
  line: Record<string, unknown>;
}

interface FloorAnswer {
  ms: number;
  peakRssKb: number;
  pages: number;
}

/**
 * Imports the bundle (building the handler, as Lambda INIT does), runs one invocation, reports its
 * time, CPU, the process's peak RSS, and the heap still live after a full GC (what the run keeps,
 * as opposed to garbage the young generation has not collected yet), with the run's own log line.
 */
const RUN_CHILD = `
const lines = [];
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => { if (String(chunk).startsWith('{')) { lines.push(String(chunk)); return true; } return write(chunk, ...rest); };
const { readFileSync } = await import('node:fs');
const hwmKb = () => Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? process.resourceUsage().maxRSS);
const t0 = performance.now();
const { handler } = await import(process.argv[1]);
const afterImportKb = hwmKb();
const cpu0 = process.cpuUsage();
await handler({}, { getRemainingTimeInMillis: () => 600000 });
const elapsed = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const peakRssKb = hwmKb();
globalThis.gc();
const liveHeapBytes = process.memoryUsage().heapUsed;
const line = lines.map((l) => JSON.parse(l)).findLast((l) => l.message === 'reconcile run') ?? {};
write('\\n' + JSON.stringify({ ms: elapsed, cpuMs: (cpu.user + cpu.system) / 1000, peakRssKb, afterImportKb, liveHeapBytes, line }) + '\\n', () => process.exit(0));
`;

/** The floor: the same pages, fetched one after another with nothing else done. */
const FLOOR_CHILD = `
const { readFileSync } = await import('node:fs');
const t0 = performance.now();
let cursor, pages = 0;
do {
  const url = new URL('/v1/convai/conversations', process.env.ELEVENLABS_API_BASE_URL);
  url.searchParams.set('page_size', '100');
  if (cursor) url.searchParams.set('cursor', cursor);
  const page = await (await fetch(url, { headers: { 'xi-api-key': process.env.ELEVENLABS_API_KEY } })).json();
  pages += 1;
  cursor = page.has_more ? page.next_cursor : undefined;
} while (cursor);
const elapsed = performance.now() - t0;
const peakRssKb = Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? process.resourceUsage().maxRSS);
process.stdout.write(JSON.stringify({ ms: elapsed, peakRssKb, pages }) + '\\n', () => process.exit(0));
`;

/** Answers HeadObject for the ledger keys from `isPresent`, GetObject for the first-run marker; counts both. */
async function startLedgerS3(isPresent: (key: string) => boolean, firstRunUnixSecs: number) {
  const counts = { head: 0, other: 0, connections: 0 };
  const server: Server = createServer((req, res) => {
    req.resume();
    const key = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname).replace(`/${BUCKET}/`, '');
    if (req.method === 'HEAD' && key.startsWith(ARCHIVE_PREFIX)) {
      counts.head += 1;
      const present = isPresent(key);
      // As S3 answers: a length on both, so the connection stays open for the next request.
      res.writeHead(present ? 200 : 404, {
        'content-type': present ? 'application/json' : 'application/xml',
        'content-length': present ? '2' : '0',
      });
      return void res.end();
    }
    counts.other += 1;
    if (req.method === 'GET' && key === FIRST_RUN_KEY) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ firstRunUnixSecs }));
    }
    res.writeHead(403, { 'content-type': 'application/xml' });
    res.end('<Error><Code>AccessDenied</Code><Message>not part of the reconciler figure</Message></Error>');
  });
  server.on('connection', () => (counts.connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function benchReconcile(quick: boolean): Promise<Measurement<ReconcileData>> {
  const started = performance.now();
  const total = quick ? 2_000 : 10_000;
  const nowSecs = Math.floor(Date.now() / 1000);
  const api = await startElevenLabsApi();
  // Calls spread over the default window (48 h back, settled 30 min ago), newest first as ElevenLabs lists them.
  for (let i = 0; i < total; i++) {
    api.conversations.push({
      conversation_id: `conv_bench_reconcile_${String(i).padStart(5, '0')}`,
      agent_id: 'agent_bench',
      start_time_unix_secs: nowSecs - 3600 - Math.floor((i * 46 * 3600) / total),
      status: 'done',
    });
  }
  // Every even-numbered call has its record, under the first record type (one HeadObject finds it).
  const firstType = RECORD_EVENT_TYPES[0];
  const presentKey = (key: string) => {
    const match = /conv_bench_reconcile_(\d+)\/([^/]+)\.json$/.exec(key);
    return match !== null && Number(match[1]) % 2 === 0 && match[2] === firstType;
  };
  const s3 = await startLedgerS3(presentKey, nowSecs - 30 * 24 * 3600);
  const aws = await startAwsFake();
  const queueUrl = aws.queueUrl(QUEUE);
  const bundle = pathToFileURL(join(ROOT, 'dist', 'reconciler', 'index.mjs')).href;
  try {
    const env = childEnv({
      AUDIO_BUCKET: BUCKET,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      ARCHIVE_EVENTS: 'true',
      AUDIO_CHECK_QUEUE_URL: queueUrl,
      AWS_ENDPOINT_URL_SQS: aws.endpoint,
      ELEVENLABS_API_KEY: api.apiKey,
      ELEVENLABS_API_BASE_URL: api.baseUrl,
    });
    const floor = await runNodeJson<FloorAnswer>({ args: ['--input-type=module', '-e', FLOOR_CHILD], env, timeoutMs: 120_000 });
    const listBefore = api.requests.length;
    const run = await runNodeJson<RunAnswer>({
      args: [...lambdaNodeFlags(RECONCILER_MEMORY_MB), '--input-type=module', '-e', RUN_CHILD, bundle],
      env,
      timeoutMs: 300_000,
    });
    const runRequests = api.requests.slice(listBefore);
    const listPages = runRequests.filter((r) => r.path === '/v1/convai/conversations').length;
    const present = Math.ceil(total / 2);
    const missing = total - present;
    const sent = aws.sent.get(QUEUE)?.length ?? 0;
    const data: ReconcileData = {
      conversations: total,
      pages: Math.ceil(total / 100),
      present,
      nodeFlags: lambdaNodeFlags(RECONCILER_MEMORY_MB),
      run: {
        ms: Math.round(run.ms),
        cpuMs: Math.round(run.cpuMs),
        peakRssBytes: run.peakRssKb * 1024,
        afterImportRssBytes: run.afterImportKb * 1024,
        liveHeapBytes: run.liveHeapBytes,
        outcome: String(run.line.outcome ?? 'no log line'),
        listed: Number(run.line.listed ?? 0),
        scheduled: Number(run.line.scheduled ?? 0),
        presentCounted: Number(run.line.present ?? 0),
      },
      floor: { ms: Math.round(floor.ms), peakRssBytes: floor.peakRssKb * 1024, pages: floor.pages },
      requests: {
        listPages,
        otherApiCalls: runRequests.length - listPages,
        headObjects: s3.counts.head,
        otherS3Calls: s3.counts.other,
        s3Connections: s3.counts.connections,
        callChecksSent: sent,
      },
    };
    // The run must have done the whole job, or its time means nothing.
    if (data.run.outcome !== 'done' || data.run.listed !== total || sent !== missing || data.run.presentCounted !== present) {
      throw new Error(`reconciler run incomplete: ${JSON.stringify({ run: data.run, sent, expectedSent: missing })}`);
    }
    // One HeadObject per present record, one per record type for a missing one; no API call but the pages.
    const headsPerPresent = (data.requests.headObjects - missing * RECORD_EVENT_TYPES.length) / present;
    const checks: Check[] = [
      atMost(`reconciler over ${total.toLocaleString('en')} conversations: under ${LIMIT_SECONDS} s`, run.ms / 1000, LIMIT_SECONDS, 's'),
      atMost(`reconciler peak RSS under ${LIMIT_RSS_MIB} MiB`, data.run.peakRssBytes / MiB, LIMIT_RSS_MIB, 'MiB'),
      atMost('a present record: one HeadObject', headsPerPresent, 1, 'HeadObject'),
      atMost('a present record: no ElevenLabs API call (only the list pages)', data.requests.otherApiCalls, 0, 'calls'),
    ];
    const rows: Row[] = [
      {
        figure: `10. reconcile ${total.toLocaleString('en')} conversations (${data.pages} pages, half present)`,
        ours: `${ms(data.run.ms)} (CPU ${ms(data.run.cpuMs)}), peak RSS ${mib(data.run.peakRssBytes)} (${mib(data.run.afterImportRssBytes)} after import; live heap after GC ${mib(data.run.liveHeapBytes)})`,
        baseline: `floor: the pages alone, ${ms(data.floor.ms)}, ${mib(data.floor.peakRssBytes)}`,
        comparison: `${(data.run.ms / Math.max(1, data.floor.ms)).toFixed(1)}× the floor's time`,
        target: `< ${LIMIT_SECONDS} s, < ${LIMIT_RSS_MIB} MiB`,
        verdict: `${verdict(checks[0]!)}; ${verdict(checks[1]!)}`,
      },
      {
        figure: '10b. reconcile: requests per conversation',
        ours: `${data.requests.headObjects} HeadObject, ${data.requests.listPages} list pages, ${data.requests.otherApiCalls} other API calls, ${sent} call checks`,
        baseline: `${present} present × 1 + ${missing} missing × ${RECORD_EVENT_TYPES.length}`,
        comparison: `${headsPerPresent.toFixed(2)} HeadObject per present record`,
        target: 'present: 1 HeadObject, no API call',
        verdict: `${verdict(checks[2]!)}; ${verdict(checks[3]!)}`,
      },
    ];
    return { name: 'reconcile', rows, checks, data, seconds: (performance.now() - started) / 1000 };
  } finally {
    await Promise.all([api.close(), s3.close(), aws.close()]);
  }
}
