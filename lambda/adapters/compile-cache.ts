/**
 * Node's compile cache for the receiver (SPEC §14; Node.js docs, "Module compile cache"):
 * V8's code cache of each module, written by `module.flushCompileCache()` and read back when
 * `NODE_COMPILE_CACHE` points at it. Node keys it to its exact build, V8 flags, CPU architecture
 * and user id (one folder per key, e.g. `v24.22.3-x64-964aae3f-993`), so it can only be made on
 * the runtime that reads it: the layer builder (create-layer-builder.ts) fills it on Lambda, with
 * the receiver's code at the same /var/task paths, and the stack gives it to the receiver as a
 * layer. A cache made for another runtime is simply not found, and the receiver compiles as usual.
 */
import { readdir, readFile } from 'node:fs/promises';
import * as nodeModule from 'node:module';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface CompileCacheFill {
  /** The cache's folder name: Node's key (version, architecture, flags hash, user id). */
  tag: string;
  files: { name: string; data: Buffer }[];
  /** Chunks imported, and those whose evaluation threw (compiled, so cached all the same). */
  modules: number;
  failed: number;
}

class CompileCacheError extends Error {
  override name = 'CompileCacheError';
}

/**
 * Enables the cache in `cacheDir`, imports every module in `<codeDir>/chunks` (the bundle's code:
 * the receiver's entry is a one-line module that would run INIT, so it is left out), flushes the
 * cache and returns its files. Runs once per process: Node enables the cache only once.
 */
export async function fillCompileCache(codeDir: string, cacheDir: string): Promise<CompileCacheFill> {
  const { status, message } = nodeModule.enableCompileCache(cacheDir);
  const { ENABLED, ALREADY_ENABLED } = nodeModule.constants.compileCacheStatus;
  // The folder for this build's key, inside `cacheDir` (enableCompileCache names only the latter).
  const directory = nodeModule.getCompileCacheDir();
  if ((status !== ENABLED && status !== ALREADY_ENABLED) || directory === undefined) {
    throw new CompileCacheError(`Node did not enable its compile cache in ${cacheDir}: ${message ?? `status ${status}`}`);
  }
  const chunksDir = join(codeDir, 'chunks');
  const chunks = (await readdir(chunksDir)).filter((file) => file.endsWith('.mjs')).sort();
  if (chunks.length === 0) throw new CompileCacheError(`${chunksDir} holds no modules`);
  let failed = 0;
  for (const file of chunks) {
    // A chunk's top level only defines (esbuild's split output); should one throw, it has been
    // compiled all the same, and its cache is written.
    await import(pathToFileURL(join(chunksDir, file)).href).catch(() => failed++);
  }
  nodeModule.flushCompileCache();
  const names = (await readdir(directory)).sort();
  const files = await Promise.all(names.map(async (name) => ({ name, data: await readFile(join(directory, name)) })));
  return { tag: basename(directory), files, modules: chunks.length, failed };
}
