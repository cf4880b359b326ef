/**
 * Reads the event archive back (contract §10 "Replay"): finds a conversation's archived event in
 * `calls/<agent_id>/<conversation_id>/<type>.json`. With the agent id, that key is read
 * directly. Without it, `calls/` is listed (1,000 keys a request, in key order) until a key of
 * that conversation turns up: at tens of calls a day that is one request per month or so of
 * archive, and it works on every S3-compatible server (s3rver ignores `Delimiter`).
 */
import { RECORD_EVENT_TYPES } from '../core/events';
import { ARCHIVE_PREFIX, archiveKey } from '../core/storage-keys';
import { abortSignalAt } from './deadline';
import { isNotFound, loadS3, type S3Location } from './s3';

export interface ArchivedEvent {
  key: string;
  body: string;
}

export interface ArchiveReader {
  find(conversationId: string, agentId: string | undefined, deadlineMs: number): Promise<ArchivedEvent | undefined>;
}

export function createS3ArchiveReader({ bucket, ...location }: { bucket: string } & S3Location): ArchiveReader {
  const read = async (key: string, deadlineMs: number): Promise<string | undefined> => {
    const { client, sdk } = await loadS3('audio', location);
    try {
      const object = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: abortSignalAt(deadlineMs) });
      // GetObject always has a body; an empty one reads as an empty (unparseable) archive.
      return (await object.Body?.transformToString('utf8')) ?? '';
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };
  /** The archived key of `conversationId` under any agent, preferring a transcription. */
  const search = async (conversationId: string, deadlineMs: number): Promise<string | undefined> => {
    const { client, sdk } = await loadS3('audio', location);
    const found: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: ARCHIVE_PREFIX, ContinuationToken: token }), {
        abortSignal: abortSignalAt(deadlineMs),
      });
      for (const object of page.Contents ?? []) {
        const key = object.Key ?? '';
        const [, agent, conversation, file] = key.split('/');
        if (conversation === conversationId && agent && file) found.push(key);
      }
      token = page.IsTruncated && found.length === 0 ? page.NextContinuationToken : undefined;
    } while (token);
    return RECORD_EVENT_TYPES.map((type) => found.find((key) => key.endsWith(`/${type}.json`))).find((key) => key !== undefined);
  };
  return {
    async find(conversationId, agentId, deadlineMs) {
      const keys =
        agentId === undefined
          ? [await search(conversationId, deadlineMs)]
          : RECORD_EVENT_TYPES.map((type) => archiveKey(agentId, conversationId, type));
      for (const key of keys) {
        if (key === undefined) continue;
        const body = await read(key, deadlineMs);
        if (body !== undefined) return { key, body };
      }
      return undefined;
    },
  };
}
