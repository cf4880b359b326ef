/**
 * The receiver's part of "every call kept" (contract §10), run alongside the CRM forward:
 * - the archive: the verified raw body of a transcription or initiation-failure event, as
 *   received, at `calls/<agent_id>/<conversation_id>/<type>.json`;
 * - the audio check: for a transcription whose `has_audio` is not `false`, one delayed message
 *   that makes the audio worker look for the recording later (an audio webhook over Lambda's
 *   6 MB limit never arrives, and ElevenLabs never resends it).
 * Neither ever changes the answer: a failure is logged and counted (`ArchiveFailed`,
 * `AudioCheckNotScheduled`), never thrown.
 */
import { describeError } from './errors';
import type { RecordEvent } from './events';
import type { AudioCheckQueue, EventArchive } from './ports';
import type { RequestFacts } from './request-facts';
import { archiveKey, isKeySafeId } from './storage-keys';
import { callDeadline } from './time-budget';
import type { RawBody } from './verify-signature';

export interface KeepCallDeps {
  archive?: EventArchive;
  audioChecks?: AudioCheckQueue;
  audioCheckDelaySeconds: number;
  now: () => number;
}

/** contract §10 AUDIO_CHECK_DELAY_SECONDS: long enough for ElevenLabs' own audio webhook to arrive first. */
export const DEFAULT_AUDIO_CHECK_DELAY_SECONDS = 600;
/** SQS DelaySeconds is at most 900 (15 minutes). */
export const MAX_AUDIO_CHECK_DELAY_SECONDS = 900;

const NOT_KEY_SAFE = 'agent or conversation id is not 1-128 of A-Z a-z 0-9 _ . -';

/**
 * contract §12: the archive is the ledger the call check and the reconciler read, so an event
 * whose forward was not durable (answered 500) must not stay in it, or it would count as
 * delivered and never be recovered (ElevenLabs resends no failure event, and transcriptions
 * only with its retries on). Run after keepCall settled; never throws.
 */
export async function withdrawArchive(
  event: RecordEvent,
  archive: EventArchive,
  facts: RequestFacts,
  now: () => number,
  deadlineMs: number,
): Promise<void> {
  const { conversation_id: conversationId, agent_id: agentId } = event.data;
  if (facts.archive !== 'archived' || typeof agentId !== 'string') return;
  await archive.remove(archiveKey(agentId, conversationId, event.type), callDeadline('archivePut', now(), deadlineMs)).then(
    () => {
      facts.archive = 'withdrawn';
    },
    (error: unknown) => {
      facts.archive = 'withdraw_failed';
      facts.archiveError = describeError(error);
    },
  );
}

/** Archives the event and schedules its audio check, concurrently; records what happened in `facts`. */
export async function keepCall(
  event: RecordEvent,
  rawBody: RawBody,
  deps: KeepCallDeps,
  facts: RequestFacts,
  deadlineMs: number,
): Promise<void> {
  const { conversation_id: conversationId, agent_id: agentId } = event.data;
  const keySafe = isKeySafeId(conversationId) && isKeySafeId(agentId);
  const work: Promise<void>[] = [];

  if (deps.archive) {
    if (!keySafe) {
      facts.archive = 'skipped';
      facts.archiveError = NOT_KEY_SAFE;
    } else {
      const { archive } = deps;
      work.push(
        archive
          .put(
            {
              key: archiveKey(agentId, conversationId, event.type),
              body: rawBody,
              conversationId,
              agentId,
              eventTimestamp: event.eventTimestamp,
            },
            callDeadline('archivePut', deps.now(), deadlineMs),
          )
          .then(
            () => {
              facts.archive = 'archived';
            },
            (error: unknown) => {
              facts.archive = 'failed';
              facts.archiveError = describeError(error);
            },
          ),
      );
    }
  }

  // `has_audio` says whether ElevenLabs kept audio; absent (older payloads) means "maybe".
  if (deps.audioChecks && event.kind === 'transcription' && event.data.has_audio !== false) {
    if (!keySafe) {
      facts.audioCheck = 'skipped';
      facts.audioCheckError = NOT_KEY_SAFE;
    } else {
      const { audioChecks } = deps;
      work.push(
        audioChecks
          .schedule(
            { conversationId, agentId, eventTimestamp: event.eventTimestamp ?? null },
            deps.audioCheckDelaySeconds,
            callDeadline('queueSend', deps.now(), deadlineMs),
          )
          .then(
            () => {
              facts.audioCheck = 'scheduled';
            },
            (error: unknown) => {
              facts.audioCheck = 'not_scheduled';
              facts.audioCheckError = describeError(error);
            },
          ),
      );
    }
  }
  await Promise.all(work);
}
