/**
 * support/stand-ins/tls-front.ts: HTTPS in front of a plain stand-in (bench figures 11 and 12).
 * The request and its headers arrive unchanged, the per-run certificate is what the client must
 * trust, and only loopback targets are accepted.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoopbackCertificate, frontOrigins, type LoopbackCertificate, startTlsFront } from '../../support/stand-ins/tls-front';

let certificate: LoopbackCertificate;
let seen: { url?: string; headers?: IncomingHttpHeaders; body?: string } = {};
const upstream = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    seen = { url: req.url, headers: req.headers, body };
    res.end(`echo:${body}`);
  });
});
let upstreamUrl: string;

beforeAll(async () => {
  certificate = await createLoopbackCertificate();
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

function post(url: string, ca: string | undefined, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca, agent: false, headers: { 'x-signed': 'kept' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('TLS front', () => {
  it('passes the request, its path, headers and body through, and the answer back', async () => {
    const front = await startTlsFront(upstreamUrl, certificate);
    try {
      expect(front.origin).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const answer = await post(`${front.origin}/queue/a?x=1`, certificate.cert, 'hello');
      expect(answer).toEqual({ status: 200, body: 'echo:hello' });
      expect(seen.url).toBe('/queue/a?x=1');
      expect(seen.headers?.['x-signed']).toBe('kept');
      expect(seen.headers?.host).toBe(new URL(front.origin).host);
    } finally {
      await front.close();
    }
  });

  it('a client that does not trust the run certificate is refused', async () => {
    const front = await startTlsFront(upstreamUrl, certificate);
    try {
      await expect(post(front.origin, undefined, 'x')).rejects.toThrow(/self[- ]signed|certificate/i);
    } finally {
      await front.close();
    }
  });

  it('refuses a target that is not 127.0.0.1', async () => {
    await expect(startTlsFront('http://10.0.0.1:80', certificate)).rejects.toThrow(/non-loopback/);
  });

  it('rewrites each http origin to its own front, path and query kept; others untouched', async () => {
    const fronts = await frontOrigins([upstreamUrl, `${upstreamUrl}/123/queue`, 'https://127.0.0.1:1'], certificate);
    try {
      const rewritten = fronts.rewrite(`${upstreamUrl}/123/queue?a=b`);
      expect(rewritten).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/123\/queue\?a=b$/);
      expect(new URL(rewritten).origin).toBe(new URL(fronts.rewrite(upstreamUrl)).origin);
      expect(fronts.rewrite('https://127.0.0.1:1/x')).toBe('https://127.0.0.1:1/x');
      expect((await post(rewritten, certificate.cert, 'q')).body).toBe('echo:q');
    } finally {
      await fronts.close();
    }
  });
});
