/**
 * `fc.string({ unit: 'binary', ... })` without its one-off cost: fast-check builds a reverse map
 * of all 1,112,064 code points (~1.9 s of CPU in each test process) the first time it needs
 * to un-map a character, which `fc.string` does at once to seed its "dangerous strings"
 * (`__proto__`, …). This unit is the same arbitrary — fast-check's is `mapToConstant` over the
 * code points minus the surrogates, i.e. `nat` mapped by index — with an un-mapper that
 * computes the index instead of looking it up, so a seed generates the same values.
 */
import fc from 'fast-check';

const SURROGATES = 0xe000 - 0xd800;
const CODE_POINTS = 0x110000 - SURROGATES;

const binaryUnit = fc.nat({ max: CODE_POINTS - 1 }).map(
  (index) => String.fromCodePoint(index < 0xd800 ? index : index + SURROGATES),
  (value) => {
    const codePoint = typeof value === 'string' ? value.codePointAt(0) : undefined;
    if (codePoint === undefined || String.fromCodePoint(codePoint) !== value || (codePoint >= 0xd800 && codePoint < 0xe000))
      throw new Error('not one code point');
    return codePoint < 0xd800 ? codePoint : codePoint - SURROGATES;
  },
);

/** Strings of any Unicode scalar values, as `fc.string({ unit: 'binary', ...constraints })`. */
export function binaryString(constraints: Omit<fc.StringConstraints, 'unit'> = {}): fc.Arbitrary<string> {
  return fc.string({ ...constraints, unit: binaryUnit });
}
