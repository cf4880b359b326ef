/**
 * The CLIs the tests run as child processes, bundled by vitest's globalSetup (vitest.config.ts)
 * into dist/cli/<source path>.mjs, so each child is plain `node <bundle>`: ~0.2 s of CPU against
 * ~0.9 s for running scripts/<name>.ts through tsx, which compiles every import again in each
 * process (issue 19). Users keep running them through tsx (`npm run send`, …); `npm start`
 * through npm is still tested that way (test/integration/local-cli.test.ts).
 *
 * The table is the folder: every `scripts/*.ts` is an entry, so a new script needs no edit here.
 * A run rebuilds when any input (our sources, the bundled packages) changed since the last
 * build, so a test never runs a stale bundle of edited code; otherwise it costs a few stat calls.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type OutputFile, type Plugin, transform } from 'esbuild';
import { CLI_OUTDIR, ROOT } from './local-cli';

/** Entries other than scripts/*.ts that tests run (paths from the repository root). */
const OTHER_ENTRIES = ['bench/compare.ts', 'bench/compare-cold.ts', 'bench/compile-cache.ts'];
const STAMP = join(CLI_OUTDIR, 'inputs.json');
const CHUNKS = join(CLI_OUTDIR, 'chunks');
/** A chunk no build referenced for this long is no longer read by any test run. */
const STALE_CHUNK_MS = 3_600_000;

interface Stamp {
  /** The bundles name files by absolute path (import.meta.url): a moved checkout rebuilds. */
  root: string;
  builtAt: number;
  entries: string[];
  inputs: string[];
}

function cliEntries(): string[] {
  const scripts = readdirSync(join(ROOT, 'scripts'))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => `scripts/${file}`);
  return [...scripts, ...OTHER_ENTRIES].sort();
}

/**
 * Runtime dependencies are bundled, as the Lambda bundles bundle them (one file loads faster
 * than the SDK's thousands). devDependencies stay in node_modules: dynalite and esbuild have
 * native parts, and s3rver and tsx are tools, not what we ship.
 */
function externalPackages(): string[] {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  return Object.keys(manifest.devDependencies ?? {});
}

/**
 * Each of our modules keeps its own `import.meta.url` (its source file's URL), as under tsx:
 * code that finds the repository from where it lives (scripts/lib/local-config.ts's ROOT,
 * bench/lib/child.ts) works the same from dist/cli/, chunks included. A `define` in a per-file
 * transform replaces the expression itself, never text in a string or comment.
 */
const sourceImportMeta: Plugin = {
  name: 'source-import-meta',
  setup(builder) {
    const tsconfigRaw = readFileSync(join(ROOT, 'tsconfig.json'), 'utf8');
    builder.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (args.path.includes('/node_modules/') || !source.includes('import.meta')) return { contents: source, loader: 'ts' };
      const { code } = await transform(source, {
        loader: 'ts',
        sourcefile: args.path,
        tsconfigRaw,
        define: { 'import.meta.url': JSON.stringify(pathToFileURL(args.path).href) },
      });
      return { contents: code, loader: 'js' };
    });
  },
};

function isFresh(entries: string[]): boolean {
  let stamp: Stamp;
  try {
    stamp = JSON.parse(readFileSync(STAMP, 'utf8')) as Stamp;
  } catch {
    return false;
  }
  if (stamp.root !== ROOT || stamp.entries.join('\n') !== entries.join('\n')) return false;
  try {
    const settings = ['package.json', 'tsconfig.json', 'test/helpers/cli-bundles.ts'];
    return [...stamp.inputs, ...settings].every((input) => statSync(join(ROOT, input)).mtimeMs < stamp.builtAt);
  } catch {
    return false; // an input was deleted or renamed
  }
}

/** Atomic per file (another vitest run may be starting a CLI): chunks first, entries last. */
function writeOutputs(files: OutputFile[]): void {
  const ordered = [...files].sort((a, b) => Number(!a.path.startsWith(CHUNKS)) - Number(!b.path.startsWith(CHUNKS)));
  for (const file of ordered) {
    mkdirSync(dirname(file.path), { recursive: true });
    const temporary = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temporary, file.contents);
    renameSync(temporary, file.path);
  }
}

function removeStaleChunks(current: Set<string>): void {
  for (const name of readdirSync(CHUNKS)) {
    const path = join(CHUNKS, name);
    if (!current.has(path) && Date.now() - statSync(path).mtimeMs > STALE_CHUNK_MS) rmSync(path, { force: true });
  }
}

/** vitest's globalSetup: bundles the CLIs unless the last bundles are still current. */
export default async function bundleClis(): Promise<void> {
  const entries = cliEntries();
  if (isFresh(entries)) return;
  const builtAt = Date.now();
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: entries,
    outbase: ROOT,
    outdir: CLI_OUTDIR,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    external: externalPackages(),
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The AWS SDK's CommonJS parts call `require`, which ESM lacks (as in scripts/build.ts).
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    keepNames: true,
    write: false,
    metafile: true,
    logLevel: 'warning',
    plugins: [sourceImportMeta],
  });
  writeOutputs(result.outputFiles);
  removeStaleChunks(new Set(result.outputFiles.map((file) => file.path)));
  const stamp: Stamp = { root: ROOT, builtAt, entries, inputs: Object.keys(result.metafile.inputs) };
  writeFileSync(STAMP, `${JSON.stringify(stamp)}\n`);
}
