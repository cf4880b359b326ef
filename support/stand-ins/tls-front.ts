/**
 * HTTPS in front of the plain-HTTP stand-ins, for the figure that compares whole cold processes
 * (bench figure 11, the cold first answer): on AWS every endpoint the Lambda calls is HTTPS, and the AWS SDK takes
 * another path for `http:` (it imports `node:http` on its first such request, which on Node 24
 * costs ~12–15 ms of a cold process: the ESM wrapper reads every export, and `http.WebSocket`
 * loads Node's bundled undici). A front terminates TLS and pipes the bytes to the stand-in, so the
 * request, its Host header and its signature arrive unchanged.
 *
 * The certificate is made per run (selfsigned: an EC P-256 key, SAN IP 127.0.0.1, one day) and
 * trusted by the child processes through NODE_EXTRA_CA_CERTS; nothing is written to the repository.
 * 127.0.0.1 only.
 */
import { writeFileSync } from 'node:fs';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer, type TLSSocket } from 'node:tls';
import { generate } from 'selfsigned';

export interface LoopbackCertificate {
  key: string;
  cert: string;
}

/** A self-signed certificate for https://127.0.0.1, valid for a day. */
export async function createLoopbackCertificate(): Promise<LoopbackCertificate> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

/** Writes the certificate where NODE_EXTRA_CA_CERTS can name it; returns the path. */
export function writeCaFile(directory: string, certificate: LoopbackCertificate): string {
  const file = join(directory, 'loopback-ca.pem');
  writeFileSync(file, certificate.cert);
  return file;
}

export interface TlsFront {
  /** `https://127.0.0.1:<port>`: the front's origin. */
  origin: string;
  close(): Promise<void>;
}

/** Terminates TLS on a new loopback port and pipes each connection to `target`'s port. */
export async function startTlsFront(target: string, certificate: LoopbackCertificate): Promise<TlsFront> {
  const { hostname, port } = new URL(target);
  if (hostname !== '127.0.0.1') throw new Error(`TLS front refuses non-loopback target: ${hostname}`);
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  // No Nagle on either leg: a pipe of small writes would otherwise wait on delayed ACKs (~40 ms each).
  const server = createServer({ ...certificate, noDelay: true }, (client: TLSSocket) => {
    const upstream = connect({ port: Number(port), host: '127.0.0.1', noDelay: true });
    track(client);
    track(upstream);
    // Either side failing or ending ends the other: no half-open pair outlives its peer.
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  // A client that gives up mid-handshake is its own business, not the front's.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Fronts every distinct `http://127.0.0.1:<port>` origin among `urls` and returns a function that
 * rewrites such a URL to its front, path and query kept (SQS queue URLs are endpoints too).
 */
export async function frontOrigins(
  urls: readonly string[],
  certificate: LoopbackCertificate,
): Promise<{ rewrite: (url: string) => string; close(): Promise<void> }> {
  const fronts = new Map<string, TlsFront>();
  for (const url of urls) {
    const { origin, protocol } = new URL(url);
    if (protocol !== 'http:' || fronts.has(origin)) continue;
    fronts.set(origin, await startTlsFront(origin, certificate));
  }
  return {
    rewrite: (url) => {
      const parsed = new URL(url);
      const front = fronts.get(parsed.origin);
      return front === undefined ? url : `${front.origin}${url.slice(parsed.origin.length)}`;
    },
    close: async () => {
      await Promise.all([...fronts.values()].map((front) => front.close()));
    },
  };
}
