/**
 * `npm run build`: bundles each Lambda into dist/<name>/index.mjs (contract §9) with esbuild.
 * ESM, target node24 (the Lambda runtime, contract §9), minified, with source maps. Code splitting keeps the SDK clients and
 * undici in chunks beside index.mjs that load on the path that needs them (cold start).
 */
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build } from 'esbuild';
import { undiciHttp1Only } from './lib/undici-http1-only';

const root = fileURLToPath(new URL('..', import.meta.url));

export const LAMBDAS = {
  receiver: 'lambda/receiver.ts',
  'retry-worker': 'lambda/retry-worker.ts',
  'audio-worker': 'lambda/audio-worker.ts',
  'sms-worker': 'lambda/sms-worker.ts',
  reconciler: 'lambda/reconciler.ts',
} as const;

/** The AWS SDK's CommonJS parts call `require`; ESM has none unless we make one. */
const banner = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/**
 * Bundles built into another Lambda's folder, to run beside its code at the same paths: the
 * layer builder fills the receiver's compile cache by importing the receiver's chunks, on the
 * receiver's runtime (SPEC §14, lambda/create-layer-builder.ts). Its own chunks stay in its
 * subfolder, apart from the receiver's.
 */
const COMPANIONS: Partial<Record<keyof typeof LAMBDAS, Record<string, string>>> = {
  receiver: { 'layer-builder': 'lambda/layer-builder.ts' },
};

export async function buildLambda(name: keyof typeof LAMBDAS, options: Partial<BuildOptions> = {}) {
  const outdir = `${root}dist/${name}`;
  await rm(outdir, { recursive: true, force: true });
  const result = await build({ ...lambdaBuildOptions(LAMBDAS[name], outdir), ...options });
  for (const [folder, entry] of Object.entries(COMPANIONS[name] ?? {})) {
    await build({ ...lambdaBuildOptions(entry, `${outdir}/${folder}`), ...options });
  }
  return result;
}

/** The settings every Lambda bundle is built with (bench/naive/build.ts reuses them, without splitting). */
export function lambdaBuildOptions(entry: string, outdir: string): BuildOptions & { metafile: true } {
  return {
    absWorkingDir: root,
    entryPoints: { index: entry },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    minify: true,
    sourcemap: 'linked',
    sourcesContent: false,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    banner: { js: banner },
    legalComments: 'none',
    metafile: true,
    // The AWS SDK's ES modules (`module`, dist-es) rather than esbuild's default for platform
    // node (`main` first: CommonJS, https://esbuild.github.io/api/#main-fields). Only ES modules
    // can be tree-shaken, and lambda/adapters/sdk/ names just the commands we send: the
    // receiver's lazy chunks total 1,054 instead of 1,282 KiB, and the first transcription of a
    // container that reads its secret from Secrets Manager and checks duplicates in DynamoDB
    // takes ~95–100 instead of ~118 ms; with the archive and the audio check on as well, ~141
    // instead of ~170 ms (bench figure 2d, medians of 9 fresh processes).
    mainFields: ['module', 'main'],
    // undici without its HTTP/2 client and fetch's body encoder, neither reachable from our agents.
    plugins: [undiciHttp1Only],
    logLevel: 'warning',
  };
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const { existsSync } = await import('node:fs');
  for (const name of Object.keys(LAMBDAS) as (keyof typeof LAMBDAS)[]) {
    if (!existsSync(`${root}${LAMBDAS[name]}`)) continue;
    const result = await buildLambda(name);
    const outputs = Object.entries(result.metafile?.outputs ?? {}).filter(([file]) => file.endsWith('.mjs'));
    const total = outputs.reduce((sum, [, o]) => sum + o.bytes, 0);
    const entry = outputs.find(([file]) => file.endsWith('index.mjs'));
    console.log(`dist/${name}/index.mjs  ${kib(entry?.[1].bytes ?? 0)} entry, ${kib(total)} with ${outputs.length - 1} lazy chunks`);
  }
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}
