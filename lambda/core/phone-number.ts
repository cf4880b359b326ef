/**
 * The contact's number in E.164 (contract §5 `to`), via libphonenumber-js, a maintained port of
 * Google's libphonenumber (https://gitlab.com/catamphetamine/libphonenumber-js).
 *
 * Metadata set: `libphonenumber-js/min`, the smallest one that still checks a number's digits
 * against its country's numbering plan (README, "min vs max vs mobile vs core"): ~118 KiB
 * minified against ~190 KiB for `max`. `max` adds only what tells a number's type (mobile,
 * fixed line, …), which the CRM does not need; `mobile` is bigger and calls landlines invalid.
 */
import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/min';

export type { CountryCode };

export const UNKNOWN_NUMBER = 'Unknown';
/** contract §8 CRM_DEFAULT_COUNTRY: the CRM's own accounts are Australian. */
export const DEFAULT_COUNTRY: CountryCode = 'AU';

/** `tel:` / `sip:` / `sips:` URI scheme (RFC 3966, RFC 3261), any case. */
const URI_SCHEME = /^(?:tel|sips?):/i;
/** What people and carriers put between digits: spaces, dashes, dots, brackets (any kind). */
const SEPARATORS = /[\s\-.()[\]{}]/g;
/** What may reach the library: an optional `+` and digits only (E.164 has at most 15). */
const DIALLABLE = /^\+?\d{3,20}$/;

/**
 * One candidate value → E.164 (`+61412345678`), or `Unknown` when it is not a phone number.
 *
 * - `tel:+61-412-345-678` and `sip:+61412345678@trunk.example.com;transport=tls` are reduced
 *   to their user part first (before `@`, without `;` parameters).
 * - Separators go; anything else that is not a digit (a SIP user name such as `alice`, `*`,
 *   `#`, an extension) makes the value not a number, without calling the library at all, so
 *   the name can never come back out of it.
 * - A number without `+` is read in `defaultCountry` (national `0412 345 678`, or international
 *   digits such as `61412345678`, which the library recognises).
 *
 * Validity: `isValid()`, not `isPossible()`. `isPossible()` checks the length only, so with
 * AU as the default a US number written without its country code (`4155550123`) would become
 * the wrong Australian number `+614155550123`, and a PBX extension `20145` would become
 * `+6120145`. A CRM user matches contacts and calls back on this field: "Unknown" is visibly
 * unknown, a well-formed wrong number is not. The fictional NANP numbers 555-0100…0199
 * (`+14165550100`) fit the North American plan, so both checks accept them. The price of
 * `isValid()` is that a range allocated after this library's release reads as invalid: keep
 * the dependency current (its metadata follows Google's releases).
 */
export function normalisePhoneNumber(value: string | undefined, defaultCountry: CountryCode = DEFAULT_COUNTRY): string {
  if (value === undefined) return UNKNOWN_NUMBER;
  let candidate = value.trim();
  if (URI_SCHEME.test(candidate)) {
    candidate = candidate.slice(candidate.indexOf(':') + 1);
    const end = candidate.search(/[@;?]/);
    if (end >= 0) candidate = candidate.slice(0, end);
  }
  candidate = candidate.replace(SEPARATORS, '');
  if (!DIALLABLE.test(candidate)) return UNKNOWN_NUMBER;
  const parsed = parsePhoneNumberFromString(candidate, defaultCountry);
  return parsed?.isValid() ? parsed.number : UNKNOWN_NUMBER;
}

/**
 * Reads an ISO 3166 alpha-2 country code (any case, trimmed) that the library has a numbering
 * plan for. Throws without echoing the value (contract §8); shared by lambda/config/receiver-config.ts and the
 * CDK stack, so what synthesises is what the receiver accepts.
 */
export function parseDefaultCountry(value: string): CountryCode {
  const code = value.trim().toUpperCase();
  // The pattern first: isSupportedCountry is an own-key lookup, so "__PROTO__" never reaches it anyway.
  if (!/^[A-Z]{2}$/.test(code) || !isSupportedCountry(code)) {
    throw new Error('must be an ISO 3166 alpha-2 country code with a known numbering plan, e.g. AU');
  }
  return code;
}
