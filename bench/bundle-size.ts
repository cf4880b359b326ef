/**
 * Figure 1: size of each Lambda bundle (contract §9), bytes and gzip, the entry (what INIT loads)
 * and the total with the lazy chunks esbuild splits out (scripts/build.ts). Deterministic, so
 * one reading is the median. Builds first, so every later figure runs the current sources.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildLambda, LAMBDAS } from '../scripts/build';
import { ROOT } from './lib/child';
import { kib, type Measurement, type Row } from './lib/report';

type LambdaName = keyof typeof LAMBDAS;

export interface BundleFigures {
  entryBytes: number;
  entryGzipBytes: number;
  totalBytes: number;
  totalGzipBytes: number;
  chunks: number;
}

export interface BundleData {
  gzipLevel: number;
  bundles: Record<string, BundleFigures>;
}

/** gzip's own default level, the figure people compare with `gzip -c | wc -c`. */
const GZIP_LEVEL = 6;

function measureBundle(name: LambdaName): BundleFigures {
  const dir = join(ROOT, 'dist', name);
  const chunkDir = join(dir, 'chunks');
  const chunkFiles = existsSync(chunkDir)
    ? readdirSync(chunkDir)
        .filter((f) => f.endsWith('.mjs'))
        .map((f) => join(chunkDir, f))
    : [];
  const size = (file: string) => {
    const bytes = readFileSync(file);
    return { bytes: bytes.length, gzip: gzipSync(bytes, { level: GZIP_LEVEL }).length };
  };
  const entry = size(join(dir, 'index.mjs'));
  const chunks = chunkFiles.map(size);
  return {
    entryBytes: entry.bytes,
    entryGzipBytes: entry.gzip,
    totalBytes: entry.bytes + chunks.reduce((s, c) => s + c.bytes, 0),
    // Per file, as the deployment zip compresses each file on its own.
    totalGzipBytes: entry.gzip + chunks.reduce((s, c) => s + c.gzip, 0),
    chunks: chunks.length,
  };
}

export async function benchBundleSize(): Promise<Measurement<BundleData>> {
  const started = performance.now();
  // Always from the current sources: a stale dist/ would measure (and, for figure 2, run) old code.
  for (const name of Object.keys(LAMBDAS) as LambdaName[]) await buildLambda(name);
  const bundles: Record<string, BundleFigures> = {};
  const rows: Row[] = [];
  for (const name of Object.keys(LAMBDAS) as LambdaName[]) {
    const f = measureBundle(name);
    bundles[name] = f;
    rows.push({
      figure: `1. bundle dist/${name}`,
      ours: `entry ${kib(f.entryBytes)} (gzip ${kib(f.entryGzipBytes)})`,
      baseline: `total ${kib(f.totalBytes)} (gzip ${kib(f.totalGzipBytes)}), ${f.chunks} lazy chunks`,
      comparison: `entry is ${((f.entryBytes / f.totalBytes) * 100).toFixed(0)}% of total`,
      target: '(none; informs 2.)',
      verdict: 'reported',
    });
  }
  return {
    name: 'bundleSize',
    rows,
    checks: [],
    data: { gzipLevel: GZIP_LEVEL, bundles },
    seconds: (performance.now() - started) / 1000,
  };
}
