/**
 * `npm run reset -- [--yes] [--force]`
 * Empties the local data folder (LOCAL_DATA_DIR, `.local` by default): stored audio and
 * archived events, queued and dead-lettered CRM payloads and audio checks, deduplication records
 * and the generated webhook secret.
 * Asks first on a terminal (or takes --yes); refuses while `npm start` runs against the folder
 * (or takes --force); never touches anything outside it (scripts/lib/data-folder.ts).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { CliError, parseCliArgs, runCli } from './lib/cli';
import { checkResettable } from './lib/data-folder';
import { DEFAULT_DATA_DIR, loadLocalConfig, loadLocalEnv, localPaths, shownPath } from './lib/local-config';
import { isServerAlive, readServerRecord } from './lib/server-record';

const HELP = `usage: npm run reset -- [--yes] [--force]

Empties the local data folder (LOCAL_DATA_DIR, default .local): stored audio and archived
events, queued and dead-lettered CRM payloads and audio checks, deduplication records and the
generated webhook secret.
  --yes     do not ask (needed when not on a terminal)
  --force   empty it even while npm start is running against it

Exit codes: 0 emptied (or nothing to empty, or you said no), 1 it could not, 2 bad usage.`;

await runCli('reset', async () => {
  const { values } = parseCliArgs({
    options: { yes: { type: 'boolean' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const config = loadLocalConfig(loadLocalEnv(process.env).env);
  const check = checkResettable(config.dataDir, DEFAULT_DATA_DIR);
  const shown = shownPath(check.dir);
  if ('problem' in check) throw new CliError(check.problem);
  if ('missing' in check) {
    process.stdout.write(`Nothing to reset: ${shown} does not exist.\n`);
    return 0;
  }

  const server = readServerRecord(localPaths(check.dir).serverFile);
  if (server && !values.force && (await isServerAlive(server))) {
    throw new CliError(`npm start is running against ${shown} (pid ${server.pid}, ${server.url}); stop it first, or pass --force`);
  }
  const entries = check.entries.filter((name) => name !== '.elevenlabs-local-data');
  if (entries.length === 0) {
    process.stdout.write(`${shown} is already empty.\n`);
    return 0;
  }

  if (!values.yes) {
    if (!process.stdin.isTTY) throw new CliError('refusing to delete without confirmation: run it on a terminal, or pass --yes', 2);
    const prompt = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await prompt.question(
      `Empty ${shown}? This deletes stored audio and archived events, queued and dead-lettered CRM payloads and audio checks, deduplication records and the generated webhook secret. [y/N] `,
    );
    prompt.close();
    if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('cancelled; nothing deleted');
  }
  // Entry by entry inside the folder: rm removes a symlink itself, never what it points to.
  for (const name of entries) await rm(join(check.dir, name), { recursive: true, force: true });
  process.stdout.write(`Emptied ${shown} (removed ${entries.sort().join(', ')}).\n`);
  return 0;
});
