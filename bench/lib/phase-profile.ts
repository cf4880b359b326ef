/**
 * Self time of a `.cpuprofile` split at two instants (import done, first answer given) and
 * grouped by where the code came from: the package or source file, read through the bundle's
 * source maps (`node:module` SourceMap), or the Node built-in. Used by bench/profile-cold.ts.
 * Samples are wall-clock intervals, so each is capped at twice the sampling interval: on a busy
 * machine a sample that spans time the process was not running would count that time as work.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Microsecond instants on the profile's clock (`process.hrtime`, the same monotonic clock). */
export interface PhaseMarks {
  start: number;
  imported: number;
  answered: number;
}

export type PhaseTotals = Record<'import' | 'event', Map<string, number>>;

const maps = new Map<string, SourceMap | undefined>();
function sourceMapOf(url: string): SourceMap | undefined {
  if (!maps.has(url)) {
    const file = `${fileURLToPath(url)}.map`;
    maps.set(url, existsSync(file) ? new SourceMap(JSON.parse(readFileSync(file, 'utf8'))) : undefined);
  }
  return maps.get(url);
}

function packageOf(source: string): string {
  const at = source.lastIndexOf('node_modules/');
  if (at >= 0) {
    const [scope = '', name = ''] = source.slice(at + 'node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  return source.match(/(lambda|bench|support)\/.*$/)?.[0] ?? source;
}

function categoryOf({ functionName, url, lineNumber, columnNumber }: ProfileNode['callFrame']): string {
  if (functionName === '(idle)') return '(idle)';
  if (url === '') return `(${functionName || 'native'})`;
  if (url.startsWith('node:')) return url.replace(/^node:internal\/(deps\/)?/, 'node:').replace(/\/.*$/, '');
  if (url.startsWith('file:')) {
    const entry = sourceMapOf(url)?.findEntry(lineNumber, columnNumber) as { originalSource?: string } | undefined;
    if (entry?.originalSource) return packageOf(entry.originalSource);
  }
  return url.replace(/^.*\//, '');
}

/** Adds `file`'s self time (ms) per category and phase into `totals`. */
export function addPhaseProfile(file: string, marks: PhaseMarks, intervalUs: number, totals: PhaseTotals): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const cache = new Map<number, string>();
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    const phase = t < marks.start ? undefined : t < marks.imported ? 'import' : t < marks.answered ? 'event' : undefined;
    if (!phase) return;
    let category = cache.get(id);
    if (category === undefined) {
      category = categoryOf(byId.get(id)!.callFrame);
      cache.set(id, category);
    }
    const us = Math.min(profile.timeDeltas[i + 1] ?? 0, 2 * intervalUs);
    totals[phase].set(category, (totals[phase].get(category) ?? 0) + us / 1000);
  });
}
