/**
 * Writes the compile cache layer's archive to S3 (create-layer-builder.ts), where CloudFormation
 * creates the layer version from it (AWS::Lambda::LayerVersion Content).
 */
import { abortSignalAt } from './deadline';
import { loadS3, type S3Location } from './s3';

export function createS3LayerArchiveStore({ bucket, ...location }: { bucket: string } & S3Location) {
  return async (key: string, body: Uint8Array, deadlineMs: number): Promise<void> => {
    const { client, sdk } = await loadS3('audio', location);
    await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/zip' }), {
      abortSignal: abortSignalAt(deadlineMs),
    });
  };
}
