/** Log-safe views of personal data (SPEC §7: never a full phone number in a log line). */

const isDigit = (code: number) => code >= 48 && code <= 57;

/** Every digit but the last three becomes `*`: "+61413052898" → "+********898". */
export function maskPhone(value: string): string {
  let keep = 3;
  let masked = '';
  // From the end, so the last three digits are the ones kept (one pass, no regex: hot path).
  for (let i = value.length - 1; i >= 0; i--) {
    const code = value.charCodeAt(i);
    masked = (isDigit(code) && keep-- <= 0 ? '*' : value[i]) + masked;
  }
  return masked;
}
