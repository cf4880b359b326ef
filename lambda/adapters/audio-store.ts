/**
 * Stores decoded MP3s in S3 (contract §6). One PutObject with the decoded Buffer as the body:
 * the SDK streams it to the socket without another copy, and audio under Lambda's 6 MB
 * event cap is always below the 5 MB multipart threshold where lib-storage would help.
 * The SHA-256 we already computed is sent as the object checksum, so S3 verifies the
 * upload and the SDK does not spend time on a CRC of its own.
 */
import { AUDIO_CONTENT_TYPE, type PreparedAudio } from '../core/audio';
import type { AudioStore } from '../core/ports';
import { abortSignalAt } from './deadline';
import type { Preloadable } from './lazy';
import { loadS3, preloadS3, type S3Location } from './s3';

export type S3AudioStoreOptions = { bucket: string } & S3Location;

export function createS3AudioStore({ bucket, ...location }: S3AudioStoreOptions): AudioStore & Preloadable {
  return {
    preload: () => preloadS3('audio', location),
    async put(audio: PreparedAudio, deadlineMs: number) {
      // Loaded on the first audio event only: transcriptions never load the S3 client for this.
      const { client, sdk } = await loadS3('audio', location);
      await client.send(
        new sdk.PutObjectCommand({
          Bucket: bucket,
          Key: audio.key,
          Body: audio.bytes,
          ContentLength: audio.bytes.length,
          ContentType: AUDIO_CONTENT_TYPE,
          ChecksumSHA256: Buffer.from(audio.sha256, 'hex').toString('base64'),
          Metadata: { 'conversation-id': audio.conversationId, 'agent-id': audio.agentId, sha256: audio.sha256 },
        }),
        { abortSignal: abortSignalAt(deadlineMs) },
      );
    },
  };
}
