/** Log-safe views of personal data (SPEC §7: never a full phone number in a log line). */

/** Every digit but the last three becomes `*`: "+61413052898" → "+********898". */
export function maskPhone(value: string): string {
  const digits = value.replace(/\D/g, '').length;
  let seen = 0;
  return value.replace(/\d/g, (digit) => (++seen > digits - 3 ? digit : '*'));
}
