/**
 * Reading free-form event values as text (contract §4: a descriptive field of the wrong type reads
 * as absent). Dynamic variables and data-collection values may be strings or numbers.
 */

/** A non-empty trimmed string; finite numbers count too (dynamic variables may be numbers). */
export function readText(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** The first of `values` that reads as text. */
export function readFirstText(...values: unknown[]): string | undefined {
  for (const value of values) {
    const found = readText(value);
    if (found !== undefined) return found;
  }
  return undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
