/**
 * Tests run the CLIs from the bundles test/helpers/cli-bundles.ts builds (`runScript`,
 * `cliBundle`), not through tsx: a `node --import tsx` child compiles its imports again and
 * costs ~0.9 s of CPU against ~0.2 s (issue 19). `npm start` through npm, as a user runs it, is
 * the one deliberate tsx child (local-cli.test.ts starts it with `npm run start`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers/local-cli';

function testSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testSources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

it('no test or helper starts a child process through tsx', () => {
  const self = relative(ROOT, new URL(import.meta.url).pathname);
  const offenders = testSources(join(ROOT, 'test'))
    .map((path) => relative(ROOT, path))
    .filter((file) => file !== self && /--import['",\s]+tsx\b|\btsx['"]?\s*,\s*['"]scripts\//.test(readFileSync(join(ROOT, file), 'utf8')));
  expect(offenders, 'start CLIs with runScript(...) or cliBundle(...) from test/helpers/local-cli.ts').toEqual([]);
});
