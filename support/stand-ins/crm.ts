/**
 * The one CRM stand-in: a real HTTP server on 127.0.0.1 (port 0) that answers like the CRM
 * endpoint of contract §1. Tests record every request and script the answers (status, headers,
 * delay, connection reset, hang); `npm start` prints each payload; the benchmark only counts,
 * so the stand-in's own cost, which the handler and its floor share, stays small.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type CrmBehaviour =
  /** `until`: answer only once this settles (a CRM that accepts slowly, for as long as a test needs). */
  | { status: number; headers?: Record<string, string>; delayMs?: number; body?: string; until?: Promise<unknown> }
  /** Drop the connection before answering anything. */
  | { reset: true }
  /** Send the status line and half a body, then drop the connection. */
  | { resetAfterHeaders: number }
  /** Never answer (until the server closes). */
  | { hang: true };

export interface CrmStandInOptions {
  /** Keep every request's body and headers (tests). Default true; the benchmark turns it off. */
  record?: boolean;
  /** Called with each payload (parsed JSON, else the text): `npm start` prints it. */
  onPayload?: (payload: unknown) => void;
}

export interface CrmStandIn {
  url: string;
  /** Parsed JSON bodies of every request received, in order (including failed ones). */
  received: unknown[];
  /** Bodies of requests answered 2xx: what the CRM actually accepted. */
  accepted: unknown[];
  headers: IncomingMessage['headers'][];
  /** Requests so far and the size of the last body (kept whatever `record` says). */
  stats: { requests: number; lastBodyBytes: number };
  /** Decide the answer for the n-th request since this call (0-based); defaults to 200. */
  respond(behaviour: CrmBehaviour | ((index: number, body: unknown) => CrmBehaviour)): void;
  /** Resolves once every delayed answer (`delayMs`) has been sent: waits on the stand-in, not a clock. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

const OK_BODY = '{"ok":true}';

export async function startCrmStandIn({ record = true, onPayload }: CrmStandInOptions = {}): Promise<CrmStandIn> {
  let behaviour: CrmBehaviour | ((index: number, body: unknown) => CrmBehaviour) = { status: 200 };
  let offset = 0;
  const received: unknown[] = [];
  const accepted: unknown[] = [];
  const headers: IncomingMessage['headers'][] = [];
  const stats = { requests: 0, lastBodyBytes: 0 };
  const open = new Set<ServerResponse>();
  let delayed = 0;
  const whenSettled: (() => void)[] = [];
  const parse = record || onPayload !== undefined;

  const answer = (req: IncomingMessage, res: ServerResponse, body: unknown) => {
    const index = stats.requests - 1 - offset;
    const plan = typeof behaviour === 'function' ? behaviour(index, body) : behaviour;
    const accept = () => {
      if (record) accepted.push(body);
    };
    if ('reset' in plan) return req.socket.destroy();
    if ('resetAfterHeaders' in plan) {
      if (plan.resetAfterHeaders >= 200 && plan.resetAfterHeaders < 300) accept();
      res.writeHead(plan.resetAfterHeaders, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"ok":');
      setTimeout(() => req.socket.destroy(), 10);
      return;
    }
    if ('hang' in plan) return void open.add(res);
    const reply = () => {
      if (plan.status >= 200 && plan.status < 300) accept();
      const text = plan.body ?? OK_BODY;
      res.writeHead(plan.status, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(text)),
        ...plan.headers,
      });
      res.end(text);
    };
    if (plan.until) return void plan.until.then(reply, reply);
    if (!plan.delayMs) return reply();
    delayed += 1;
    setTimeout(() => {
      reply();
      delayed -= 1;
      if (delayed === 0) for (const resolve of whenSettled.splice(0)) resolve();
    }, plan.delayMs);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (parse) chunks.push(chunk);
    });
    req.on('end', () => {
      stats.requests += 1;
      stats.lastBodyBytes = bytes;
      let body: unknown;
      if (parse) {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        onPayload?.(body);
      }
      if (record) {
        received.push(body);
        headers.push(req.headers);
      }
      answer(req, res, body);
    });
  });
  // Above undici's 4 s keep-alive, so the client, not the server, closes idle sockets.
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/crm/calls/webhook/is`,
    received,
    accepted,
    headers,
    stats,
    respond: (next) => {
      behaviour = next;
      offset = stats.requests;
    },
    settled: () => (delayed === 0 ? Promise.resolve() : new Promise<void>((resolve) => whenSettled.push(resolve))),
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
