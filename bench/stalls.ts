/**
 * Figure 7: the answer time under each stalled dependency (contract §11). Every scenario runs in
 * its own process (bench/stalls-child.ts) with the receiver's full Lambda budget (28 s) and one
 * dependency that accepts connections and never answers; all run at once, since they mostly
 * wait. Targets: every request is answered before its deadline (28 s − 1.5 s reserve), and a
 * cold start against a stalled Secrets Manager fails closed within 6 s.
 */
import { RECEIVER_TIMEOUT_MS, RESPONSE_RESERVE_MS } from '../lambda/core/time-budget';
import { runNodeJson, tsxArgs } from './lib/child';
import { childEnv } from './lib/local-env';
import { atMost, type Check, type Measurement, ms, type Row, verdict } from './lib/report';

export const STALL_SCENARIOS = [
  'secrets-cold-start',
  'secrets-cache-expired',
  'dynamodb-entirely',
  'dynamodb-completion-write',
  's3-audio-put',
  'sqs-after-crm-failure',
  'crm',
  'crm-and-sqs',
] as const;
export type StallScenario = (typeof STALL_SCENARIOS)[number];

interface StallResult {
  scenario: StallScenario;
  status: number;
  ms: number;
  answer: string;
}

const COLD_SECRET_TARGET_MS = 6_000;

export async function benchStalls(): Promise<Measurement<{ results: StallResult[] }>> {
  const started = performance.now();
  const results = await Promise.all(
    STALL_SCENARIOS.map((scenario) =>
      runNodeJson<StallResult>({ args: tsxArgs('stalls-child.ts', scenario), env: childEnv(), timeoutMs: 60_000 }),
    ),
  );
  const deadline = RECEIVER_TIMEOUT_MS - RESPONSE_RESERVE_MS;
  const rows: Row[] = [];
  const checks: Check[] = [];
  for (const result of results) {
    const target = result.scenario === 'secrets-cold-start' ? COLD_SECRET_TARGET_MS : deadline;
    const check = atMost(`stalled ${result.scenario}: answered within ${target / 1000} s`, result.ms, target, 'ms');
    checks.push(check);
    rows.push({
      figure: `7. stalled ${result.scenario}`,
      ours: `${result.status} ${result.answer} in ${ms(result.ms)}`,
      baseline: `Lambda timeout ${RECEIVER_TIMEOUT_MS / 1000} s`,
      comparison: `${((result.ms / RECEIVER_TIMEOUT_MS) * 100).toFixed(0)}% of the timeout`,
      target: `≤ ${ms(target)}`,
      verdict: verdict(check),
    });
  }
  return { name: 'stalls', rows, checks, data: { results }, seconds: (performance.now() - started) / 1000 };
}
