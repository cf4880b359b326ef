/**
 * `npm run redrive -- --dlq <DlqUrl> [--queue <QueueUrl>] [--dry-run] [--max N] [--timeout S]`
 * Moves dead-lettered messages back with an SQS message-move task (scripts/lib/redrive.ts):
 * by default to the queue each came from, where its worker processes it again. The region is
 * read from the queue URL; credentials are the standard AWS ones.
 *
 * `npm run redrive -- --local [--dry-run]` does the same for `npm start`'s folder queues: the
 * dead-letter folders of the retry queue, the call checks and the texts, in the local data folder.
 *
 * Exit codes: 0 done (or nothing to do), 1 the move failed or an AWS call failed, 2 bad usage,
 * 3 still running when --timeout ran out (SQS keeps moving).
 */
import { join } from 'node:path';
import { DEAD_LETTER_FOLDER, redriveFolder } from '../support/folder-queue';
import { CliError, parseCliArgs, runCli } from './lib/cli';
import { loadLocalConfig, loadLocalEnv, localPaths, shownPath } from './lib/local-config';
import { DEFAULT_PREVIEW, DEFAULT_TIMEOUT_MS, redrive } from './lib/redrive';
import { isServerAlive, readServerRecord } from './lib/server-record';

const HELP = `usage: npm run redrive -- --dlq <DlqUrl> [--queue <QueueUrl>] [--dry-run] [--max N] [--timeout SECONDS]
       npm run redrive -- --local [--dry-run]   (npm start's dead-letter folders)

  --dlq <url>       the dead-letter queue (the stack's DlqUrl, AudioCheckDlqUrl or SmsDlqUrl output)
  --queue <url>     move the messages there instead of back to the queue each came from
  --dry-run         list what would move (numbers masked); move nothing
  --max N           how many messages the dry run lists (default ${DEFAULT_PREVIEW})
  --timeout S       stop watching after S seconds (default ${DEFAULT_TIMEOUT_MS / 1000}); SQS keeps moving
  --local           npm start's folders instead of SQS

Exit codes: 0 done (or nothing to do), 1 the move failed or an AWS call failed, 2 bad usage,
3 still running when --timeout ran out (SQS keeps moving).`;

await runCli('redrive', async () => {
  const { values } = parseCliArgs({
    options: {
      dlq: { type: 'string' },
      queue: { type: 'string' },
      local: { type: 'boolean' },
      'dry-run': { type: 'boolean', default: false },
      max: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const dryRun = values['dry-run'] ?? false;
  if (values.local) {
    if (values.dlq || values.queue) throw new CliError('--local works on the local folders; leave out --dlq and --queue (see --help)', 2);
    await redriveLocal(dryRun);
    return 0;
  }
  if (!values.dlq)
    throw new CliError("--dlq is required (the DlqUrl output of the stack), or --local for npm start's folders (see --help)", 2);
  const max = wholeNumber('max', values.max, DEFAULT_PREVIEW);
  const timeoutMs = wholeNumber('timeout', values.timeout, DEFAULT_TIMEOUT_MS / 1000) * 1000;
  for (const [flag, url] of [
    ['--dlq', values.dlq],
    ['--queue', values.queue],
  ] as const) {
    if (url !== undefined && !URL.canParse(url))
      throw new CliError(`${flag} must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)`, 2);
  }
  let result: Awaited<ReturnType<typeof redrive>>;
  try {
    result = await redrive({ dlqUrl: values.dlq, queueUrl: values.queue, dryRun, max, timeoutMs });
  } catch (error) {
    const { name, message } = error as Error;
    throw new CliError(`failed: ${name === 'Error' ? '' : `${name}: `}${message}`);
  }
  if (result.kind === 'failed') throw new CliError(`the move task ended without finishing: ${result.reason} (moved ${result.moved})`);
  return result.kind === 'still-running' ? 3 : 0;
});

function wholeNumber(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,7}$/.test(text) || Number(text) < 1) throw new CliError(`--${name} must be a whole number ≥ 1 (see --help)`, 2);
  return Number(text);
}

/** Every dead-letter folder of the local data folder (LOCAL_DATA_DIR, `.env` applied) back into its queue. */
async function redriveLocal(dryRun: boolean): Promise<void> {
  let dataDir: string;
  try {
    dataDir = loadLocalConfig(loadLocalEnv(process.env).env).dataDir;
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
  const paths = localPaths(dataDir);
  const record = readServerRecord(paths.serverFile);
  const running = record !== undefined && (await isServerAlive(record));
  const next = running ? 'npm start delivers them on its next drain' : 'start npm start to deliver them';
  for (const [what, directory] of [
    ['CRM payloads', paths.retryDir],
    ['call checks', paths.audioCheckDir],
    ['texts', paths.smsDir],
  ] as const) {
    const { moved } = await redriveFolder(directory, { dryRun });
    const from = `${shownPath(join(directory, DEAD_LETTER_FOLDER))}/`;
    if (moved === 0) console.log(`${what}: nothing in ${from}`);
    else if (dryRun) console.log(`${what}: would move ${moved} from ${from} back to ${shownPath(directory)}/ (dry run)`);
    else console.log(`${what}: moved ${moved} from ${from} back to ${shownPath(directory)}/; ${next}`);
  }
}
