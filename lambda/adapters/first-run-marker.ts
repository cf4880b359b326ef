/**
 * The reconciler's first-run marker (contract §12) at `s3://$AUDIO_BUCKET/reconciler/first-run.json`:
 * `{"firstRunUnixSecs": <unix seconds>}`, written once by the first run and only if absent
 * (`If-None-Match: *`, S3 conditional writes), read by every run after it.
 */
import * as z from 'zod/mini';
import '../core/zod-messages';
import type { FirstRunMarker } from '../core/reconcile';
import { FIRST_RUN_KEY } from '../core/storage-keys';
import { abortSignalAt } from './deadline';
import { isNotFound, loadS3, type S3Location } from './s3';

const MarkerSchema = z.object({ firstRunUnixSecs: z.number().check(z.int(), z.gte(0)) });
/** The marker is a few bytes; anything longer is not ours. */
const MAX_MARKER_BYTES = 1024;

export function createS3FirstRunMarker({ bucket, ...location }: { bucket: string } & S3Location): FirstRunMarker {
  const read = async (deadlineMs: number): Promise<number | undefined> => {
    const { client, sdk } = await loadS3('recording', location);
    let text: string;
    try {
      const object = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: FIRST_RUN_KEY }), {
        abortSignal: abortSignalAt(deadlineMs),
      });
      text = (await object.Body?.transformToString('utf8')) ?? '';
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    let parsed: ReturnType<typeof MarkerSchema.safeParse> | undefined;
    try {
      parsed = text.length <= MAX_MARKER_BYTES ? MarkerSchema.safeParse(JSON.parse(text)) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) {
      throw new Error(`s3://${bucket}/${FIRST_RUN_KEY} is not {"firstRunUnixSecs": <unix seconds>}; fix or delete it`);
    }
    return parsed.data.firstRunUnixSecs;
  };
  return {
    async firstRun(nowUnixSeconds, deadlineMs) {
      const recorded = await read(deadlineMs);
      if (recorded !== undefined) return recorded;
      const { client, sdk } = await loadS3('recording', location);
      try {
        await client.send(
          new sdk.PutObjectCommand({
            Bucket: bucket,
            Key: FIRST_RUN_KEY,
            Body: JSON.stringify({ firstRunUnixSecs: nowUnixSeconds }),
            ContentType: 'application/json',
            IfNoneMatch: '*',
          }),
          { abortSignal: abortSignalAt(deadlineMs) },
        );
      } catch (error) {
        // 412: another run wrote it first; its value wins.
        if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412) {
          return (await read(deadlineMs)) ?? nowUnixSeconds;
        }
        throw error;
      }
      return nowUnixSeconds;
    },
  };
}
