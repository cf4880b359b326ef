/**
 * The local data folder (LOCAL_DATA_DIR, `.local` by default) and the rules that keep
 * `npm run reset` from deleting anything else. Never the filesystem root, the repository or
 * the home folder (or a folder above them). `npm start` adopts only a new or empty folder, or
 * one holding nothing but what it creates itself, and marks it; reset empties only a folder
 * that is marked (or the default `.local`) and holds nothing else.
 */
import { existsSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, parse, relative, resolve, sep } from 'node:path';
import { KNOWN_ENTRIES, localPaths, ROOT } from './local-config';

export interface Protected {
  repoRoot: string;
  home: string;
}

const DEFAULT_PROTECTED: Protected = { repoRoot: ROOT, home: homedir() };

/** The path with symlinks resolved as far as it exists (a link to `/` is `/`). */
export function realPath(path: string): string {
  const absolute = resolve(path);
  if (existsSync(absolute)) return realpathSync(absolute);
  const parent = dirname(absolute);
  return parent === absolute ? absolute : resolve(realPath(parent), relative(parent, absolute));
}

/** Pure: why `dir` (already real) may never be emptied, or undefined. */
export function protectedReason(dir: string, guard: Protected = DEFAULT_PROTECTED): string | undefined {
  const contains = (outer: string, inner: string) => inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);
  const repoRoot = resolve(guard.repoRoot);
  if (parse(dir).root === dir) return 'it is the filesystem root';
  if (contains(dir, repoRoot)) return 'it is the repository or a folder that contains it';
  if (contains(dir, resolve(guard.home))) return 'it is your home folder or a folder that contains it';
  return undefined;
}

/** Pure: whether a folder with these entries holds only what `npm start` creates. */
export function isDataFolderContent(entries: string[]): boolean {
  return entries.every((name) => KNOWN_ENTRIES.includes(name));
}

export type ResetCheck = { dir: string; entries: string[] } | { dir: string; problem: string } | { dir: string; missing: true };

/** For `npm run reset`: the folder and what it holds, or why it must not be emptied. */
export function checkResettable(dataDir: string, defaultDir: string, guard: Protected = DEFAULT_PROTECTED): ResetCheck {
  const dir = realPath(dataDir);
  const reason = protectedReason(dir, guard);
  if (reason) return { dir, problem: `refusing to empty ${dir}: ${reason}` };
  const entries = listEntries(dir);
  if (entries === undefined) return { dir, missing: true };
  const marked = entries.includes(basename(localPaths(dir).marker)) || dir === realPath(defaultDir);
  if (!marked || !isDataFolderContent(entries)) {
    return { dir, problem: `refusing to empty ${dir}: it is not a data folder made by npm start (or it holds other files)` };
  }
  return { dir, entries };
}

function listEntries(dir: string): string[] | undefined {
  try {
    return readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * For `npm start`: creates or adopts the folder and marks it. Returns a one-line problem
 * instead when the folder is protected or already holds something else.
 */
export function prepareDataFolder(dataDir: string, guard: Protected = DEFAULT_PROTECTED): string | undefined {
  const dir = realPath(dataDir);
  const reason = protectedReason(dir, guard);
  if (reason) return `LOCAL_DATA_DIR is ${dir}, which cannot be the data folder: ${reason}`;
  const entries = listEntries(dir);
  if (entries && !isDataFolderContent(entries)) {
    return `LOCAL_DATA_DIR is ${dir}, which already holds other files; choose a new or empty folder`;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { marker } = localPaths(dir);
  if (!existsSync(marker)) {
    writeFileSync(marker, 'Local state of `npm start` (ElevenLabs webhook receiver). `npm run reset` empties this folder.\n');
  }
  return undefined;
}
