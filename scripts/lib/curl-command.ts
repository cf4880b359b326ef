/**
 * `npm run send -- --print-curl`: the same signed request as a curl command to copy, paste or
 * keep in a ticket. POSIX shell quoting: inside single quotes every character is literal, and
 * a single quote is written as '\'' (close, escaped quote, reopen).
 */

/** Bodies up to this size (valid UTF-8, no NUL, not starting with curl's `@`) go inline; larger ones into a file. */
export const INLINE_BODY_MAX_BYTES = 8 * 1024;

export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Whether a body can be written inline in a shell command, byte for byte. */
export function canInline(body: string | Buffer): boolean {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return (
    bytes.length <= INLINE_BODY_MAX_BYTES &&
    bytes[0] !== 0x40 && // --data-binary @name would read a file
    !bytes.includes(0) && // no NUL in a shell argument
    Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes)
  );
}

export interface CurlRequest {
  url: string;
  headers: Record<string, string>;
  /** Exactly one of: the body inline, or a file holding it. */
  body?: string;
  bodyFile?: string;
}

export function curlCommand({ url, headers, body, bodyFile }: CurlRequest): string {
  const parts = ['curl', '-sS', '-w', shellQuote('\\n'), '-X', 'POST', shellQuote(url)];
  for (const [name, value] of Object.entries(headers)) parts.push('-H', shellQuote(`${name}: ${value}`));
  parts.push('--data-binary', bodyFile !== undefined ? `@${shellQuote(bodyFile)}` : shellQuote(body ?? ''));
  return parts.join(' ');
}
