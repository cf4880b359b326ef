/** An AbortSignal that fires at `deadlineMs` (epoch ms), for SDK calls; none without a deadline. */
export function abortSignalAt(deadlineMs: number | undefined): AbortSignal | undefined {
  return deadlineMs === undefined ? undefined : AbortSignal.timeout(Math.max(1, deadlineMs - Date.now()));
}
