/**
 * contract §13 "How often": no text during SMS_QUIET_HOURS on SMS_TIMEZONE's wall clock, windows
 * that wrap midnight included, through daylight-saving changes (the tz database Node ships).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isQuiet,
  localMinuteOfDay,
  parseQuietWindow,
  parseTimeZone,
  type QuietHours,
  quietHoursEnd,
} from '../../../lambda/core/text-back/quiet-hours';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const at = (iso: string) => Date.parse(iso);
const window = (value: string, timeZone: string): QuietHours => ({ ...parseQuietWindow(value), timeZone });
const SYDNEY = window('21:00-08:00', 'Australia/Sydney');

describe('parseQuietWindow', () => {
  it.each([
    ['21:00-08:00', 1260, 480],
    ['00:00-06:30', 0, 390],
    ['22:15 - 07:45', 1335, 465],
    ['23:59-00:00', 1439, 0],
  ])('%s', (value, startMinute, endMinute) => {
    expect(parseQuietWindow(value)).toEqual({ startMinute, endMinute });
  });

  it.each(['21:00-21:00', '9:00-17:00', '24:00-08:00', '21:60-08:00', '21:00', '21:00 to 08:00', '9pm-8am', '', '1'.repeat(10_000)])(
    'refuses %j',
    (value) => {
      expect(() => parseQuietWindow(value)).toThrow(/HH:MM|different/);
    },
  );

  it('never repeats the value it refuses', () => {
    expect(() => parseQuietWindow('wsec_not_a_window')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('wsec') }));
  });
});

describe('parseTimeZone', () => {
  it.each([
    ['Australia/Sydney', 'Australia/Sydney'],
    ['australia/sydney', 'Australia/Sydney'],
    ['UTC', 'UTC'],
    ['Etc/GMT-10', 'Etc/GMT-10'],
  ])('accepts %s as %s', (value, canonical) => {
    expect(parseTimeZone(value)).toBe(canonical);
  });

  it('accepts a three-part name (the spelling the runtime returns is its own: ICU versions differ)', () => {
    expect(parseTimeZone('America/Argentina/Buenos_Aires')).toMatch(/^America\/(Argentina\/)?Buenos_Aires$/);
  });

  it.each(['Mars/Olympus_Mons', 'Sydney', '../../etc/passwd', 'Australia/Sydney; rm -rf', `A/${'b'.repeat(100)}`, '+10:00', ''])(
    'refuses %j',
    (value) => {
      expect(() => parseTimeZone(value)).toThrow(/IANA time zone/);
    },
  );
});

describe('quietHoursEnd', () => {
  it.each([
    ['in the evening part of a window that wraps midnight', SYDNEY, '2026-11-22T23:00:00+11:00', '2026-11-23T08:00:00+11:00'],
    ['in the morning part', SYDNEY, '2026-11-23T07:59:30+11:00', '2026-11-23T08:00:00+11:00'],
    ['at the first minute', SYDNEY, '2026-11-22T21:00:00+11:00', '2026-11-23T08:00:00+11:00'],
    ['outside: at the end minute itself', SYDNEY, '2026-11-23T08:00:00+11:00', undefined],
    ['outside: just before the start', SYDNEY, '2026-11-22T20:59:59+11:00', undefined],
    ['outside: midday', SYDNEY, '2026-11-22T12:00:00+11:00', undefined],
    [
      'a window within one day, another zone',
      window('12:00-13:30', 'America/New_York'),
      '2026-07-01T12:10:00-04:00',
      '2026-07-01T13:30:00-04:00',
    ],
    ['a half-hour zone', window('21:00-08:00', 'Asia/Kolkata'), '2026-07-01T02:00:00+05:30', '2026-07-01T08:00:00+05:30'],
    ['UTC', window('21:00-08:00', 'UTC'), '2026-07-01T21:00:00Z', '2026-07-02T08:00:00Z'],
  ])('%s', (_label, quiet, now, end) => {
    const result = quietHoursEnd(at(now), quiet);
    expect(result === undefined ? undefined : new Date(result).toISOString()).toBe(
      end === undefined ? undefined : new Date(at(end)).toISOString(),
    );
  });

  describe('across daylight saving', () => {
    it('Sydney, clocks forward (4 Oct 2026, 02:00 → 03:00): 22:00 to 08:00 is nine hours', () => {
      const now = at('2026-10-03T22:00:00+10:00');
      const end = quietHoursEnd(now, SYDNEY)!;
      expect(new Date(end).toISOString()).toBe(new Date(at('2026-10-04T08:00:00+11:00')).toISOString());
      expect(end - now).toBe(9 * HOUR);
    });

    it('Sydney, clocks back (5 Apr 2026, 03:00 → 02:00): 22:00 to 08:00 is eleven hours', () => {
      const now = at('2026-04-04T22:00:00+11:00');
      const end = quietHoursEnd(now, SYDNEY)!;
      expect(new Date(end).toISOString()).toBe(new Date(at('2026-04-05T08:00:00+10:00')).toISOString());
      expect(end - now).toBe(11 * HOUR);
    });

    it('a window ending at 02:30 on the night 02:30 does not exist ends when the clocks jump to 03:00', () => {
      const quiet = window('23:00-02:30', 'Australia/Sydney');
      const end = quietHoursEnd(at('2026-10-03T23:30:00+10:00'), quiet)!;
      expect(new Date(end).toISOString()).toBe('2026-10-03T16:00:00.000Z');
      expect(localMinuteOfDay(end, 'Australia/Sydney')).toBe(3 * 60);
    });

    it('New York, clocks forward (8 Mar 2026): ends at 08:00 EDT', () => {
      const end = quietHoursEnd(at('2026-03-07T22:00:00-05:00'), window('21:00-08:00', 'America/New_York'))!;
      expect(new Date(end).toISOString()).toBe(new Date(at('2026-03-08T08:00:00-04:00')).toISOString());
    });

    it('New York, clocks back (1 Nov 2026): ends at 08:00 EST', () => {
      const end = quietHoursEnd(at('2026-10-31T23:00:00-04:00'), window('21:00-08:00', 'America/New_York'))!;
      expect(new Date(end).toISOString()).toBe(new Date(at('2026-11-01T08:00:00-05:00')).toISOString());
    });
  });

  it('any instant, window and zone: the end is the first minute outside, within a day', () => {
    const zones = ['Australia/Sydney', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'UTC'];
    const minute = fc.integer({ min: 0, max: 24 * 60 - 1 });
    fc.assert(
      fc.property(
        fc.integer({ min: at('2026-01-01T00:00:00Z'), max: at('2028-01-01T00:00:00Z') }),
        minute,
        minute,
        fc.constantFrom(...zones),
        (now, startMinute, endMinute, timeZone) => {
          fc.pre(startMinute !== endMinute);
          const quiet = { startMinute, endMinute, timeZone };
          const end = quietHoursEnd(now, quiet);
          expect(end === undefined).toBe(!isQuiet(now, quiet));
          if (end === undefined) return;
          expect(end).toBeGreaterThan(now);
          expect(end - now).toBeLessThanOrEqual(25 * HOUR);
          expect(end % MINUTE).toBe(0);
          expect(isQuiet(end, quiet)).toBe(false);
          expect(isQuiet(end - MINUTE, quiet)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
