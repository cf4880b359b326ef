/** Log-safe views of personal data (contract §7: never a full phone number in a log line). */

const UNKNOWN_NUMBER = 'Unknown';
/**
 * The E.164 form with every digit but the last three as `*`: "+61413052898" → "+********898".
 * `to` is E.164 or "Unknown" (phone-number.ts), and "Unknown" stays as it is. Anything else
 * (a payload queued before numbers were normalised) is masked as its E.164 form would be: a
 * leading `+`, digits, and nothing else, so no separator or SIP user name reaches a log.
 */
export function maskPhone(value: string): string {
  if (value === UNKNOWN_NUMBER) return value;
  const digits = value.replace(/\D/g, '');
  const shown = digits.slice(-3);
  return `${value.startsWith('+') ? '+' : ''}${'*'.repeat(digits.length - shown.length)}${shown}`;
}
