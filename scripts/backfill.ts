/**
 * `npm run backfill -- --since <date> [--until <date>] [--agent <id>] [--dry-run]` (contract §10)
 * Pages through the ElevenLabs conversation list and runs the audio worker's own check for
 * each conversation (lambda/core/audio-check.ts): already stored, recovered (streamed from the
 * API into S3), unavailable, missing or failed. One line per conversation, a total at the end.
 *
 * For the days before the audio worker was deployed, or after `AudioMissing` (a key was
 * missing or revoked). Settings as the audio worker reads them: AUDIO_BUCKET, the API key
 * (ELEVENLABS_API_KEY_SECRET_ARN or ELEVENLABS_API_KEY), ELEVENLABS_API_BASE_URL; AWS
 * credentials and region as usual. Exit codes: 0 every recording is stored or unavailable,
 * 1 some are missing or failed (run it again later), 2 bad usage or settings.
 */
import { createElevenLabsApi } from '../lambda/adapters/elevenlabs-api';
import { createS3RecordingStore } from '../lambda/adapters/recording-store';
import { createApiKeySource } from '../lambda/adapters/secrets';
import { type AudioWorkerConfig, loadAudioWorkerConfig } from '../lambda/config/audio-worker-config';
import { type AudioCheckOutcome, checkRecording } from '../lambda/core/audio-check';
import { ConfigurationError } from '../lambda/core/errors';
import { audioKey, isKeySafeId } from '../lambda/core/storage-keys';
import { AUDIO_WORKER_TIMEOUT_MS, DEPENDENCY_LIMITS_MS } from '../lambda/core/time-budget';
import { type BackfillRange, parseBackfillRange } from './lib/backfill-range';
import { CliError, checkKeySafeIdFlag, parseCliArgs, runCli } from './lib/cli';

const HELP = `usage: npm run backfill -- --since <date> [--until <date>] [--agent <id>] [--dry-run]

  --since <date>   first day (UTC) to check: 2026-11-01, or an ISO time such as 2026-11-01T08:00:00Z
  --until <date>   check calls that started before this (default: now)
  --agent <id>     only this agent's conversations
  --dry-run        only report which recordings are missing; fetch nothing

Settings come from the environment, as the audio worker reads them: AUDIO_BUCKET,
ELEVENLABS_API_KEY_SECRET_ARN or ELEVENLABS_API_KEY, ELEVENLABS_API_BASE_URL.`;

/** ElevenLabs' largest page (its SDKs: "Can not exceed 100"). */
const PAGE_SIZE = 100;
/** A guard against an API that never says `has_more: false`: 1,000,000 conversations. */
const MAX_PAGES = 10_000;

type Tally = Record<AudioCheckOutcome['kind'] | 'would_recover', number> & { recoveredBytes: number };

