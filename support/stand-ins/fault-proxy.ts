/**
 * An HTTP proxy on 127.0.0.1 that injects faults in front of a real local server (s3rver,
 * dynalite): per request it passes through, answers an error status, drops the connection, or
 * hangs (accepts and never answers). The plan sees each request's method, path and headers, so
 * one operation can be stalled while the others pass (e.g. only DynamoDB's PutItem, by its
 * `x-amz-target` header).
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ProxyFault = 'pass' | 'reset' | 'hang' | { status: number };

export interface ProxiedRequest {
  method: string;
  path: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface FaultProxy {
  endpoint: string;
  /** How many requests reached the proxy. */
  count(): number;
  /** Decide per request (0-based index); default: pass everything. */
  plan(decide: (index: number, request: ProxiedRequest) => ProxyFault): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let decide: (index: number, request: ProxiedRequest) => ProxyFault = () => 'pass';
  let seen = 0;
  const server: Server = createServer((req, res) => {
    const fault = decide(seen++, { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers });
    if (fault === 'hang') {
      req.resume();
      return; // never answered; closeAllConnections() ends it
    }
    if (fault === 'reset') {
      req.resume();
      req.socket.destroy();
      return;
    }
    if (fault !== 'pass') {
      req.resume();
      req.on('end', () => {
        res.writeHead(fault.status, { 'content-type': 'application/xml' });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.status === 503 ? 'SlowDown' : 'InternalError'}</Code><Message>injected</Message></Error>`,
        );
      });
      return;
    }
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: () => seen,
    plan: (next) => {
      decide = next;
      seen = 0;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
