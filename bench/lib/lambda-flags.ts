/**
 * The V8 heap flags Lambda's Node.js runtime starts a function with, from its memory size: the
 * runtime's bootstrap passes `--max-semi-space-size` (a twentieth of the memory, MB) and
 * `--max-old-space-size` (nine tenths) along with `--expose-gc`. A figure that reports a
 * function's peak RSS runs its child with them, so the young generation is sized as on Lambda
 * rather than by the bench machine's defaults (Node 24's own default grows to far more).
 */
export function lambdaNodeFlags(memoryMb: number): string[] {
  return ['--expose-gc', `--max-semi-space-size=${Math.floor(memoryMb / 20)}`, `--max-old-space-size=${Math.floor((memoryMb * 9) / 10)}`];
}
