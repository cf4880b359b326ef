/**
 * When the retry worker tries a queued CRM payload again (contract §5): each failed receive makes
 * the message invisible for longer — 1, 2, 4 … minutes, capped at 6 hours — so a CRM outage of
 * a day still ends in delivery before the message reaches the dead-letter queue: the last of
 * the 13 attempts comes 26.5 hours after the first, and the DLQ 6 hours later. The worker
 * sets the delay with ChangeMessageVisibility before it reports the record as failed (SQS:
 * "Amazon SQS visibility timeout"; at most 12 hours), and the stack's maxReceiveCount and
 * retention come from here.
 */

const RETRY_DELAY_BASE_SECONDS = 60;
const RETRY_DELAY_CAP_SECONDS = 6 * 60 * 60;
/** SQS moves a message to the DLQ on the receive after this many (the redrive policy). */
export const RETRY_MAX_RECEIVES = 13;

/** How long the message stays hidden after its `receiveCount`-th receive failed. */
export function retryDelaySeconds(receiveCount: number): number {
  const n = Number.isInteger(receiveCount) && receiveCount >= 1 ? receiveCount : 1;
  return Math.min(RETRY_DELAY_CAP_SECONDS, RETRY_DELAY_BASE_SECONDS * 2 ** Math.min(n - 1, 30));
}

/**
 * Seconds from the first receive to the last one, if every receive fails: the longest CRM
 * outage that still ends in delivery. The message reaches the DLQ `retryDelaySeconds(max)` later.
 */
export function retryHorizonSeconds(maxReceives = RETRY_MAX_RECEIVES): number {
  let total = 0;
  for (let n = 1; n < maxReceives; n++) total += retryDelaySeconds(n);
  return total;
}
