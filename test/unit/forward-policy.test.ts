import { describe, expect, it } from 'vitest';
import { backoffDelay, classifyStatus, parseRetryAfter } from '../../lambda/core/forward-policy';

describe('classifyStatus (contract §5)', () => {
  it.each([
    [200, 'success'],
    [201, 'success'],
    [204, 'success'],
    [301, 'permanent'],
    [400, 'permanent'],
    [401, 'permanent'],
    [404, 'permanent'],
    [408, 'retry'],
    [409, 'permanent'],
    [422, 'permanent'],
    [429, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [504, 'retry'],
  ])('%i → %s', (status, verdict) => {
    expect(classifyStatus(status)).toBe(verdict);
  });
});

describe('backoffDelay', () => {
  it.each([
    [1, 0, 125],
    [1, 1, 250],
    [2, 0, 250],
    [2, 1, 500],
    [3, 0.5, 750],
    [10, 1, 4000],
    [10, 0, 2000],
  ])('attempt %i with random %d → %i ms (base 250)', (attempt, random, expected) => {
    expect(backoffDelay(attempt, 250, () => random)).toBe(expected);
  });
});

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  const now = Date.parse('2026-11-22T10:00:00Z');
  it.each([
    ['delay-seconds', '3', 3000],
    ['zero', '0', 0],
    ['with spaces', ' 2 ', 2000],
    ['an HTTP-date', 'Sun, 22 Nov 2026 10:00:05 GMT', 5000],
    ['an HTTP-date in the past', 'Sun, 22 Nov 2026 09:00:00 GMT', 0],
    ['absent', undefined, undefined],
    ['negative', '-1', undefined],
    ['fractional', '1.5', undefined],
    ['garbage', 'soon', undefined],
  ])('%s', (_name, header, expected) => {
    expect(parseRetryAfter(header, now)).toBe(expected);
  });
});
