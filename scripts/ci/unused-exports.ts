/**
 * Reports exports nothing else imports: `npm run unused` (and `npm run lint`). knip, the usual
 * tool, needs TypeScript's JavaScript compiler API, which TypeScript 7 (the native compiler)
 * no longer ships, so this is a deliberately small name-based check: an exported name that no
 * other tracked .ts file mentions is reported. A false "used" is possible (a same-named local
 * elsewhere); a false "unused" is not, short of a name built at run time. Values only
 * (functions, constants, classes): an exported type that names an exported function's
 * parameter or result is part of that function's signature even when no caller spells it.
 *
 * Exit 0 when every export is used, 1 when some are not (each printed as file:line name).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Exports read by something other than our code: the Lambda runtime reads `handler`. */
const USED_FROM_OUTSIDE = new Set([
  'lambda/receiver.ts#handler',
  'lambda/retry-worker.ts#handler',
  'lambda/audio-worker.ts#handler',
  'lambda/sms-worker.ts#handler',
]);
const EXPORT = /^export\s+(?:declare\s+)?(?:async\s+)?(?:const|let|function\*?|class|enum|abstract\s+class)\s+([A-Za-z_$][\w$]*)/gm;

const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts'], { encoding: 'utf8' })
  .split('\n')
  .filter((file) => file !== '' && !file.endsWith('.d.ts'));
const sources = new Map(files.map((file) => [file, readFileSync(file, 'utf8')]));

const unused: string[] = [];
for (const [file, text] of sources) {
  if (file.includes('.test.')) continue;
  for (const match of text.matchAll(EXPORT)) {
    const name = match[1] ?? '';
    if (USED_FROM_OUTSIDE.has(`${file}#${name}`)) continue;
    const word = new RegExp(`\\b${name.replace(/\$/g, '\\$')}\\b`);
    const usedElsewhere = [...sources].some(([other, otherText]) => other !== file && word.test(otherText));
    if (!usedElsewhere) unused.push(`${file}:${text.slice(0, match.index).split('\n').length} ${name}`);
  }
}

if (unused.length > 0) {
  process.stdout.write(`unused exports (nothing else imports them; un-export or delete):\n${unused.map((u) => `  ${u}`).join('\n')}\n`);
  process.exitCode = 1;
} else {
  process.stdout.write(`unused exports: none in ${sources.size} files\n`);
}
