/**
 * Optional source-IP allowlist (contract §2 step 2, §8 ALLOWED_SOURCE_IPS).
 * `net.BlockList` does the IPv4/IPv6 and CIDR matching; it is pure computation.
 */
import { BlockList, isIP } from 'node:net';

/**
 * Every static egress IP ElevenLabs publishes for webhooks, default and data-residency
 * regions (ElevenLabs docs, post-call webhooks, "IP whitelisting"): 12 addresses.
 */
export const ELEVENLABS_EGRESS_IPS: readonly string[] = [
  '34.67.146.145', // US (default)
  '34.59.11.47', // US (default)
  '35.204.38.71', // EU
  '34.147.113.54', // EU
  '35.185.187.110', // Asia
  '35.247.157.189', // Asia
  '34.77.234.246', // EU residency
  '34.140.184.144', // EU residency
  '34.93.26.174', // India residency
  '34.93.252.69', // India residency
  '34.87.23.17', // Singapore residency
  '34.126.179.103', // Singapore residency
];

const ELEVENLABS_PRESET = 'elevenlabs';

/** Parses `elevenlabs`, IPs and CIDRs separated by commas. Throws naming the bad entry. */
export function parseSourceAllowlist(value: string): BlockList {
  const list = new BlockList();
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length === 0) throw new Error('no entries');
  for (const entry of entries) {
    if (entry.toLowerCase() === ELEVENLABS_PRESET) {
      for (const ip of ELEVENLABS_EGRESS_IPS) list.addAddress(ip, 'ipv4');
      continue;
    }
    const [address = '', prefixText, ...rest] = entry.split('/');
    const family = isIP(address);
    if (family === 0 || rest.length > 0) throw new Error(`"${entry}" is not an IP address or CIDR`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefixText === undefined) {
      list.addAddress(address, type);
      continue;
    }
    const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix >= 0 && prefix <= (family === 4 ? 32 : 128))) throw new Error(`"${entry}" has an invalid prefix length`);
    list.addSubnet(address, prefix, type);
  }
  return list;
}

/** True when `ip` is on the list. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) counts as IPv4. */
export function isSourceAllowed(list: BlockList, ip: string | undefined): boolean {
  if (!ip) return false;
  const address = unmapIPv4(ip);
  const family = isIP(address);
  if (family === 0) return false;
  return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

const ELEVENLABS_ADDRESSES: ReadonlySet<string> = new Set(ELEVENLABS_EGRESS_IPS);

/**
 * True when `ip` is one of ElevenLabs' published egress addresses: a signature mismatch from
 * there means our stored secret is wrong, not that someone is probing (contract §3).
 */
export function isElevenLabsAddress(ip: string | undefined): boolean {
  if (!ip) return false;
  return ELEVENLABS_ADDRESSES.has(unmapIPv4(ip));
}

/** `::ffff:1.2.3.4` (an IPv4 client seen on an IPv6 socket) → `1.2.3.4`; anything else unchanged. */
function unmapIPv4(ip: string): string {
  return /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1] ?? ip;
}
