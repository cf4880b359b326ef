/**
 * Times two runners over the same events in alternating blocks (A then B in even rounds, B
 * then A in odd ones), after a warm-up of both, so GC, JIT and machine drift fall on both
 * sides. Used where a figure compares two ways of handling the same event (figures 3, 3c).
 */
import { median } from './stats';

/** Handles event `i` and answers the milliseconds it took. */
export type TimedRunner = (i: number) => Promise<number>;

export interface AlternateCounts {
  warmup: number;
  rounds: number;
  perRound: number;
}

export interface AlternateSamples {
  a: number[];
  b: number[];
  /** The median of each round, to see drift between rounds. */
  roundP50s: { a: number[]; b: number[] };
}

export async function alternateBlocks(
  a: TimedRunner,
  b: TimedRunner,
  { warmup, rounds, perRound }: AlternateCounts,
): Promise<AlternateSamples> {
  for (let i = 0; i < warmup; i++) {
    await a(i);
    await b(i);
  }
  const samples: AlternateSamples = { a: [], b: [], roundP50s: { a: [], b: [] } };
  for (let r = 0; r < rounds; r++) {
    const from = warmup + r * perRound;
    const block = async (run: TimedRunner) => {
      const taken: number[] = [];
      for (let i = from; i < from + perRound; i++) taken.push(await run(i));
      return taken;
    };
    const [first, second] = r % 2 === 0 ? [a, b] : [b, a];
    const firstSamples = await block(first);
    const secondSamples = await block(second);
    const [aSamples, bSamples] = r % 2 === 0 ? [firstSamples, secondSamples] : [secondSamples, firstSamples];
    samples.a.push(...aSamples);
    samples.b.push(...bSamples);
    samples.roundP50s.a.push(median(aSamples));
    samples.roundP50s.b.push(median(bSamples));
  }
  return samples;
}

/** Events a run of `counts` needs (warm-up plus every round). */
export function eventsNeeded({ warmup, rounds, perRound }: AlternateCounts): number {
  return warmup + rounds * perRound;
}
