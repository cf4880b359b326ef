/**
 * How adapters bound their I/O (contract §11). Two mechanisms, because either alone leaves a gap:
 * - an AbortSignal at the call's deadline (`client.send(command, { abortSignal })`) ends the
 *   whole call, retries included;
 * - `requestTimeout` with `throwOnRequestTimeout: true` ends one attempt so the SDK can retry
 *   it. Without the flag, @smithy/node-http-handler 4.x only logs a warning and waits on a
 *   server that accepted the connection and never answers (test/faults/stalls.test.ts shows it).
 */
import { SDK_ATTEMPTS } from '../core/time-budget';
import { SDK_SETTINGS, SERVICE_SETTINGS } from './sdk-settings';

/** An AbortSignal that fires at `deadlineMs` (epoch ms), or at once if that has passed. */
export function abortSignalAt(deadlineMs: number, now: () => number = Date.now): AbortSignal {
  return AbortSignal.timeout(Math.max(1, Math.ceil(deadlineMs - now())));
}

/** Client options for one kind of AWS dependency: the SDK settings it is given (sdk-settings.ts), attempts and per-attempt timeouts that throw. */
export function sdkClientOptions(kind: keyof typeof SDK_ATTEMPTS) {
  const { maxAttempts, connectionTimeoutMs, requestTimeoutMs } = SDK_ATTEMPTS[kind];
  return {
    ...SDK_SETTINGS,
    ...SERVICE_SETTINGS[kind],
    maxAttempts,
    requestHandler: { connectionTimeout: connectionTimeoutMs, requestTimeout: requestTimeoutMs, throwOnRequestTimeout: true },
  };
}
