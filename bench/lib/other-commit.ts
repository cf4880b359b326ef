/**
 * What bench/compare.ts and bench/compare-cold.ts share: their arguments (a revision and a count,
 * refused with one line and exit 2 before anything is checked out) and the other commit, checked
 * out in a temporary git worktree that borrows this tree's node_modules and is removed afterwards.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './child';

export interface Comparison {
  /** How many rounds or pairs to run. */
  count: number;
  other: OtherTree;
}

/**
 * `<git-rev> [count]` from `argv`, then the other commit checked out; anything else prints the
 * tool's usage (or why the revision is not a commit) and exits 2.
 */
export function openComparison(argv: string[], tool: { name: string; unit: string; count: number; max: number }): Comparison {
  const [rev, countArg = String(tool.count), ...extra] = argv;
  const count = /^\d{1,3}$/.test(countArg) ? Number(countArg) : Number.NaN;
  // A revision is a name git can resolve; refusing "-…" keeps it from being read as an option.
  if (!rev || rev.startsWith('-') || extra.length > 0 || !(count >= 1 && count <= tool.max)) {
    console.error(`usage: npx tsx ${tool.name}.ts <git-rev> [${tool.unit} 1-${tool.max}, default ${tool.count}]`);
    process.exit(2);
  }
  return { count, other: checkOutOther(rev, tool.name) };
}

const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

export interface OtherTree {
  commit: string;
  dir: string;
  remove(): void;
}

/** Checks `rev` out beside this tree; exits 2 with one line if it is not a commit here. */
function checkOutOther(rev: string, tool: string): OtherTree {
  let commit: string;
  try {
    commit = git('rev-parse', '--verify', '--end-of-options', `${rev}^{commit}`);
  } catch {
    console.error(`${tool}: ${JSON.stringify(rev.slice(0, 80))} is not a commit in this repository`);
    process.exit(2);
  }
  const dir = join(mkdtempSync(join(tmpdir(), 'bench-compare-')), 'tree');
  git('worktree', 'add', '--detach', dir, commit);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return {
    commit,
    dir,
    remove() {
      rmSync(join(dir, 'node_modules'));
      git('worktree', 'remove', '--force', dir);
    },
  };
}
