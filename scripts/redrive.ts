/**
 * `npm run redrive -- --dlq <DlqUrl> [--queue <QueueUrl>] [--dry-run] [--max N] [--timeout S]`
 * Moves dead-lettered messages back with an SQS message-move task (scripts/lib/redrive.ts):
 * by default to the queue each came from, where its worker processes it again. The region is
 * read from the queue URL; credentials are the standard AWS ones.
 *
 * Exit codes: 0 done (or nothing to do), 1 the move failed or an AWS call failed, 2 bad usage,
 * 3 still running when --timeout ran out (SQS keeps moving).
 */
import { parseArgs } from 'node:util';
import { DEFAULT_PREVIEW, DEFAULT_TIMEOUT_MS, redrive } from './lib/redrive';

const usage = 'usage: npm run redrive -- --dlq <DlqUrl> [--queue <QueueUrl>] [--dry-run] [--max N] [--timeout SECONDS]';

function fail(message: string, code: number): never {
  console.error(message);
  process.exit(code);
}

let values: { dlq?: string; queue?: string; 'dry-run'?: boolean; max?: string; timeout?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      dlq: { type: 'string' },
      queue: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      max: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean' },
    },
  }));
} catch (error) {
  fail(`${(error as Error).message}\n${usage}`, 2);
}
if (values.help) fail(usage, 0);
if (!values.dlq) fail(`--dlq is required (the DlqUrl output of the stack)\n${usage}`, 2);
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
