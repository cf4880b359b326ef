/**
 * The time range of `npm run backfill`: `--since` (required) and `--until` (default now), as
 * a UTC date (`2026-11-01`, its midnight) or an ISO 8601 time with a zone
 * (`2026-11-01T08:00:00Z`, `2026-11-01T18:00:00+10:00`). Anything else is a usage error.
 */
import { CliError } from './cli';

export interface BackfillRange {
  sinceMs: number;
  untilMs: number;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

export function parseBackfillRange(since: string | undefined, until: string | undefined, nowMs: number): BackfillRange {
  if (since === undefined) throw new CliError('--since is required, e.g. --since 2026-11-01 (see --help)', 2);
  const sinceMs = parseWhen('--since', since);
  const untilMs = until === undefined ? nowMs : parseWhen('--until', until);
  if (sinceMs > nowMs) throw new CliError('--since is in the future', 2);
  if (sinceMs >= untilMs) throw new CliError('--since must be before --until', 2);
  return { sinceMs, untilMs };
}

function parseWhen(flag: string, text: string): number {
  const value = text.trim();
  if (!DATE.test(value) && !DATE_TIME.test(value)) {
    throw new CliError(`${flag} must be a date (2026-11-01) or an ISO time with a zone (2026-11-01T08:00:00Z)`, 2);
  }
  const ms = Date.parse(DATE.test(value) ? `${value}T00:00:00Z` : value);
  // Date.parse accepts 2026-02-31 (it rolls over): refuse a date that does not round-trip.
  if (Number.isNaN(ms) || (DATE.test(value) && new Date(ms).toISOString().slice(0, 10) !== value)) {
    throw new CliError(`${flag} is not a real date`, 2);
  }
  return ms;
}