await runCli('backfill', async () => {
  const { values } = parseCliArgs({
    options: {
      since: { type: 'string' },
      until: { type: 'string' },
      agent: { type: 'string' },
      'dry-run': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const range = parseBackfillRange(values.since, values.until, Date.now());
  checkKeySafeIdFlag('--agent', values.agent);
  const config = settings();
  const apiKeySource = createApiKeySource({ ...config.apiKey, now: Date.now });
  const apiKey = await apiKeySource.current(Date.now() + DEPENDENCY_LIMITS_MS.secret).catch((error: unknown) => {
    throw new CliError(`could not read the API key secret: ${(error as Error).message}`);
  });
  if (apiKey === undefined) {
    throw new CliError('no ElevenLabs API key: set ELEVENLABS_API_KEY, or put one in the secret ELEVENLABS_API_KEY_SECRET_ARN names', 2);
  }
  const deps = {
    recordings: createS3RecordingStore({ bucket: config.audioBucket, ...config.s3 }),
    apiKey: { current: async () => apiKey },
    elevenLabs: createElevenLabsApi({ baseUrl: config.elevenLabsApiBaseUrl }),
  };
  const dryRun = values['dry-run'] ?? false;
  const tally: Tally = { already_stored: 0, recovered: 0, unavailable: 0, missing: 0, retry: 0, would_recover: 0, recoveredBytes: 0 };

  console.log(
    `${dryRun ? 'checking' : 'checking and recovering'} calls from ${iso(range.sinceMs)} to ${iso(range.untilMs)}${values.agent ? ` of agent ${values.agent}` : ''} into s3://${config.audioBucket}/audio/`,
  );
  let cursor: string | undefined;
  const seenCursors = new Set<string>();
  for (let page = 1; ; page++) {
    if (page > MAX_PAGES) throw new CliError(`stopped after ${MAX_PAGES} pages: the conversation list does not end`);
    const listed = await deps.elevenLabs
      .listConversations(pageQuery(range, values.agent, cursor), apiKey, Date.now() + DEPENDENCY_LIMITS_MS.conversationList)
      .catch((error: unknown) => {
        throw new CliError(`could not list conversations: ${(error as Error).message}`);
      });
    process.stderr.write(`page ${page}: ${listed.conversations.length} conversation(s)\n`);
    for (const conversation of listed.conversations) {
      const when = iso(conversation.startTimeUnixSeconds * 1000);
      const prefix = `${when}  ${conversation.conversationId}  ${conversation.agentId}  `;
      if (!isKeySafeId(conversation.conversationId) || !isKeySafeId(conversation.agentId)) {
        tally.missing += 1;
        console.log(`${prefix}MISSING: its ids cannot name an S3 key`);
        continue;
      }
      const message = { conversationId: conversation.conversationId, agentId: conversation.agentId, eventTimestamp: null };
      if (dryRun) {
        const key = audioKey(conversation.agentId, conversation.conversationId);
        const stored = await deps.recordings.isStored(key, Date.now() + DEPENDENCY_LIMITS_MS.recordingHead).catch(() => undefined);
        if (stored === undefined) {
          tally.retry += 1;
          console.log(`${prefix}FAILED: could not check s3://${config.audioBucket}/${key}`);
        } else if (stored) {
          tally.already_stored += 1;
          console.log(`${prefix}already stored`);
        } else {
          tally.would_recover += 1;
          console.log(`${prefix}not stored: would fetch it from ElevenLabs`);
        }
        continue;
      }
      const outcome = await checkRecording(message, deps, Date.now() + AUDIO_WORKER_TIMEOUT_MS);
      tally[outcome.kind] += 1;
      if (outcome.kind === 'recovered') tally.recoveredBytes += outcome.bytes;
      console.log(`${prefix}${describeOutcome(outcome)}`);
    }
    if (!listed.hasMore || !listed.nextCursor) break;
    if (seenCursors.has(listed.nextCursor)) throw new CliError('the conversation list returned the same cursor twice; stopped');
    seenCursors.add(listed.nextCursor);
    cursor = listed.nextCursor;
  }
  console.log(summarise(tally, dryRun));
  return tally.missing + tally.retry > 0 ? 1 : 0;
});

function settings(): AudioWorkerConfig {
  try {
    return loadAudioWorkerConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigurationError) throw new CliError(`invalid settings: ${error.detail}`, 2);
    throw error;
  }
}

/**
 * ElevenLabs' bounds are "after" and "before" (whether inclusive is not documented): one second
 * wider on each side, so a call that started exactly at --since is never missed. A call checked
 * twice is harmless: a stored recording is left alone.
 */
function pageQuery(range: BackfillRange, agentId: string | undefined, cursor: string | undefined) {
  return {
    afterUnixSeconds: Math.floor(range.sinceMs / 1000) - 1,
    beforeUnixSeconds: Math.ceil(range.untilMs / 1000) + 1,
    pageSize: PAGE_SIZE,
    ...(agentId ? { agentId } : {}),
    ...(cursor ? { cursor } : {}),
  };
}

function describeOutcome(outcome: AudioCheckOutcome): string {
  switch (outcome.kind) {
    case 'already_stored':
      return 'already stored';
    case 'recovered':
      return `recovered ${mib(outcome.bytes)}`;
    case 'unavailable':
      return 'unavailable (ElevenLabs has no recording)';
    case 'missing':
      return `MISSING: ${outcome.reason}`;
    case 'retry':
      return `FAILED: ${outcome.reason} (run again later)`;
  }
}

function summarise(t: Tally, dryRun: boolean): string {
  const checked = t.already_stored + t.recovered + t.unavailable + t.missing + t.retry + t.would_recover;
  const parts = dryRun
    ? [`${t.already_stored} already stored`, `${t.would_recover} not stored`, `${t.missing} unusable`, `${t.retry} failed`]
    : [
        `${t.already_stored} already stored`,
        `${t.recovered} recovered (${mib(t.recoveredBytes)})`,
        `${t.unavailable} unavailable`,
        `${t.missing} missing`,
        `${t.retry} failed`,
      ];
  return `checked ${checked} conversation(s): ${parts.join(', ')}`;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}
