/**
 * A request started just before has had its bytes written once this resolves. undici writes
 * the next request on a reused keep-alive connection from a setImmediate (it first lets bytes
 * already pending on the idle socket be read: GHSA-35p6-xmwp-9g52), that is after every
 * microtask; SDK middleware started meanwhile runs on microtasks and would take the CPU first
 * and hold that request back (~2 ms per warm event here, bench figure 10). The first turn of the
 * check phase is queued before undici's, the second after it. An SDK request started just before
 * has likewise run its middleware (microtasks) to the socket: the receiver's INIT waits so for
 * the secret's request before loading the other clients (adapters/secrets.ts; without it the
 * request left only when the first event came, CPU profiles of bench figure 11's child). No
 * clock and no I/O: only an ordering, which costs two turns of the event loop.
 */
import { setImmediate } from 'node:timers/promises';

export async function afterPendingWrites(): Promise<void> {
  await setImmediate();
  await setImmediate();
}
