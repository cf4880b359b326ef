/**
 * Guard for the parser fast path (lambda/core/events.ts, `fastParseEvent`): on the seed events
 * and on generated variants of them (fields set to null, wrong types, padded ids, numeric
 * strings, nested junk, deleted keys, `__proto__` keys, payloads at the top level), whenever the
 * fast path answers, the zod schemas must give the same value with the same keys (in any
 * order); whenever zod refuses, the fast path must decline. The verifier figure means nothing
 * if the fast path is not the same parser, so the benchmark runs this first.
 * Also runnable alone: `npx tsx bench/parse-equivalence.ts [runs]`.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { fastParseEvent, parseEventWithSchemas } from '../lambda/core/events';
import { SEED_EVENTS, sampleEvent } from '../test/fixtures/samples';
import type { Measurement } from './lib/report';

type Json = unknown;

function paths(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

function setAt(root: Record<string, Json>, path: (string | number)[], value: Json, remove: boolean): void {
  if (path.length === 0) return;
  let node: any = root;
  for (const key of path.slice(0, -1)) node = node[key];
  const last = path.at(-1)!;
  if (remove && !Array.isArray(node)) delete node[last];
  else node[last] = value;
}

/**
 * Same values and the same own keys (an `undefined`-valued key differs from a missing one) at
 * every level: node's deep strict equality. Key order may differ: zod lists shape keys first,
 * the fast path keeps the input's order, and nothing reads it.
 */
function sameShape(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(a, b);
}

/** Fresh values each time (factories), so a mutation never makes a shared object cyclic. */
const awkward = fc
  .constantFrom<() => Json>(
    () => null,
    () => undefined,
    () => '',
    () => '   ',
    () => '  conv_x  ',
    () => ' 42 ',
    () => '12.5',
    () => '-3',
    () => '1e3',
    () => 'abc',
    () => 'x'.repeat(300),
    () => 0,
    () => -1,
    () => 12.7,
    () => Number.NaN,
    () => Number.POSITIVE_INFINITY,
    () => true,
    () => [],
    () => [null, 1, 'a', {}, [], { role: 'user', message: 'hi' }],
    () => ({}),
    () => ({ role: 'user', message: ' hello ', tool_results: [{ tool_name: 'voicemail_detection', result: { result_type: 'voicemail_detection_success' } }, null] }),
    () => ({ nested: { deep: [1, 2] }, '0': 'zero', b: undefined }),
    () => ({ [Symbol('s')]: 1, role: 'user', message: 'symbol keys' }),
    () => Object.defineProperty({ role: 'agent' }, 'message', { value: 'hidden', enumerable: false }),
    () => new Date(0),
    () => Object.create(null),
    () => JSON.parse('{"__proto__": {"polluted": true}, "x": 1}'),
    () => 'toString',
    () => 'post_call_video',
    () => ' post_call_audio ',
    () => 'call_initiation_failure',
  )
  .map((make) => make());

const bases = (): Record<string, Json>[] => [
  ...Object.values(SEED_EVENTS).map((e) => structuredClone(e) as Record<string, Json>),
  sampleEvent('transcription'),
  sampleEvent('failure'),
  sampleEvent('audio', { audioSeconds: 0.1 }),
  // Older payloads: the fields at the top level (SPEC §4).
  (() => {
    const e = sampleEvent('transcription');
    return { type: e.type, event_timestamp: e.event_timestamp, ...e.data };
  })(),
];

export interface EquivalenceReport {
  cases: number;
  fastAnswered: number;
  declined: number;
}

export function checkParseEquivalence(runs = 2000, seed = 5): EquivalenceReport {
  const report: EquivalenceReport = { cases: 0, fastAnswered: 0, declined: 0 };
  const baseCount = bases().length;
  fc.assert(
    fc.property(
      fc.nat({ max: baseCount - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.oneof(awkward, fc.jsonValue({ maxDepth: 2 })), fc.boolean()), { maxLength: 4 }),
      (baseIndex, mutations) => {
        const event = bases()[baseIndex]!;
        for (const [pick, value, remove] of mutations) {
          const all = paths(event);
          setAt(event, all[pick % all.length]!, value, remove && pick % 3 === 0);
        }
        report.cases += 1;
        let fast: unknown;
        try {
          fast = fastParseEvent(event);
        } catch (error) {
          throw new Error(`fast path threw instead of declining: ${String(error)}`);
        }
        if (fast === undefined) {
          report.declined += 1;
          return true;
        }
        report.fastAnswered += 1;
        let slow: unknown;
        try {
          slow = parseEventWithSchemas(event);
        } catch (error) {
          throw new Error(`fast path accepted what zod refuses: ${(error as Error).message}`);
        }
        if (!sameShape(fast, slow)) throw new Error('fast path and zod disagree');
        return true;
      },
    ),
    { numRuns: runs, seed },
  );
  return report;
}

/** The benchmark's guard: throws (failing the run) on any difference. */
export function checkedParseEquivalence(quick: boolean): Measurement<EquivalenceReport> {
  const started = performance.now();
  const report = checkParseEquivalence(quick ? 300 : 3000);
  return {
    name: 'parseEquivalence',
    rows: [
      {
        figure: '4a. parser fast path vs zod schemas',
        ours: `${report.fastAnswered} answered fast`,
        baseline: `${report.declined} left to zod`,
        comparison: `0 differences in ${report.cases} cases`,
        target: '(guard for 3. and 4.)',
        verdict: 'checked',
      },
    ],
    checks: [],
    data: report,
    seconds: (performance.now() - started) / 1000,
  };
}

if (process.argv[1]?.endsWith('parse-equivalence.ts')) {
  const report = checkParseEquivalence(Number(process.argv[2] ?? 20000), Number(process.argv[3] ?? Date.now() % 100000));
  console.log(`parse fast path: ${report.cases} cases, ${report.fastAnswered} answered by the fast path, ${report.declined} left to zod, 0 differences`);
}
