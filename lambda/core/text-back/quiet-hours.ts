/**
 * Quiet hours (contract §13): no text between `SMS_QUIET_HOURS` (default 21:00-08:00, a window
 * that may wrap midnight) on the wall clock of `SMS_TIMEZONE` (an IANA name, default
 * Australia/Sydney). A text due in quiet hours waits on the queue until they end.
 *
 * Wall-clock time comes from `Intl.DateTimeFormat` with the zone (the tz database Node ships),
 * so daylight saving is the zone's own: the end is the first minute, counted in real time, at
 * which the zone's clock reads outside the window. On a night the clocks go forward past the
 * end time, that is the moment they jump; on a night they go back, a window can end, begin
 * again and end again, and the worker, which checks again whenever the message comes back,
 * simply waits again.
 *
 * Pure: `now` is an argument.
 */

export interface QuietHours {
  /** Minutes after local midnight; start ≠ end. */
  startMinute: number;
  endMinute: number;
  timeZone: string;
}

export const DEFAULT_QUIET_HOURS = '21:00-08:00';
export const DEFAULT_SMS_TIME_ZONE = 'Australia/Sydney';

const MINUTE_MS = 60_000;
const DAY_MINUTES = 24 * 60;
const WINDOW = /^([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]):([0-5]\d)$/;
/** IANA names are short ASCII paths (`America/Argentina/ComodRivadavia` is among the longest). */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,3}$/;

/** `HH:MM-HH:MM` (24-hour) → minutes; throws with a message completing "SMS_QUIET_HOURS …". */
export function parseQuietWindow(value: string): Pick<QuietHours, 'startMinute' | 'endMinute'> {
  const match = WINDOW.exec(value.trim());
  if (!match) throw new Error('must be two 24-hour times HH:MM-HH:MM, e.g. 21:00-08:00');
  const [, h1, m1, h2, m2] = match.map(Number) as [number, number, number, number, number];
  const startMinute = h1 * 60 + m1;
  const endMinute = h2 * 60 + m2;
  if (startMinute === endMinute) throw new Error('must start and end at different times');
  return { startMinute, endMinute };
}

/** An IANA time zone the runtime knows, in its canonical spelling; throws with a message completing "SMS_TIMEZONE …". */
export function parseTimeZone(value: string): string {
  const name = value.trim();
  const problem = 'must be an IANA time zone name such as Australia/Sydney';
  if (name.length > 64 || !ZONE_NAME.test(name)) throw new Error(problem);
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    throw new Error(problem);
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes after midnight on the zone's wall clock at `epochMs`. */
export function localMinuteOfDay(epochMs: number, timeZone: string): number {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' });
    formatters.set(timeZone, format);
  }
  let hour = 0;
  let minute = 0;
  for (const part of format.formatToParts(epochMs)) {
    if (part.type === 'hour') hour = Number(part.value);
    if (part.type === 'minute') minute = Number(part.value);
  }
  return hour * 60 + minute;
}

function inWindow(minute: number, { startMinute, endMinute }: QuietHours): boolean {
  return startMinute < endMinute ? minute >= startMinute && minute < endMinute : minute >= startMinute || minute < endMinute;
}

export function isQuiet(epochMs: number, quiet: QuietHours): boolean {
  return inWindow(localMinuteOfDay(epochMs, quiet.timeZone), quiet);
}

/**
 * When the quiet hours `nowMs` falls in end (epoch ms, on a whole minute), or undefined when
 * `nowMs` is not in quiet hours.
 */
export function quietHoursEnd(nowMs: number, quiet: QuietHours): number | undefined {
  const minute = localMinuteOfDay(nowMs, quiet.timeZone);
  if (!inWindow(minute, quiet)) return undefined;
  // A first guess by the wall clock; an offset change on the way (daylight saving) moves the
  // real end by up to an hour or so either side, so step on until the clock reads outside.
  const startOfMinute = nowMs - (((nowMs % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
  let outside = startOfMinute + ((quiet.endMinute - minute + DAY_MINUTES) % DAY_MINUTES || DAY_MINUTES) * MINUTE_MS;
  for (let step = 0; isQuiet(outside, quiet) && step < 2 * 24; step++) outside += 30 * MINUTE_MS;
  // The first minute outside: quiet at `inside`, not at `outside`.
  let inside = startOfMinute;
  while (outside - inside > MINUTE_MS) {
    const middle = inside + Math.floor((outside - inside) / MINUTE_MS / 2) * MINUTE_MS;
    if (isQuiet(middle, quiet)) inside = middle;
    else outside = middle;
  }
  return outside;
}
