/**
 * `npm start`'s audio worker (contract §10): the audio-check folder queue drained by the audio
 * worker's own handler (lambda/create-audio-worker.ts), each message handed over as the SQS
 * record Lambda would pass, and its log line printed short (or as JSON with LOG_FORMAT=json).
 * Without ELEVENLABS_API_KEY a missing recording is reported as AudioMissing, as on AWS.
 */
import type { SQSEvent } from 'aws-lambda';
import type { Env } from '../../lambda/config/env-fields';
import { createAudioWorker } from '../../lambda/create-audio-worker';
import { createFolderQueueDrainer, type FolderQueueDrainer } from '../../support/folder-queue';

/** How often the folder is looked at: a check is due at its visible-at time, give or take this. */
export const AUDIO_CHECK_POLL_MS = 2_000;
/** Local default for AUDIO_CHECK_DELAY_SECONDS: long enough for an audio webhook to arrive first, short enough to watch. */
export const LOCAL_AUDIO_CHECK_DELAY_SECONDS = 30;

export function createLocalAudioChecks(directory: string, env: Env, print: (line: string) => void, json: boolean): FolderQueueDrainer {
  const worker = createAudioWorker(env, { write: (line) => print(json ? line : describeAudioCheckLine(line)) });
  let sequence = 0;
  return createFolderQueueDrainer(directory, async (body, receiveCount) => {
    sequence += 1;
    const record = { messageId: `local-${sequence}`, body, attributes: { ApproximateReceiveCount: String(receiveCount) } };
    const { batchItemFailures } = await worker({ Records: [record] } as unknown as SQSEvent);
    return batchItemFailures.length > 0 ? 'retry' : 'done';
  });
}

/** The audio worker's JSON log line as one short line, with nothing personal in it (ids only). */
function describeAudioCheckLine(line: string): string {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `[audio check] ${line}`;
  }
  if (doc.message === 'invalid configuration') return `[audio check] invalid configuration: ${String(doc.error)}`;
  const who = doc.conversationId ? `${String(doc.conversationId)}: ` : '';
  const mib = typeof doc.bytes === 'number' ? `${(doc.bytes / 1024 / 1024).toFixed(2)} MiB` : '';
  switch (doc.outcome) {
    case 'already_stored':
      return `[audio check] ${who}recording already stored (${String(doc.key)})`;
    case 'recovered':
      return `[audio check] ${who}recovered ${mib} from the ElevenLabs API into ${String(doc.key)}`;
    case 'unavailable':
      return `[audio check] ${who}ElevenLabs has no recording (AudioUnavailable)`;
    case 'missing':
      return `[audio check] ${who}AudioMissing: ${String(doc.reason)}`;
    case 'retry':
      return `[audio check] ${who}will try again: ${String(doc.reason)}`;
    case 'unreadable':
      return '[audio check] a message that is not an audio check (moves to dead-letter/ after repeated failures)';
    default:
      return `[audio check] ${String(doc.message ?? 'event')}`;
  }
}
