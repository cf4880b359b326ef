import { describe, expect, it } from 'vitest';
import { maskPhone } from '../../lambda/core/mask';

describe('maskPhone', () => {
  it.each([
    ['+61413052898', '+********898'],
    ['+44 1111 111 111', '+** **** *** 111'],
    ['0413052898', '*******898'],
    ['123', '123'],
    ['12', '12'],
    ['Unknown', 'Unknown'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(maskPhone(input)).toBe(expected);
  });
});
