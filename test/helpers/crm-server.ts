/**
 * A real HTTP server on 127.0.0.1 standing in for the CRM. Each request is recorded; the
 * response is scripted per test (status, headers, delay, connection reset, hang).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type CrmBehaviour =
  | { status: number; headers?: Record<string, string>; delayMs?: number; body?: string }
  /** Drop the connection before answering anything. */
  | { reset: true }
  /** Send the status line and half a body, then drop the connection. */
  | { resetAfterHeaders: number }
  /** Never answer (until the server closes). */
  | { hang: true };

export interface CrmServer {
  url: string;
  /** Parsed JSON bodies of every request received, in order (including failed ones). */
  received: unknown[];
  /** Bodies of requests answered 2xx: what the CRM actually accepted. */
  accepted: unknown[];
  headers: IncomingMessage['headers'][];
  /** Decide the answer for the n-th request since this call (0-based); defaults to 200. */
  respond(behaviour: CrmBehaviour | ((index: number, body: unknown) => CrmBehaviour)): void;
  close(): Promise<void>;
}

export async function startCrmServer(): Promise<CrmServer> {
  let behaviour: CrmBehaviour | ((index: number, body: unknown) => CrmBehaviour) = { status: 200 };
  let offset = 0;
  const received: unknown[] = [];
  const accepted: unknown[] = [];
  const headers: IncomingMessage['headers'][] = [];
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* keep the text */
      }
      const index = received.length - offset;
      received.push(body);
      headers.push(req.headers);
      const plan = typeof behaviour === 'function' ? behaviour(index, body) : behaviour;
      if ('reset' in plan) return req.socket.destroy();
      if ('resetAfterHeaders' in plan) {
        if (plan.resetAfterHeaders >= 200 && plan.resetAfterHeaders < 300) accepted.push(body);
        res.writeHead(plan.resetAfterHeaders, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"ok":');
        setTimeout(() => req.socket.destroy(), 10);
        return;
      }
      if ('hang' in plan) return void open.add(res);
      const answer = () => {
        if (plan.status >= 200 && plan.status < 300) accepted.push(body);
        res.writeHead(plan.status, { 'content-type': 'application/json', ...plan.headers });
        res.end(plan.body ?? '{}');
      };
      if (plan.delayMs) setTimeout(answer, plan.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/crm/calls/webhook/is`,
    received,
    accepted,
    headers,
    respond: (next) => {
      behaviour = next;
      offset = received.length;
    },
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
