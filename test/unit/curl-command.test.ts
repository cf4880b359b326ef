/** `--print-curl`: shell quoting that survives a real shell byte for byte. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { canInline, curlCommand, INLINE_BODY_MAX_BYTES, shellQuote } from '../../scripts/lib/curl-command';

describe('shellQuote', () => {
  it('passes any text through sh unchanged', () => {
    const samples = ["it's", 'a"b', 'back\\slash', '$HOME `id` $(id)', 'new\nline', 'TEST — safe to delete', "''", '!*?[]{}~#;&|<>'];
    for (const text of samples) {
      expect(execFileSync('sh', ['-c', `printf %s ${shellQuote(text)}`], { encoding: 'utf8' })).toBe(text);
    }
  });
});

describe('curlCommand', () => {
  it('builds one line with the URL, the headers and the body inline or from a file', () => {
    const headers = { 'content-type': 'application/json', 'elevenlabs-signature': 't=1,v0=ab' };
    expect(curlCommand({ url: 'http://127.0.0.1:3000/webhooks/elevenlabs', headers, body: '{"a":"it\'s"}' })).toBe(
      "curl -sS -w '\\n' -X POST 'http://127.0.0.1:3000/webhooks/elevenlabs' -H 'content-type: application/json' -H 'elevenlabs-signature: t=1,v0=ab' --data-binary '{\"a\":\"it'\\''s\"}'",
    );
    expect(curlCommand({ url: 'http://x/y', headers: {}, bodyFile: '/tmp/a b.json' })).toBe(
      "curl -sS -w '\\n' -X POST 'http://x/y' --data-binary @'/tmp/a b.json'",
    );
  });

  it('inlines only small UTF-8 bodies that curl would not read as a file name', () => {
    expect(canInline('{"type":"ping"}')).toBe(true);
    expect(canInline('x'.repeat(INLINE_BODY_MAX_BYTES + 1))).toBe(false);
    expect(canInline('@/etc/passwd')).toBe(false);
    expect(canInline(Buffer.from([0x7b, 0xff, 0x7d]))).toBe(false);
    expect(canInline(Buffer.from('a\u0000b'))).toBe(false);
  });
});
