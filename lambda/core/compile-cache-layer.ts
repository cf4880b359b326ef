/**
 * The compile cache layer (SPEC §14): what the layer builder (create-layer-builder.ts) puts in
 * it and where the receiver finds it. Lambda extracts a layer under /opt
 * (https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html), so the cache's folder is
 * `/opt/compile-cache`, and the receiver's NODE_COMPILE_CACHE (set by the stack) points there.
 */
import type { ZipEntry } from './zip-archive';

export const COMPILE_CACHE_LAYER_FOLDER = 'compile-cache';
export const COMPILE_CACHE_MOUNT = `/opt/${COMPILE_CACHE_LAYER_FOLDER}`;

/** Node's folder name for a cache: version, architecture, a hex hash, the user id. */
const TAG = /^v\d+\.\d+\.\d+[A-Za-z0-9.+-]*-[A-Za-z0-9_]+-[0-9a-f]+(?:-\d+)?$/;
/** Node names each module's cache file by a hex hash. */
const CACHE_FILE = /^[0-9a-f]{1,16}$/;

/**
 * The layer's entries: the cache's folder and its files, readable by every user (Node writes
 * them 0600 for the user that made them; the receiver runs as Lambda's user, and /opt belongs to
 * root). Without a cache (`fill` undefined, it could not be made) the layer holds the empty
 * folder: Node finds no cache for its key and, /opt being read-only, compiles as it would without.
 */
export function compileCacheLayerEntries(fill?: { tag: string; files: readonly { name: string; data: Uint8Array }[] }): ZipEntry[] {
  const root: ZipEntry = { name: `${COMPILE_CACHE_LAYER_FOLDER}/`, mode: 0o755 };
  if (!fill) return [root];
  if (!TAG.test(fill.tag)) throw new Error(`${JSON.stringify(fill.tag)} is not a compile cache folder name`);
  const bad = fill.files.find((file) => !CACHE_FILE.test(file.name));
  if (bad) throw new Error(`${JSON.stringify(bad.name)} is not a compile cache file name`);
  return [
    root,
    { name: `${COMPILE_CACHE_LAYER_FOLDER}/${fill.tag}/`, mode: 0o755 },
    ...fill.files.map((file) => ({ name: `${COMPILE_CACHE_LAYER_FOLDER}/${fill.tag}/${file.name}`, mode: 0o644, data: file.data })),
  ];
}
