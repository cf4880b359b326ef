/**
 * `npm run backfill -- --since <date> [--until <date>] [--agent <id>] [--dry-run] [--local]`
 * (contract §10, §12). Pages through the ElevenLabs conversation list and runs the audio worker's
 * own call check for each conversation (lambda/core/call-check.ts): its CRM record (recovered
 * from the API when the archive has none, with ARCHIVE_EVENTS=true), then its recording
 * (streamed from the API into S3 when missing). One line per conversation, a total at the end.
 *
 * For the days before the reconciler's first run (it never reaches back before it), for windows
 * longer than its lookback, and after `AudioMissing` / `CallRecordMissing` (a key was missing
 * or revoked). Settings as the audio worker reads them (AUDIO_BUCKET, the API key, ARCHIVE_EVENTS
 * and the CRM settings for records); `--local` runs against a running `npm start` instead.
 *
 * Text from the API (ids, errors) is printed escaped (scripts/lib/printable.ts). Exit codes: 0
 * every conversation has its record and recording (or ElevenLabs has none), 1 some could not be
 * checked or recovered, or the listing ended early (run it again later), 2 bad usage or settings.
 */
import { type AudioWorkerConfig, loadAudioWorkerConfig } from '../lambda/config/audio-worker-config';
import type { AudioCheckOutcome } from '../lambda/core/audio-check';
import { type CallCheckOutcome, checkCall, type RecordOutcome } from '../lambda/core/call-check';
import { IncompleteListingError, listConversations } from '../lambda/core/conversation-list';
import { ConfigurationError } from '../lambda/core/errors';
import { audioKey, isKeySafeId } from '../lambda/core/storage-keys';
import { AUDIO_WORKER_TIMEOUT_MS, DEPENDENCY_LIMITS_MS, requestBudget } from '../lambda/core/time-budget';
import { callCheckDeps } from '../lambda/create-audio-worker';
import { localQueueSender } from '../support/folder-queue';
import { parseBackfillRange } from './lib/backfill-range';
import { CliError, checkKeySafeIdFlag, parseCliArgs, runCli } from './lib/cli';
import { localTargetEnv } from './lib/local-target';
import { printable } from './lib/printable';

const HELP = `usage: npm run backfill -- --since <date> [--until <date>] [--agent <id>] [--dry-run] [--local]

  --since <date>   first day (UTC) to check: 2026-11-01, or an ISO time such as 2026-11-01T08:00:00Z
  --until <date>   check calls that started before this (default: now)
  --agent <id>     only this agent's conversations
  --dry-run        only report what is missing; recover nothing
  --local          work against a running npm start (its bucket, CRM sink and queues)

For each conversation: its CRM record (recovered from the ElevenLabs API when the archive has
none; needs ARCHIVE_EVENTS=true and the CRM settings), then its recording (streamed into S3).
Settings come from the environment, as the audio worker reads them: AUDIO_BUCKET,
ELEVENLABS_API_KEY_SECRET_ARN or ELEVENLABS_API_KEY, ELEVENLABS_API_BASE_URL, ARCHIVE_EVENTS,
CRM_WEBHOOK_URL, CRM_RETRY_QUEUE_URL, IDEMPOTENCY_TABLE and the CRM_* mapping settings.

Exit codes: 0 all kept, 1 some could not be checked or recovered, or the listing ended early
(run it again later), 2 bad usage or settings.`;

interface Tally {
  checked: number;
  /** Conversations whose record or recording could not be checked or recovered. */
  failed: number;
  records: Record<string, number>;
  recordings: Record<string, number>;
  recoveredBytes: number;
  /** Other agents' conversations (ALLOWED_AGENT_IDS): left alone, as the receiver skips their events. */
  skipped: number;
}

