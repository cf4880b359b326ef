/**
 * An HTTPS server on 127.0.0.1 that prefers HTTP/2 and also speaks HTTP/1.1 (ALPN decides), for
 * holding our undici agents to HTTP/1.1 (scripts/lib/undici-http1-only.ts leaves undici's HTTP/2
 * client out of the bundles). Its certificate is self-signed and NODE_EXTRA_CA_CERTS is read only
 * when a process starts, so `withH2PreferringServer` turns certificate checks off around `use`.
 */
import { once } from 'node:events';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { createLoopbackCertificate } from '../../support/stand-ins/tls-front';

export async function withH2PreferringServer(
  respond: (req: Http2ServerRequest, res: Http2ServerResponse) => void,
  use: (origin: string, versions: string[]) => Promise<void>,
): Promise<void> {
  const versions: string[] = [];
  const server = createSecureServer({ ...(await createLoopbackCertificate()), allowHTTP1: true }, (req, res) => {
    versions.push(req.httpVersion);
    respond(req, res);
  });
  // Our agents keep connections alive: close them with the server, or it waits on them.
  const sockets = new Set<Socket>();
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  try {
    await use(`https://127.0.0.1:${(server.address() as AddressInfo).port}`, versions);
  } finally {
    if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}
