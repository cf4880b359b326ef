/** One run of figure 3 for bench/compare.ts: imports the per-event figure of the tree in argv[2]. */
import { pathToFileURL } from 'node:url';

const root = process.argv[2]!;
const { benchPerEvent } = await import(pathToFileURL(`${root}/bench/per-event.ts`).href);
const measured = await benchPerEvent(false);
process.stdout.write(`${JSON.stringify({ p50: measured.data.handlerMs.p50 })}\n`, () => process.exit(0));
