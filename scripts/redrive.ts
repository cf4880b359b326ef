/**
 * `npm run redrive -- --dlq <DlqUrl> --queue <RetryQueueUrl> [--dry-run] [--max N]`
 * Re-drives dead-lettered CRM payloads into the retry queue, where the retry worker forwards
 * them again. Uses the standard AWS credentials and region.
 */
import { parseArgs } from 'node:util';
import { redrive } from './lib/redrive';

const usage = 'usage: npm run redrive -- --dlq <DlqUrl> --queue <RetryQueueUrl> [--dry-run] [--max N]';
const { values } = parseArgs({
  options: {
    dlq: { type: 'string' },
    queue: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    max: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help || !values.dlq || !values.queue) {
  console.error(usage);
  process.exit(values.help ? 0 : 2);
}
const max = values.max === undefined ? undefined : Number(values.max);
if (max !== undefined && !(Number.isInteger(max) && max > 0)) {
  console.error(`--max must be a positive whole number\n${usage}`);
  process.exit(2);
}
await redrive({ dlqUrl: values.dlq, queueUrl: values.queue, dryRun: values['dry-run'] ?? false, max });
