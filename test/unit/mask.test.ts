import { describe, expect, it } from 'vitest';
import { maskPhone } from '../../lambda/core/mask';

describe('maskPhone (contract §7: all but the last 3 digits of the E.164 form)', () => {
  it.each([
    ['+61413052898', '+********898'],
    ['+14165550100', '+********100'],
    // contract §7 masks the E.164 form: separators of a value queued before numbers were
    // normalised are dropped rather than kept.
    ['+44 1111 111 111', '+*********111'],
    ['0413052898', '*******898'],
    ['123', '123'],
    ['12', '12'],
    ['Unknown', 'Unknown'],
    ['', ''],
    // Whatever else reaches it, only digits (masked) and a leading "+" come out.
    ['sip:alice@pbx', ''],
    ['sip:+61413052898@trunk.example.com', '********898'],
  ])('%j → %j', (input, expected) => {
    expect(maskPhone(input)).toBe(expected);
  });
});
