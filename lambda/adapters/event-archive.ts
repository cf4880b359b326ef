/**
 * The event archive in S3 (contract §10): the raw body the receiver verified, byte for byte, at
 * `calls/<agent_id>/<conversation_id>/<type>.json`. A re-delivery writes the same key.
 */
import type { ArchiveEntry, EventArchive } from '../core/ports';
import { abortSignalAt } from './deadline';
import { loadS3, type S3Location } from './s3';

export function createS3EventArchive({ bucket, ...location }: { bucket: string } & S3Location): EventArchive {
  return {
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
          },
        }),
        { abortSignal: abortSignalAt(deadlineMs) },
      );
    },
  };
}
