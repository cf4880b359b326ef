/** The shape every measurement returns: table rows for people, checks against the issue's targets, raw figures for results.json. */

export interface Row {
  figure: string;
  ours: string;
  baseline: string;
  comparison: string;
  target: string;
  verdict: string;
}

export interface Check {
  /** The target, as bench/README.md states it. */
  target: string;
  value: number;
  limit: number;
  unit: string;
  pass: boolean;
  /** Headroom when passing, shortfall when missing, both in the target's own unit and in %. */
  margin: string;
}

export interface Measurement<T = unknown> {
  name: string;
  rows: Row[];
  checks: Check[];
  data: T;
  seconds: number;
}

function fmt(value: number, unit: string): string {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)}${unit === '×' ? '×' : ` ${unit}`}`;
}

/** value must stay at or below limit (times, ratios, memory). */
export function atMost(target: string, value: number, limit: number, unit: string): Check {
  const pass = value <= limit;
  const diff = Math.abs(limit - value);
  const pct = (diff / limit) * 100;
  const margin = pass ? `${fmt(diff, unit)} under (${pct.toFixed(0)}% headroom)` : `${fmt(diff, unit)} over (misses by ${pct.toFixed(0)}%)`;
  return { target, value, limit, unit, pass, margin };
}

/** value must reach at least limit (ops/s ratios). */
export function atLeast(target: string, value: number, limit: number, unit: string): Check {
  const pass = value >= limit;
  const diff = Math.abs(value - limit);
  const pct = (diff / limit) * 100;
  const margin = pass
    ? `${fmt(diff, unit)} above (${pct.toFixed(0)}% headroom)`
    : `${fmt(diff, unit)} short (misses by ${pct.toFixed(0)}%)`;
  return { target, value, limit, unit, pass, margin };
}

export function verdict(check: Check): string {
  return `${check.pass ? 'PASS' : 'MISS'} (${check.margin})`;
}

export const ms = (v: number) => `${Number.isInteger(v) ? v : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 3)} ms`;
export const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
export const times = (v: number) => `${v.toFixed(2)}×`;

/** Plain-text table, columns padded to their widest cell. */
export function renderTable(rows: Row[]): string {
  const header: Row = {
    figure: 'figure',
    ours: 'ours',
    baseline: 'baseline',
    comparison: 'vs baseline',
    target: 'target',
    verdict: 'verdict',
  };
  const keys = Object.keys(header) as (keyof Row)[];
  const all = [header, ...rows];
  const widths = keys.map((k) => Math.max(...all.map((r) => r[k].length)));
  const line = (r: Row) =>
    keys
      .map((k, i) => r[k].padEnd(widths[i]!))
      .join(' | ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

/** The same rows as a Markdown table, for docs/performance.md. */
export function renderMarkdown(rows: Row[]): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  const head = '| figure | ours | baseline | vs baseline | target | verdict |\n|---|---|---|---|---|---|';
  return [head, ...rows.map((r) => `| ${[r.figure, r.ours, r.baseline, r.comparison, r.target, r.verdict].map(esc).join(' | ')} |`)].join(
    '\n',
  );
}
