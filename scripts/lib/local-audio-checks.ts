/**
 * `npm start`'s audio worker (contract §10, §12): the audio-check folder queue drained by the audio
 * worker's own handler (lambda/create-audio-worker.ts) — the call check: the CRM record, then the
 * recording — each message handed over as the SQS record Lambda would pass, and its log line
 * printed short (or as JSON with LOG_FORMAT=json). Without ELEVENLABS_API_KEY a missing record or
 * recording is reported as CallRecordMissing / AudioMissing, as on AWS.
 */
import type { SQSEvent } from 'aws-lambda';
import type { Env } from '../../lambda/config/env-fields';
import { createAudioWorker } from '../../lambda/create-audio-worker';
import { createFolderQueueDrainer, type FolderQueueDrainer, localQueueSender } from '../../support/folder-queue';

/** How often the folder is looked at: a check is due at its visible-at time, give or take this. */
export const AUDIO_CHECK_POLL_MS = 2_000;
/** Local default for AUDIO_CHECK_DELAY_SECONDS: long enough for an audio webhook to arrive first, short enough to watch. */
export const LOCAL_AUDIO_CHECK_DELAY_SECONDS = 30;

export function createLocalAudioChecks(directory: string, env: Env, print: (line: string) => void, json: boolean): FolderQueueDrainer {
  const worker = createAudioWorker(env, {
    write: (line) => print(json ? line : describeAudioCheckLine(line)),
    queueSender: localQueueSender,
  });
  let sequence = 0;
  return createFolderQueueDrainer(directory, async (body, receiveCount) => {
    sequence += 1;
    const record = { messageId: `local-${sequence}`, body, attributes: { ApproximateReceiveCount: String(receiveCount) } };
    const { batchItemFailures } = await worker({ Records: [record] } as unknown as SQSEvent);
    return batchItemFailures.length > 0 ? 'retry' : 'done';
  });
}

/** The audio worker's JSON log line as one short line, with nothing personal in it (ids, statuses and the masked number only). */
function describeAudioCheckLine(line: string): string {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `[call check] ${line}`;
  }
  if (doc.message === 'invalid configuration') return `[call check] invalid configuration: ${String(doc.error)}`;
  if (doc.outcome === 'unreadable')
    return '[call check] a message that is not a call check (moves to dead-letter/ after repeated failures)';
  const who = doc.conversationId ? `${String(doc.conversationId)}: ` : '';
  const parts = [describeRecord(doc), describeRecording(doc)].filter((part) => part !== undefined);
  return `[call check] ${who}${parts.join('; ')}`;
}

function describeRecord(doc: Record<string, unknown>): string | undefined {
  switch (doc.record) {
    case undefined:
      return undefined;
    case 'present':
      return 'CRM record already kept';
    case 'recovered':
      return `CallRecovered: the record (${String(doc.crmStatus)}, to ${String(doc.crmTo)}) was rebuilt from the ElevenLabs API and ${doc.delivery === 'forwarded' ? 'sent to the CRM' : 'queued for the retry worker'}`;
    case 'delivered_by_webhook':
      return 'its webhook is delivering the record';
    case 'not_ended':
      return 'the call has not ended yet; checked again on the next run';
    case 'unavailable':
      return 'CallRecordUnavailable: ElevenLabs kept no data of it';
    case 'missing':
      return `CallRecordMissing: ${String(doc.recordReason)}`;
    default:
      return `record: will try again: ${String(doc.recordReason)}`;
  }
}

function describeRecording(doc: Record<string, unknown>): string | undefined {
  const mib = typeof doc.bytes === 'number' ? `${(doc.bytes / 1024 / 1024).toFixed(2)} MiB` : '';
  switch (doc.outcome) {
    case undefined:
      return undefined;
    case 'already_stored':
      return `recording already stored (${String(doc.key)})`;
    case 'recovered':
      return `recovered ${mib} from the ElevenLabs API into ${String(doc.key)}`;
    case 'unavailable':
      return 'ElevenLabs has no recording (AudioUnavailable)';
    case 'missing':
      return `AudioMissing: ${String(doc.reason)}`;
    default:
      return `recording: will try again: ${String(doc.reason)}`;
  }
}
