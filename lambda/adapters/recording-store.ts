/**
 * Recordings in the calls bucket for the audio worker and the backfill (contract §10).
 *
 * `store` streams a recording of any length into S3 with a multipart upload
 * (`@aws-sdk/lib-storage`), computing its SHA-256 on the way, so memory is bounded by the
 * part being filled and the part in flight, not by the recording. Object metadata is
 * fixed when a multipart upload starts, before the hash exists, so it is recorded afterwards
 * with a server-side CopyObject of the object onto itself (`MetadataDirective: REPLACE`,
 * one request, up to 5 GB; S3 User Guide, "Editing object metadata").
 *
 * No truncated object, ever: a multipart upload only becomes an object when it completes, and
 * lib-storage aborts it (AbortMultipartUpload) when the body fails — a dropped connection, or
 * the deadline, which fails the body on purpose.
 *
 * An object at the key is a recording, whoever wrote it (the webhook, an earlier tool, a person):
 * it is never fetched again or overwritten (contract §10). The one exception is this worker's own
 * unfinished recovery: the upload starts with metadata `recovery: unfinished`, which only the
 * final metadata copy removes, so an object whose copy did not happen is recognisably ours and
 * the next check fetches it again.
 */
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { AUDIO_CONTENT_TYPE } from '../core/audio';
import type { ByteStream, RecordingStore } from '../core/ports';
import { callDeadline, RECORDING_ABORT_RESERVE_MS } from '../core/time-budget';
import { abortSignalAt } from './deadline';
import { lazy } from './lazy';
import { cjsExports } from './load-module';
import { isNotFound, loadS3, type S3Location } from './s3';

/** S3's minimum part size: the least memory per part in flight. */
const PART_SIZE = 5 * 1024 * 1024;
/**
 * Parts uploading at once. One: lib-storage builds each part with a Buffer.concat of the
 * incoming chunks, and each part in flight is ~10 MiB of buffers V8 frees only at its next
 * collection of external memory. Measured with `npm run bench` (figure 8): a 200 MiB recovery
 * peaked at +39–41 MiB with 1 part in flight against +45–68 MiB with 2, for the same time
 * (ElevenLabs' download, not S3, sets the pace of a recovery).
 */
const QUEUE_SIZE = 1;
/** Where a recovered recording came from (metadata `source`). */
const RECOVERED_SOURCE = 'elevenlabs-api';
/** Metadata of a recovery of ours that has not finished (removed by the final copy). */
const UNFINISHED = { recovery: 'unfinished' } as const;
const loadUpload = lazy(async () => cjsExports(await import('@aws-sdk/lib-storage')).Upload);

export type S3RecordingStoreOptions = { bucket: string; now?: () => number } & S3Location;

export function createS3RecordingStore({ bucket, now = Date.now, ...location }: S3RecordingStoreOptions): RecordingStore {
  return {
    async isStored(key, deadlineMs) {
      const { client, sdk } = await loadS3('recording', location);
      try {
        const head = await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key }), {
          abortSignal: abortSignalAt(deadlineMs, now),
        });
        return head.Metadata?.recovery !== UNFINISHED.recovery;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
    },

    async store(key, body, metadata, deadlineMs) {
      const { client, sdk } = await loadS3('recording', location);
      const Upload = await loadUpload();
      const { stream, digest } = hashing(body);
      const objectMetadata = { 'conversation-id': metadata.conversationId, 'agent-id': metadata.agentId, source: RECOVERED_SOURCE };
      // At the deadline lib-storage's own abort ends `done()` with an AbortError, sends no
      // further part, and aborts the multipart upload once the request in flight ends.
      const abortController = new AbortController();
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: stream, ContentType: AUDIO_CONTENT_TYPE, Metadata: { ...objectMetadata, ...UNFINISHED } },
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
        leavePartsOnError: false,
        abortController,
      });
      // Fail the body before the deadline: lib-storage then aborts the multipart upload itself.
      const failBody = setTimeout(
        () => stream.destroy(new Error('the recording did not finish streaming before the deadline')),
        Math.max(0, deadlineMs - RECORDING_ABORT_RESERVE_MS - now()),
      );
      const abortAtDeadline = setTimeout(() => abortController.abort(), Math.max(0, deadlineMs - now()));
      try {
        await upload.done();
      } catch (error) {
        stream.destroy();
        throw error;
      } finally {
        clearTimeout(failBody);
        clearTimeout(abortAtDeadline);
      }
      const { bytes, sha256 } = digest();
      await client.send(
        new sdk.CopyObjectCommand({
          Bucket: bucket,
          Key: key,
          CopySource: `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`,
          MetadataDirective: 'REPLACE',
          ContentType: AUDIO_CONTENT_TYPE,
          Metadata: { ...objectMetadata, sha256 },
        }),
        { abortSignal: abortSignalAt(callDeadline('recordingCopy', now(), deadlineMs), now) },
      );
      return { bytes, sha256 };
    },
  };
}

/** `body` passed through unchanged, hashed and counted as it goes; errors of `body` fail the stream. */
function hashing(body: ByteStream): { stream: Transform; digest: () => { bytes: number; sha256: string } } {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const source = body instanceof Readable ? body : Readable.from(body, { objectMode: false });
  source.on('error', (error) => stream.destroy(error));
  stream.on('close', () => {
    if (!source.readableEnded) source.destroy();
  });
  source.pipe(stream);
  return { stream, digest: () => ({ bytes, sha256: hash.digest('hex') }) };
}