await runCli('backfill', async () => {
  const { values } = parseCliArgs({
    options: {
      since: { type: 'string' },
      until: { type: 'string' },
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
  const range = parseBackfillRange(values.since, values.until, Date.now());
  checkKeySafeIdFlag('--agent', values.agent);
  const env = values.local ? await localTargetEnv() : process.env;
  const config = settings(env);
  const deps = callCheckDeps(config, values.local ? { queueSender: localQueueSender } : {});
  const apiKey = await deps.apiKey.current(Date.now() + DEPENDENCY_LIMITS_MS.secret).catch((error: unknown) => {
    throw new CliError(`could not read the API key secret: ${(error as Error).message}`);
  });
  if (apiKey === undefined) {
    throw new CliError('no ElevenLabs API key: set ELEVENLABS_API_KEY, or put one in the secret ELEVENLABS_API_KEY_SECRET_ARN names', 2);
  }
  const dryRun = values['dry-run'] ?? false;
  const tally: Tally = { checked: 0, failed: 0, records: {}, recordings: {}, recoveredBytes: 0, skipped: 0 };
  const what = deps.record ? 'records and recordings' : 'recordings (ARCHIVE_EVENTS is not true: records are not checked)';
  console.log(
    `${dryRun ? 'checking' : 'checking and recovering'} ${what} of calls from ${iso(range.sinceMs)} to ${iso(range.untilMs)}${values.agent ? ` of agent ${values.agent}` : ''} in s3://${config.audioBucket}/`,
  );

  let incomplete: string | undefined;
  try {
    // ElevenLabs' bounds are "after" and "before" (inclusive or not is not documented): one second
    // wider on each side, so a call that started exactly at --since is never missed. A call
    // checked twice is harmless: what is stored is left alone.
    const window = {
      afterUnixSeconds: Math.floor(range.sinceMs / 1000) - 1,
      beforeUnixSeconds: Math.ceil(range.untilMs / 1000) + 1,
      ...(values.agent ? { agentId: values.agent } : {}),
    };
    let page = 0;
    for await (const conversations of listConversations(deps.elevenLabs, window, apiKey, Date.now, Number.POSITIVE_INFINITY)) {
      page += 1;
      process.stderr.write(`page ${page}: ${conversations.length} conversation(s)\n`);
      for (const conversation of conversations) console.log(await checkOne(conversation, deps, config, dryRun, tally));
    }
  } catch (error) {
    if (!(error instanceof IncompleteListingError)) throw error;
    incomplete = error.reason;
  }
  console.log(summarise(tally, dryRun));
  if (incomplete !== undefined) console.log(`INCOMPLETE: the listing ended early: ${printable(incomplete)}; run the backfill again`);
  return tally.failed > 0 || incomplete !== undefined ? 1 : 0;
});

function settings(env: NodeJS.ProcessEnv): AudioWorkerConfig {
  try {
    return loadAudioWorkerConfig(env);
  } catch (error) {
    if (error instanceof ConfigurationError) throw new CliError(`invalid settings: ${error.detail}`, 2);
    throw error;
  }
}

type Listed = { conversationId: string; agentId: string; startTimeUnixSeconds: number };

/** One conversation's line: its start, its ids (escaped) and what the check found. */
async function checkOne(
  conversation: Listed,
  deps: ReturnType<typeof callCheckDeps>,
  config: AudioWorkerConfig,
  dryRun: boolean,
  tally: Tally,
): Promise<string> {
  const { conversationId, agentId, startTimeUnixSeconds } = conversation;
  const when = Number.isFinite(startTimeUnixSeconds) ? iso(startTimeUnixSeconds * 1000) : 'unknown start';
  const prefix = `${when}  ${printable(conversationId, 128)}  ${printable(agentId, 128)}  `;
  tally.checked += 1;
  if (!isKeySafeId(conversationId) || !isKeySafeId(agentId)) {
    tally.failed += 1;
    return `${prefix}FAILED: its ids cannot name an S3 key`;
  }
  const message = { conversationId, agentId, eventTimestamp: null };
  if (config.allowedAgentIds && !config.allowedAgentIds.has(agentId)) {
    tally.skipped += 1;
    return `${prefix}skipped: agent not in ALLOWED_AGENT_IDS`;
  }
  if (dryRun) return prefix + (await describeDryRun(message, deps, config, tally));
  const outcome = await checkCall(message, deps, requestBudget(Date.now(), undefined, AUDIO_WORKER_TIMEOUT_MS));
  count(outcome, tally);
  return prefix + describe(outcome);
}

async function describeDryRun(
  message: { conversationId: string; agentId: string },
  deps: ReturnType<typeof callCheckDeps>,
  config: AudioWorkerConfig,
  tally: Tally,
): Promise<string> {
  const bound = () => Date.now() + DEPENDENCY_LIMITS_MS.recordingHead;
  const parts: string[] = [];
  if (deps.record) {
    const present = await deps.record.ledger.hasRecord(message.agentId, message.conversationId, bound()).catch(() => undefined);
    parts.push(
      present === undefined ? 'record: FAILED to check the archive' : present ? 'record: present' : 'record: missing (would recover)',
    );
    if (present === undefined) tally.failed += 1;
  }
  const key = audioKey(message.agentId, message.conversationId);
  const stored = await deps.recordings.isStored(key, bound()).catch(() => undefined);
  parts.push(
    stored === undefined
      ? `recording: FAILED to check s3://${config.audioBucket}/${key}`
      : stored
        ? 'recording: stored'
        : 'recording: not stored (would fetch)',
  );
  if (stored === undefined) tally.failed += 1;
  return parts.join(', ');
}

function count({ record, recording }: CallCheckOutcome, tally: Tally): void {
  if (record) tally.records[record.kind] = (tally.records[record.kind] ?? 0) + 1;
  if (recording) tally.recordings[recording.kind] = (tally.recordings[recording.kind] ?? 0) + 1;
  if (recording?.kind === 'recovered') tally.recoveredBytes += recording.bytes;
  const failed = (kind: string | undefined) => kind === 'missing' || kind === 'retry';
  if (failed(record?.kind) || failed(recording?.kind)) tally.failed += 1;
}

function describe({ record, recording }: CallCheckOutcome): string {
  const parts: string[] = [];
  if (record) parts.push(`record: ${describeRecord(record)}`);
  if (recording) parts.push(`recording: ${describeRecording(recording)}`);
  return parts.join(', ');
}

function describeRecord(outcome: RecordOutcome): string {
  switch (outcome.kind) {
    case 'present':
      return 'present';
    case 'recovered':
      return `RECOVERED (${outcome.crmStatus}; ${outcome.delivery === 'forwarded' ? 'sent to the CRM' : 'queued for the retry worker'}${outcome.archive === 'failed' ? '; archive write failed' : ''})`;
    case 'delivered_by_webhook':
      return 'being delivered by its webhook';
    case 'not_ended':
      return `not ended yet (${printable(outcome.status)})`;
    case 'unavailable':
      return 'unavailable (ElevenLabs kept no data)';
    case 'missing':
      return `MISSING: ${printable(outcome.reason)}`;
    case 'retry':
      return `FAILED: ${printable(outcome.reason)} (run again later)`;
  }
}

function describeRecording(outcome: AudioCheckOutcome): string {
  switch (outcome.kind) {
    case 'already_stored':
      return 'stored';
    case 'recovered':
      return `recovered ${mib(outcome.bytes)}`;
    case 'unavailable':
      return 'unavailable (ElevenLabs has no recording)';
    case 'missing':
      return `MISSING: ${printable(outcome.reason)}`;
    case 'retry':
      return `FAILED: ${printable(outcome.reason)} (run again later)`;
  }
}

function summarise(t: Tally, dryRun: boolean): string {
  const list = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([kind, n]) => `${n} ${kind.replaceAll('_', ' ')}`)
      .join(', ') || 'none';
  const skipped = t.skipped > 0 ? `; ${t.skipped} of other agents skipped` : '';
  if (dryRun) return `checked ${t.checked} conversation(s) (dry run, nothing recovered); ${t.failed} could not be checked${skipped}`;
  return `checked ${t.checked} conversation(s): records: ${list(t.records)}; recordings: ${list(t.recordings)} (${mib(t.recoveredBytes)} recovered); ${t.failed} failed or missing${skipped}`;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}
