/**
 * Builds something once, on first use, and shares it: how each adapter loads its SDK client
 * only on the path that needs it (cold start: bench figures 1 and 2).
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
