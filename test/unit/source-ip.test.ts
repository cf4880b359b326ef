import { describe, expect, it } from 'vitest';
import { ELEVENLABS_EGRESS_IPS, isSourceAllowed, parseSourceAllowlist } from '../../lambda/core/source-ip';

describe('parseSourceAllowlist + isSourceAllowed', () => {
  it.each([
    ['an exact IPv4', '203.0.113.7', '203.0.113.7', true],
    ['another IPv4', '203.0.113.7', '203.0.113.8', false],
    ['inside a CIDR', '10.0.0.0/8', '10.200.3.4', true],
    ['outside a CIDR', '10.0.0.0/8', '11.0.0.1', false],
    ['an IPv4-mapped IPv6 address', '203.0.113.7', '::ffff:203.0.113.7', true],
    ['IPv6 in a prefix', '2001:db8::/32', '2001:db8::1', true],
    ['IPv6 outside a prefix', '2001:db8::/32', '2001:db9::1', false],
    ['the elevenlabs preset (US)', 'elevenlabs', '34.67.146.145', true],
    ['the elevenlabs preset (India residency)', 'elevenlabs', '34.93.252.69', true],
    ['the preset is not a wildcard', 'elevenlabs', '34.67.146.146', false],
    ['preset plus CIDR', 'ELEVENLABS, 192.168.0.0/16', '192.168.1.1', true],
    ['a missing source IP', '0.0.0.0/0', '', false],
    ['garbage as the source IP', '0.0.0.0/0', 'not-an-ip', false],
  ])('%s', (_name, list, ip, expected) => {
    expect(isSourceAllowed(parseSourceAllowlist(list), ip)).toBe(expected);
  });

  it('lists all twelve published egress IPs, Singapore residency included', () => {
    expect(ELEVENLABS_EGRESS_IPS).toHaveLength(12);
    expect(ELEVENLABS_EGRESS_IPS).toEqual(expect.arrayContaining(['34.87.23.17', '34.126.179.103']));
    const list = parseSourceAllowlist('elevenlabs');
    for (const ip of ELEVENLABS_EGRESS_IPS) expect(isSourceAllowed(list, ip)).toBe(true);
  });

  it.each([
    ['an empty list', ' , '],
    ['a hostname', 'example.com'],
    ['a bad prefix', '10.0.0.0/33'],
    ['a non-numeric prefix', '10.0.0.0/x'],
    ['two slashes', '10.0.0.0/8/8'],
    ['an IPv6 prefix too long', '2001:db8::/129'],
  ])('refuses %s', (_name, list) => {
    expect(() => parseSourceAllowlist(list)).toThrow();
  });
});
