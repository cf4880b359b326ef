/**
 * Summarises a V8 `.cpuprofile` (written by `node --cpu-prof`): self time per function and per
 * module, so a missed target can name where the time goes.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  selfMs: number;
  share: number;
}

/** Where a frame comes from, shortened: `lambda/core/events.ts`, `node:internal/...`, `undici`, `zod`. */
function moduleOf(url: string): string {
  if (url === '') return '(native/V8)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const repo = url.match(/\/(lambda|bench|scripts|test)\/.*$/);
  if (repo) return repo[0].slice(1);
  if (url.startsWith('node:')) return url.replace(/^node:internal\/(deps\/)?/, 'node:');
  return url;
}

export function summariseProfile(file: string, top = 15): { totalMs: number; byFunction: ProfileEntry[]; byModule: ProfileEntry[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    total += us;
    const m = moduleOf(url);
    const key = `${functionName || '(anonymous)'} ${m}${url ? `:${lineNumber + 1}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    mod.set(m, (mod.get(m) ?? 0) + us);
  }
  const rank = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: us / total }));
  return { totalMs: total / 1000, byFunction: rank(fn), byModule: rank(mod) };
}

/** `node --import tsx bench/lib/cpu-profile.ts <file.cpuprofile>` prints the summary. */
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/bench\//, 'bench/'))) {
  const summary = summariseProfile(process.argv[2]!, Number(process.argv[3] ?? 15));
  console.log(`busy ${summary.totalMs.toFixed(0)} ms (idle and (program) excluded)`);
  for (const [title, list] of [
    ['by module', summary.byModule],
    ['by function', summary.byFunction],
  ] as const) {
    console.log(`\n${title}:`);
    for (const e of list) console.log(`  ${(e.share * 100).toFixed(1).padStart(5)}%  ${e.selfMs.toFixed(1).padStart(8)} ms  ${e.name}`);
  }
}
