/**
 * bench/compare.ts and bench/compare-cold.ts refuse what they cannot measure before they check anything out: missing,
 * malformed, option-like or unknown revisions and bad round counts exit 2 with one line; bench/compile-cache.ts
 * refuses a bad pair count the same way, before it builds or starts anything.
 * (The measuring itself is the benchmark's: tests never assert on time.)
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cliBundle, cliEnv, ROOT, runProcess } from '../helpers/local-cli';

const run = (tool: string, args: string[]) => runProcess(process.execPath, [cliBundle(tool), ...args], cliEnv({}));
const worktrees = () => execFileSync('git', ['worktree', 'list'], { cwd: ROOT, encoding: 'utf8' });

describe.each([
  ['bench/compare.ts', '51'],
  ['bench/compare-cold.ts', '101'],
])('%s', (tool, tooMany) => {
  it.each([
    ['no revision', [], /^usage: /],
    ['a count not a number', ['HEAD', 'many'], /^usage: /],
    ['a count of zero', ['HEAD', '0'], /^usage: /],
    ['too many', ['HEAD', tooMany], /^usage: /],
    ['an extra argument', ['HEAD', '3', 'more'], /^usage: /],
    ['an option for git', ['--output=/tmp/x'], /^usage: /],
    ['an unknown revision', ['no-such-branch-ever'], /is not a commit in this repository/],
    ['an oversized revision', ['x'.repeat(100_000)], /is not a commit in this repository/],
  ])('%s: exit 2, one line, nothing checked out', async (_name, args, message) => {
    const before = worktrees();
    const result = await run(tool, args);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.length).toBeLessThan(200);
    expect(worktrees()).toBe(before);
  });
});

describe('bench/compile-cache.ts', () => {
  it.each([
    ['a count not a number', ['many']],
    ['a count of zero', ['0']],
    ['too many', ['101']],
    ['an oversized count', ['9'.repeat(100_000)]],
    ['an option', ['--pairs=3']],
    ['an extra argument', ['3', 'more']],
  ])('%s: exit 2, one line', async (_name, args) => {
    const result = await run('bench/compile-cache.ts', args);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^usage: npx tsx bench\/compile-cache\.ts /);
    expect(result.stdout).toBe('');
  });
});
