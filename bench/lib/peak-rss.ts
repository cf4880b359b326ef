/**
 * Peak memory of one operation in this process (figures 5 and 8): reset the kernel's peak-RSS
 * mark, run, read it back. Writing "5" to /proc/self/clear_refs resets VmHWM to the current RSS
 * (Linux ≥ 4.0, proc(5)); VmHWM after the run is then the peak of this run alone. Where that is
 * refused, a worker thread samples process.memoryUsage.rss() every millisecond instead (it runs
 * while the main thread is busy in synchronous code). Needs `--expose-gc`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

const gc = (globalThis as { gc?: () => void }).gc;

function statusKb(field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Number(line?.match(/(\d+)/)?.[1] ?? Number.NaN);
}

/** True when the kernel took the reset: the mark then sits at the current RSS (give or take what GC threads touched since). */
function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return statusKb('VmHWM') - statusKb('VmRSS') < 1024;
  } catch {
    return false;
  }
}

/** Fallback peak sampler: a worker reading the process RSS every millisecond. */
function startSampler(): { reset: () => void; stop: () => Promise<number> } {
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads'); let peak = 0, on = true;
     parentPort.on('message', (m) => { if (m === 'reset') { peak = process.memoryUsage.rss(); return; } on = false; parentPort.postMessage(peak); });
     (function tick() { if (!on) return; peak = Math.max(peak, process.memoryUsage.rss()); setTimeout(tick, 1); })();`,
    { eval: true },
  );
  return {
    reset: () => worker.postMessage('reset'),
    stop: () =>
      new Promise((resolve) => {
        worker.once('message', (peak: number) => void worker.terminate().then(() => resolve(peak)));
        worker.postMessage('stop');
      }),
  };
}

/**
 * RSS once garbage is collected and V8 has handed freed large-object pages back: it unmaps them
 * on a background thread, so a baseline read straight after gc() can still hold ~5 MB that
 * vanishes during the run and hides that much of its peak. Poll until RSS holds still.
 */
async function settledRss(): Promise<number> {
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  let previous = statusKb('VmRSS');
  let steady = 0;
  for (let i = 0; i < 80 && steady < 4; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    if (i % 8 === 0) gc();
    const current = statusKb('VmRSS');
    steady = Math.abs(current - previous) < 64 ? steady + 1 : 0;
    previous = current;
  }
  return previous;
}

export interface PeakMeasurement {
  ms: number;
  baselineRssBytes: number;
  peakRssBytes: number;
  extraBytes: number;
  peakMethod: string;
}

/** Runs `operation` once, after a settled baseline, and reports its time and peak extra RSS. */
export async function measurePeak(operation: () => Promise<void>): Promise<PeakMeasurement> {
  const viaClearRefs = resetPeak();
  // The fallback sampler starts before the baseline so its own memory is part of it.
  const sampler = viaClearRefs ? undefined : startSampler();
  const baselineKb = await settledRss();
  if (viaClearRefs) {
    // A GC thread may touch pages between the write and the check: retry until the mark took.
    for (let i = 0; i < 10 && !resetPeak(); i++);
  } else sampler!.reset();
  const t0 = performance.now();
  await operation();
  const ms = performance.now() - t0;
  const peakKb = viaClearRefs ? statusKb('VmHWM') : (await sampler!.stop()) / 1024;
  return {
    ms,
    baselineRssBytes: baselineKb * 1024,
    peakRssBytes: peakKb * 1024,
    extraBytes: (peakKb - baselineKb) * 1024,
    peakMethod: viaClearRefs ? 'VmHWM after clear_refs' : 'rss sampler (1 ms)',
  };
}
