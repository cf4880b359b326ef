/**
 * `npm run replay -- --conversation <id> [--agent <id>] [--dry-run] [--local]` (contract §10 "Replay")
 * Rebuilds one call's CRM payload from its archived event with today's rules and forwards it,
 * queued on failure exactly as the receiver does (lambda/core/deliver-to-crm.ts). Reads the
 * receiver's settings from the environment: AUDIO_BUCKET (the calls bucket), CRM_WEBHOOK_URL,
 * CRM_RETRY_QUEUE_URL and the CRM_* mapping settings, plus the standard AWS ones.
 *
 * `--local` replays from a running `npm start`'s archive to its CRM sink (or CRM_WEBHOOK_URL).
 *
 * Prints what it sends without personal data: status, subject, duration, the number masked,
 * and only the lengths of the name and the summary. Exit codes: 0 forwarded, queued or dry
 * run; 1 not found or not delivered; 2 bad usage or settings.
 */
import { createS3ArchiveReader } from '../lambda/adapters/archive-reader';
import { createCrmForwarder } from '../lambda/adapters/crm-client';
import { retryQueueOver } from '../lambda/adapters/queue';
import type { Env } from '../lambda/config/env-fields';
import { loadConfig } from '../lambda/config/receiver-config';
import { parseArchivedEvent } from '../lambda/core/call-check';
import { type CrmPayload, toCrmPayload } from '../lambda/core/crm-payload';
import { type Delivery, deliverToCrm } from '../lambda/core/deliver-to-crm';
import { ConfigurationError, ForwardNotDurableError } from '../lambda/core/errors';
import type { RecordEvent } from '../lambda/core/events';
import { maskPhone } from '../lambda/core/mask';
import { requestBudget } from '../lambda/core/time-budget';
import { localQueueSender } from '../support/folder-queue';
import { CliError, checkKeySafeIdFlag, parseCliArgs, runCli } from './lib/cli';
import { localTargetEnv } from './lib/local-target';

const HELP = `usage: npm run replay -- --conversation <id> [--agent <id>] [--dry-run] [--local]

  --conversation <id>   the conversation to replay (its archived event is looked up in AUDIO_BUCKET)
  --agent <id>          its agent, if known (otherwise every agent folder of the archive is searched)
  --dry-run             show the payload that would be sent (masked) and send nothing
  --local               replay from a running npm start's archive, to its CRM sink and retry folder

Settings come from the environment, as the receiver reads them: AUDIO_BUCKET, CRM_WEBHOOK_URL,
CRM_RETRY_QUEUE_URL, CRM_DEFAULT_SUBJECT, CRM_SUBJECTS_BY_AGENT, CRM_NAME_FIELDS, CRM_NUMBER_FIELDS,
CRM_VOICEMAIL_PHRASES, CRM_DEFAULT_COUNTRY.

Exit codes: 0 forwarded, queued or dry run; 1 not found or not delivered; 2 bad usage or settings.`;

await runCli('replay', async () => {
  const { values } = parseCliArgs({
    options: {
      conversation: { type: 'string' },
      agent: { type: 'string' },
      'dry-run': { type: 'boolean' },
      local: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (!values.conversation) throw new CliError('--conversation is required (see --help)', 2);
  checkKeySafeIdFlag('--conversation', values.conversation);
  checkKeySafeIdFlag('--agent', values.agent);
  const dryRun = values['dry-run'] ?? false;
  const config = settings(values.local ? await localTargetEnv() : process.env, dryRun);
  if (!config.audioBucket) throw new CliError('AUDIO_BUCKET is not set (the calls bucket that holds the archive)', 2);

  const budget = requestBudget(Date.now(), undefined);
  const reader = createS3ArchiveReader({ bucket: config.audioBucket, ...config.s3 });
  const archived = await reader.find(values.conversation, values.agent, budget.deadlineMs).catch((error: unknown) => {
    throw new CliError(`could not read the archive: ${(error as Error).name}: ${(error as Error).message}`);
  });
  if (!archived) throw new CliError(`no archived event for conversation ${values.conversation} in s3://${config.audioBucket}/calls/`);
  console.log(`found s3://${config.audioBucket}/${archived.key}`);

  const event = parseArchived(archived.body);
  const payload = toCrmPayload(event, config.pipeline.crmMapping);
  console.log(`payload: ${describePayload(payload)}`);
  if (dryRun) {
    console.log('dry run: nothing sent');
    return 0;
  }

  const deps = {
    crm: createCrmForwarder(config.crm),
    retryQueue: config.retryQueueUrl ? retryQueueOver(localQueueSender(config.retryQueueUrl)) : undefined,
    now: Date.now,
  };
  let delivery: Delivery;
  try {
    delivery = await deliverToCrm(payload, { eventType: event.type, conversationId: event.data.conversation_id }, deps, budget.deadlineMs);
  } catch (error) {
    if (error instanceof ForwardNotDurableError) throw new CliError(`not delivered: ${error.detail}`);
    throw error;
  }
  console.log(
    delivery.kind === 'forwarded'
      ? `forwarded to the CRM (${delivery.attempts} attempt${delivery.attempts === 1 ? '' : 's'})`
      : `the CRM failed (${delivery.lastError}): queued for the retry worker`,
  );
  return 0;
});

/** The receiver's configuration; a dry run needs no CRM, so a placeholder stands in for it. */
function settings(env: Env, dryRun: boolean) {
  try {
    return loadConfig(dryRun && !env.CRM_WEBHOOK_URL ? { ...env, CRM_WEBHOOK_URL: 'http://127.0.0.1:9/dry-run' } : env);
  } catch (error) {
    if (error instanceof ConfigurationError) throw new CliError(`invalid settings: ${error.detail}`, 2);
    throw error;
  }
}

function parseArchived(body: string): RecordEvent {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new CliError('the archived event is not JSON');
  }
  // A webhook's envelope, or a record the call check recovered (the API's model, contract §12).
  const event = parseArchivedEvent(json);
  if (event.kind !== 'transcription' && event.kind !== 'failure') {
    throw new CliError(`the archived event has type ${JSON.stringify(event.type)}, which has no CRM payload`);
  }
  return event;
}

/** The payload without personal data (contract §7): the number masked, name and summary by length. */
function describePayload(payload: CrmPayload): string {
  return [
    `status=${payload.status}`,
    `subject=${JSON.stringify(payload.subject)}`,
    `duration=${payload.duration}`,
    `to=${maskPhone(payload.to)}`,
    `name=(${payload.name.length} chars)`,
    `summary=(${payload.summary.length} chars)`,
  ].join('  ');
}
