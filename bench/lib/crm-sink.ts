/**
 * A lean stand-in CRM on 127.0.0.1 for the benchmarks: reads the body, answers 200, counts.
 * Leaner than scripts/lib/crm-sink.ts (no JSON.parse, no printing) so that the sink's own
 * cost, which the handler and its floor share, stays small on a 2-core machine.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BenchCrmSink {
  url: string;
  /** Requests received and the size of the last body: the floor POSTs a body of that size. */
  stats: { requests: number; lastBodyBytes: number };
  close(): Promise<void>;
}

export async function startBenchCrmSink(): Promise<BenchCrmSink> {
  const stats = { requests: 0, lastBodyBytes: 0 };
  const server: Server = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      stats.requests += 1;
      stats.lastBodyBytes = bytes;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' });
      res.end('{"ok":true}');
    });
  });
  // Above undici's 4 s keep-alive so the client, not the server, closes idle sockets.
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/crm/calls/webhook/is`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
