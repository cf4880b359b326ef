/**
 * The event archive in S3 (contract §10): the raw body the receiver verified, byte for byte, at
 * `calls/<agent_id>/<conversation_id>/<type>.json`. A re-delivery writes the same key. Read as
 * the ledger of contract §12 by the call check and the reconciler.
 */
import { RECORD_EVENT_TYPES } from '../core/events';
import type { ArchiveEntry, CallLedger, EventArchive } from '../core/ports';
import { archiveKey } from '../core/storage-keys';
import { abortSignalAt } from './deadline';
import type { Preloadable } from './lazy';
import { isNotFound, loadS3, preloadS3, type S3Location } from './s3';

export function createS3EventArchive({ bucket, ...location }: { bucket: string } & S3Location): EventArchive & Preloadable {
  return {
    preload: () => preloadS3('audio', location),
    async put(entry: ArchiveEntry, deadlineMs: number) {
      const { client, sdk } = await loadS3('audio', location);
      await client.send(
        new sdk.PutObjectCommand({
          Bucket: bucket,
          Key: entry.key,
          Body: entry.body,
          ContentType: 'application/json',
          Metadata: {
            'conversation-id': entry.conversationId,
            'agent-id': entry.agentId,
            ...(entry.eventTimestamp === undefined ? {} : { 'event-timestamp': String(entry.eventTimestamp) }),
            ...(entry.source === undefined ? {} : { source: entry.source }),
          },
        }),
        { abortSignal: abortSignalAt(deadlineMs) },
      );
    },
    async remove(key: string, deadlineMs: number) {
      const { client, sdk } = await loadS3('audio', location);
      await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: abortSignalAt(deadlineMs) });
    },
  };
}

/**
 * The ledger of contract §12 over the archive: one HeadObject per record type until one is found.
 * The type found last is asked first next time, so a deployment whose calls all arrive as one
 * type (transcriptions, or OpenTelemetry transcriptions, contract §4) pays one request per
 * present record whichever type that is; a missing record costs one per type.
 * S3 answers a missing key 404 only to a caller allowed s3:ListBucket, 403 otherwise (S3 API
 * reference, HeadObject), which is why the stack grants it to the functions that read heads.
 */
export function createS3CallLedger({ bucket, ...location }: { bucket: string } & S3Location): CallLedger {
  const order: string[] = [...RECORD_EVENT_TYPES];
  return {
    async hasRecord(agentId, conversationId, deadlineMs) {
      const { client, sdk } = await loadS3('recording', location);
      for (const type of [...order]) {
        try {
          await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: archiveKey(agentId, conversationId, type) }), {
            abortSignal: abortSignalAt(deadlineMs),
          });
          if (order[0] !== type) order.splice(0, order.length, type, ...order.filter((t) => t !== type));
          return true;
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }
      return false;
    },
  };
}
