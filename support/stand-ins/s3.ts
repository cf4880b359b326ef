/**
 * An S3-protocol server on 127.0.0.1 (s3rver), for `npm start` and the tests. s3rver only
 * accepts the credentials S3RVER/S3RVER (its documented defaults).
 */
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';

const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface EmbeddedS3 {
  endpoint: string;
  /** The environment that points the real SDK at this server. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startEmbeddedS3(directory: string, buckets: string[], port = 0): Promise<EmbeddedS3> {
  const server = new S3rver({
    address: '127.0.0.1',
    port,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  const address: AddressInfo = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_REGION: process.env.AWS_REGION ?? 'ap-southeast-2',
    },
    close: () => server.close(),
  };
}
