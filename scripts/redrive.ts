/**
 * `npm run redrive -- --dlq <DlqUrl> [--queue <QueueUrl>] [--dry-run] [--max N] [--timeout S]`
 * Moves dead-lettered messages back with an SQS message-move task (scripts/lib/redrive.ts):
 * by default to the queue each came from, where its worker processes it again. The region is
 * read from the queue URL; credentials are the standard AWS ones.
 *
 * `npm run redrive -- --local [--dry-run]` does the same for `npm start`'s folder queues: the
 * dead-letter folders of the retry queue and the audio checks, in the local data folder.
 *
 * Exit codes: 0 done (or nothing to do), 1 the move failed or an AWS call failed, 2 bad usage,
 * 3 still running when --timeout ran out (SQS keeps moving).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEAD_LETTER_FOLDER, redriveFolder } from '../support/folder-queue';
import { loadLocalConfig, loadLocalEnv, localPaths, shownPath } from './lib/local-config';
import { DEFAULT_PREVIEW, DEFAULT_TIMEOUT_MS, redrive } from './lib/redrive';

const usage = `usage: npm run redrive -- --dlq <DlqUrl> [--queue <QueueUrl>] [--dry-run] [--max N] [--timeout SECONDS]
       npm run redrive -- --local [--dry-run]   (npm start's dead-letter folders)`;

function fail(message: string, code: number): never {
  console.error(message);
  process.exit(code);
}

let values: { dlq?: string; queue?: string; local?: boolean; 'dry-run'?: boolean; max?: string; timeout?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      dlq: { type: 'string' },
      queue: { type: 'string' },
      local: { type: 'boolean' },
      'dry-run': { type: 'boolean', default: false },
      max: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean' },
    },
  }));
} catch (error) {
  fail(`${(error as Error).message}\n${usage}`, 2);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (values.local) {
  if (values.dlq || values.queue) fail(`--local works on the local folders; leave out --dlq and --queue\n${usage}`, 2);
  await redriveLocal(values['dry-run'] ?? false);
  process.exit(0);
}
if (!values.dlq) fail(`--dlq is required (the DlqUrl output of the stack), or --local for npm start's folders\n${usage}`, 2);
const wholeNumber = (name: string, text: string | undefined, fallback: number) => {
  if (text === undefined) return fallback;
  if (!/^\d{1,7}$/.test(text) || Number(text) < 1) fail(`--${name} must be a whole number ≥ 1\n${usage}`, 2);
  return Number(text);
};
const max = wholeNumber('max', values.max, DEFAULT_PREVIEW);
const timeoutMs = wholeNumber('timeout', values.timeout, DEFAULT_TIMEOUT_MS / 1000) * 1000;
for (const [flag, url] of [
  ['--dlq', values.dlq],
  ['--queue', values.queue],
] as const) {
  if (url !== undefined && !URL.canParse(url))
    fail(`${flag} must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)`, 2);
}

try {
  const result = await redrive({ dlqUrl: values.dlq, queueUrl: values.queue, dryRun: values['dry-run'] ?? false, max, timeoutMs });
  if (result.kind === 'failed') fail(`the move task ended without finishing: ${result.reason} (moved ${result.moved})`, 1);
  process.exit(result.kind === 'still-running' ? 3 : 0);
} catch (error) {
  const { name, message } = error as Error;
  fail(`redrive failed: ${name === 'Error' ? '' : `${name}: `}${message}`, 1);
}

/** Every dead-letter folder of the local data folder (LOCAL_DATA_DIR, `.env` applied) back into its queue. */
async function redriveLocal(dryRun: boolean): Promise<void> {
  let dataDir: string;
  try {
    dataDir = loadLocalConfig(loadLocalEnv(process.env).env).dataDir;
  } catch (error) {
    fail(`redrive: ${(error as Error).message}`, 2);
  }
  const { retryDir, audioCheckDir, smsDir } = localPaths(dataDir);
  for (const [what, directory] of [
    ['CRM payloads', retryDir],
    ['call checks', audioCheckDir],
    ['texts', smsDir],
  ] as const) {
    const { moved } = await redriveFolder(directory, { dryRun });
    const from = `${shownPath(join(directory, DEAD_LETTER_FOLDER))}/`;
    if (moved === 0) console.log(`${what}: nothing in ${from}`);
    else if (dryRun) console.log(`${what}: would move ${moved} from ${from} back to ${shownPath(directory)}/ (dry run)`);
    else console.log(`${what}: moved ${moved} from ${from} back to ${shownPath(directory)}/; npm start delivers them on its next drain`);
  }
}
