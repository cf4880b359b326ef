/**
 * Builds something once, on first use, and shares it: how each adapter loads its SDK client
 * only when it is configured and needed (bench figures 1, 2 and 9).
 * A failed load is forgotten so the next call tries again.
 */
export function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

/**
 * An adapter whose client can be loaded before it is first used: the receiver's Lambda entry
 * loads, during INIT, everything the first event will need (create-receiver.ts `initReceiver`).
 * `preload` never rejects; a failed load is forgotten and the first use tries again.
 */
export interface Preloadable {
  preload(): Promise<void>;
}

/** `preload` for a `lazy` loader. */
export function preloadOf(load: () => Promise<unknown>): () => Promise<void> {
  return () =>
    load().then(
      () => undefined,
      () => undefined,
    );
}
