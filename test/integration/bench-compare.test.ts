/**
 * bench/compare.ts refuses what it cannot measure before it checks anything out: missing,
 * malformed, option-like or unknown revisions and bad round counts exit 2 with one line.
 * (The measuring itself is the benchmark's: tests never assert on time.)
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cliBundle, cliEnv, ROOT, runProcess } from '../helpers/local-cli';

const compare = (...args: string[]) => runProcess(process.execPath, [cliBundle('bench/compare.ts'), ...args], cliEnv({}));
const worktrees = () => execFileSync('git', ['worktree', 'list'], { cwd: ROOT, encoding: 'utf8' });

describe('bench/compare.ts', () => {
  it.each([
    ['no revision', [], /^usage: /],
    ['rounds not a number', ['HEAD', 'many'], /^usage: /],
    ['zero rounds', ['HEAD', '0'], /^usage: /],
    ['too many rounds', ['HEAD', '51'], /^usage: /],
    ['an extra argument', ['HEAD', '3', 'more'], /^usage: /],
    ['an option for git', ['--output=/tmp/x'], /^usage: /],
    ['an unknown revision', ['no-such-branch-ever'], /is not a commit in this repository/],
    ['an oversized revision', ['x'.repeat(100_000)], /is not a commit in this repository/],
  ])('%s: exit 2, one line, nothing checked out', async (_name, args, message) => {
    const before = worktrees();
    const result = await compare(...args);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.length).toBeLessThan(200);
    expect(worktrees()).toBe(before);
  });
});
