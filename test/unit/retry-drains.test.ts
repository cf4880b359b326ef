/** npm start's drain schedule and the lines it prints about the retry folder. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeDrain, describeWaiting, startDrainLoop } from '../../scripts/lib/retry-drains';

afterEach(() => void vi.useRealTimers());

describe('startDrainLoop', () => {
  it('drains once right away, then every interval after the previous drain', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const drain = vi.fn(async () => ({ delivered: 0, kept: 1, deadLettered: 0 }));
    const seen: number[] = [];
    const loop = startDrainLoop({ drain, intervalMs: 5_000, onDrained: () => void seen.push(Date.now()) });
    await vi.advanceTimersByTimeAsync(0);
    expect(drain).toHaveBeenCalledTimes(1);
    expect(loop.nextDrainAt()).toBe(1_005_000);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(drain).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(drain).toHaveBeenCalledTimes(2);
    loop.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(drain).toHaveBeenCalledTimes(2);
    expect(seen).toEqual([1_000_000, 1_005_000]);
  });
});

describe('retry queue lines', () => {
  const now = new Date(2026, 10, 25, 13, 5, 0).getTime();
  it('say how many wait and when the next drain is', () => {
    expect(describeWaiting(2, now + 15_000, now)).toBe('[retry queue] 2 waiting; next drain in 15 s (13:05:15)');
    expect(describeWaiting(1, now + 300, now)).toBe('[retry queue] 1 waiting; next drain in 0.3 s (13:05:00)');
  });
  it('say what a drain did, and nothing when it found nothing', () => {
    expect(describeDrain({ delivered: 0, kept: 0, deadLettered: 0 }, 0, now, now, 'dl/')).toBeUndefined();
    expect(describeDrain({ delivered: 2, kept: 1, deadLettered: 1 }, 1, now + 15_000, now, '.local/retry-queue/dead-letter/')).toBe(
      '[retry queue] drained: delivered 2 to the CRM, 1 failed again, moved 1 to .local/retry-queue/dead-letter/; 1 waiting; next drain in 15 s (13:05:15)',
    );
    expect(describeDrain({ delivered: 1, kept: 0, deadLettered: 0 }, 0, now, now, 'dl/')).toBe(
      '[retry queue] drained: delivered 1 to the CRM; none waiting',
    );
  });
});
