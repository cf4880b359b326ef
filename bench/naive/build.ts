/**
 * Builds the naive reference receiver (bench/naive/receiver.ts) into dist/naive-receiver/index.mjs
 * with the settings of the real bundles (scripts/build.ts), except code splitting: the naive
 * receiver loads everything at import, as one file.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { lambdaBuildOptions } from '../../scripts/build';
import { ROOT } from '../lib/child';

export const NAIVE_BUNDLE = join(ROOT, 'dist', 'naive-receiver', 'index.mjs');

export async function buildNaiveReceiver(): Promise<string> {
  const outdir = join(ROOT, 'dist', 'naive-receiver');
  await rm(outdir, { recursive: true, force: true });
  await build({ ...lambdaBuildOptions('bench/naive/receiver.ts', outdir), splitting: false });
  return NAIVE_BUNDLE;
}
