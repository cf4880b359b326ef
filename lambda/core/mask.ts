/** Log-safe views of personal data (SPEC §7: never a full phone number in a log line). */

const UNKNOWN_NUMBER = 'Unknown';
const isDigit = (code: number) => code >= 48 && code <= 57;

/**
 * The E.164 form with every digit but the last three as `*`: "+61413052898" → "+********898".
 * `to` is E.164 or "Unknown" (phone-number.ts), and "Unknown" stays as it is. Anything else
 * (a payload queued before numbers were normalised) is masked as its E.164 form would be: a
 * leading `+`, digits, and nothing else, so no separator or SIP user name reaches a log.
 */
export function maskPhone(value: string): string {
  if (value === UNKNOWN_NUMBER) return value;
  let digits = 0;
  for (let i = 0; i < value.length; i++) if (isDigit(value.charCodeAt(i))) digits++;
  let masked = value.startsWith('+') ? '+' : '';
  // One pass, no regex: this runs on every CRM forward.
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (!isDigit(code)) continue;
    masked += digits-- > 3 ? '*' : value[i];
  }
  return masked;
}
