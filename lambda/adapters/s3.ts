/**
 * The S3 client, loaded on the first call that needs it (a container that only forwards
 * transcriptions with the archive off never pays for it: ~10 ms to import and ~10 ms for its
 * first request, bench figure 2d) and shared by the adapters that use the same settings: the
 * receiver's audio store and event archive share one.
 */
import type { SDK_ATTEMPTS } from '../core/time-budget';
import { sdkClientOptions } from './deadline';
import { lazy, preloadOf } from './lazy';
import { cjsExports } from './load-module';

type S3Module = typeof import('./sdk/s3');
type Kind = keyof typeof SDK_ATTEMPTS;

const loadModule = lazy(async () => cjsExports(await import('./sdk/s3')));
const clients = new Map<string, Promise<{ sdk: S3Module; client: InstanceType<S3Module['S3Client']> }>>();

/** Where and how to reach S3: the configured endpoint (AWS_ENDPOINT_URL_S3, local servers) or AWS's. */
export interface S3Location {
  forcePathStyle: boolean;
  endpoint?: string;
}

/** One client per (attempt settings, endpoint), built once per container. */
export function loadS3(kind: Kind, { forcePathStyle, endpoint }: S3Location) {
  const id = `${kind}:${forcePathStyle}:${endpoint ?? ''}`;
  let client = clients.get(id);
  if (!client) {
    client = loadModule().then((sdk) => ({
      sdk,
      // The SDK settings include requestChecksumCalculation WHEN_REQUIRED (sdk-settings.ts).
      client: new sdk.S3Client({ ...sdkClientOptions(kind), forcePathStyle, ...(endpoint ? { endpoint } : {}) }),
    }));
    client.catch(() => clients.delete(id));
    clients.set(id, client);
  }
  return client;
}

/** Builds the client `loadS3` would, ahead of its first use (the receiver's INIT); never rejects. */
export function preloadS3(kind: Kind, location: S3Location): Promise<void> {
  return preloadOf(() => loadS3(kind, location))();
}

/** HeadObject's "not there" comes back as a 404 `NotFound` (there is no body to name it). */
export function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}
