/**
 * Text from outside (the ElevenLabs API's ids and errors, queue messages) made safe to print on
 * a terminal: control characters (C0, DEL, C1 — among them ESC, which starts terminal escape
 * sequences, and CR/LF, which would forge output lines), Unicode format characters (bidirectional
 * overrides that reorder what is shown) and line/paragraph separators become `\u{…}` escapes,
 * and a backslash is doubled so an escape can be told from the text. Nothing else changes.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\u2028\u2029\\]/gu;

export function printable(text: string, maxLength = 300): string {
  const cut = text.length > maxLength ? `${text.slice(0, maxLength)}…` : text;
  return cut.replace(UNPRINTABLE, (c) => (c === '\\' ? '\\\\' : `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`));
}
