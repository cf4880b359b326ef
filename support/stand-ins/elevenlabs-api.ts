/**
 * A stand-in for the ElevenLabs API on 127.0.0.1 (`http.createServer`, port 0), answering the
 * three endpoints the audio worker, the reconciler and the backfill use, as ElevenLabs' SDKs
 * describe them:
 * - `GET /v1/convai/conversations/{id}/audio` → `audio/mpeg`, streamed (chunked);
 * - `GET /v1/convai/conversations/{id}` → the conversation model (JSON);
 * - `GET /v1/convai/conversations?cursor&agent_id&call_start_after_unix&call_start_before_unix&page_size`
 *   → `{conversations: [...], next_cursor, has_more}`.
 * All need the `xi-api-key` header. Answers are scripted per conversation, including the hostile
 * ones real APIs and proxies produce: a recording of N bytes (generated while streaming, never
 * held whole), a status code with headers, a 200 that is not what was asked for (an HTML page, a
 * JSON error, nothing), a connection dropped after N bytes, a body that never ends, or a hang.
 * Shared by the tests, the benchmark and `npm start`'s demos.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { silentMp3Chunks } from '../fixtures/silent-mp3';

export type AudioAnswer =
  /** A recording of `bytes` bytes, sent `chunkBytes` at a time; `chunkDelayMs` between chunks. */
  | { kind: 'recording'; bytes: number; chunkBytes?: number; chunkDelayMs?: number }
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  /** Status 200 and `bytes` bytes of the recording (of `ofBytes`), then the connection is destroyed. */
  | { kind: 'drop'; afterBytes: number; ofBytes: number }
  /** Accept and never answer. */
  | { kind: 'hang' }
  /** Any status, content type and body (e.g. a 200 that is an HTML page, a JSON error or empty). */
  | { kind: 'raw'; status: number; contentType?: string; body: string | Buffer };

/** The answer to `GET /v1/convai/conversations/{id}`; by default the model in `models`, else 404. */
export type ConversationJsonAnswer =
  | { kind: 'json'; body: unknown }
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  | { kind: 'raw'; status: number; contentType?: string; body: string | Buffer }
  /** 200 and a body that never ends (until the client gives up). */
  | { kind: 'endless' }
  | { kind: 'hang' };

/** Replaces one answer of the list endpoint (the `n`-th request, from 0), e.g. a hostile page. */
export type ListAnswer =
  | { kind: 'json'; body: unknown }
  | { kind: 'raw'; status: number; body: string }
  | { kind: 'hang' }
  | { kind: 'endless' };

export interface ConversationSummary {
  conversation_id: string;
  agent_id: string;
  start_time_unix_secs: number;
  call_duration_secs?: number;
  status?: string;
}

export interface ElevenLabsApiStandIn {
  /** The API origin, e.g. `http://127.0.0.1:43121` (ELEVENLABS_API_BASE_URL). */
  baseUrl: string;
  apiKey: string;
  /** Decide the audio answer per conversation id (default: 404, as for a call without a recording). */
  audio(answer: (conversationId: string) => AudioAnswer): void;
  /** The conversation models `GET /v1/convai/conversations/{id}` answers with, by id. */
  models: Map<string, unknown>;
  /** Decide the conversation answer per id instead (default: the model in `models`, else 404). */
  conversation(answer: ((conversationId: string) => ConversationJsonAnswer | undefined) | undefined): void;
  /** Replace list answers: return undefined to serve the normal page. */
  listPlan(plan: ((requestIndex: number, query: Record<string, string>) => ListAnswer | undefined) | undefined): void;
  /** The conversations the list endpoint pages through (newest first, as ElevenLabs lists them). */
  conversations: ConversationSummary[];
  /** Every request: method, path, query, whether the right key came. */
  requests: { path: string; query: Record<string, string>; keyOk: boolean }[];
  /** Answer the list endpoint with this status instead (e.g. 503), until cleared. */
  failListWith(status: number | undefined): void;
  /** Answer the list endpoint 200 with this body instead (e.g. not JSON), until cleared. */
  answerListWith(body: string | undefined): void;
  /** Serve at most this many conversations per page (to exercise paging with a few). */
  capPageSize(size: number | undefined): void;
  /** Bytes of audio sent so far (all requests). */
  bytesSent(): number;
  close(): Promise<void>;
}

export async function startElevenLabsApi(apiKey = 'sk_test_standin_key'): Promise<ElevenLabsApiStandIn> {
  let decide: (conversationId: string) => AudioAnswer = () => ({ kind: 'status', status: 404 });
  let decideConversation: ((conversationId: string) => ConversationJsonAnswer | undefined) | undefined;
  let listPlanned: ((requestIndex: number, query: Record<string, string>) => ListAnswer | undefined) | undefined;
  let listRequests = 0;
  const models = new Map<string, unknown>();
  let listFailure: number | undefined;
  let listBody: string | undefined;
  let pageCap: number | undefined;
  let sentBytes = 0;
  const conversations: ConversationSummary[] = [];
  const requests: ElevenLabsApiStandIn['requests'] = [];
  const sockets = new Set<Socket>();

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const streamRecording = async (res: ServerResponse, total: number, limit: number, chunkBytes: number, delayMs: number) => {
    res.writeHead(200, { 'content-type': 'audio/mpeg' }); // no content-length: chunked, as ElevenLabs streams it
    let sent = 0;
    for (const chunk of silentMp3Chunks(total, chunkBytes)) {
      if (res.destroyed) return;
      const piece = sent + chunk.length > limit ? chunk.subarray(0, limit - sent) : chunk;
      sent += piece.length;
      sentBytes += piece.length;
      if (!res.write(piece)) await new Promise((resolve) => res.once('drain', resolve));
      if (sent >= limit) break;
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    if (limit < total) {
      // Give the bytes a moment to leave, then drop the connection mid-body.
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    res.end();
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const keyOk = req.headers['xi-api-key'] === apiKey;
    requests.push({ path: url.pathname, query: Object.fromEntries(url.searchParams), keyOk });
    req.resume();
    if (!keyOk) return json(res, 401, { detail: { status: 'invalid_api_key', message: 'Invalid API key' } });

    const audio = /^\/v1\/convai\/conversations\/([^/]+)\/audio$/.exec(url.pathname);
    if (req.method === 'GET' && audio) {
      const answer = decide(decodeURIComponent(audio[1]!));
      switch (answer.kind) {
        case 'recording':
          return void streamRecording(res, answer.bytes, answer.bytes, answer.chunkBytes ?? 64 * 1024, answer.chunkDelayMs ?? 0);
        case 'drop':
          return void streamRecording(res, answer.ofBytes, answer.afterBytes, 16 * 1024, 0);
        case 'status':
          return json(res, answer.status, { detail: { status: `http_${answer.status}` } }, answer.headers);
        case 'hang':
          return;
        case 'raw':
          return raw(res, answer.status, answer.contentType, answer.body);
      }
    }
    const conversation = /^\/v1\/convai\/conversations\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && conversation) {
      const id = decodeURIComponent(conversation[1]!);
      const answer = decideConversation?.(id) ?? (models.has(id) ? { kind: 'json', body: models.get(id) } : undefined);
      if (!answer) return json(res, 404, { detail: { status: 'conversation_not_found' } });
      return answerWith(res, answer);
    }
    if (req.method === 'GET' && url.pathname === '/v1/convai/conversations') {
      const planned = listPlanned?.(listRequests++, Object.fromEntries(url.searchParams));
      if (planned) return answerWith(res, planned);
      if (listFailure) return json(res, listFailure, { detail: { status: 'unavailable' } });
      if (listBody !== undefined) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(listBody);
      }
      const pageSize = Math.min(100, pageCap ?? 100, Number(url.searchParams.get('page_size') ?? 30));
      const after = Number(url.searchParams.get('call_start_after_unix') ?? Number.NEGATIVE_INFINITY);
      const before = Number(url.searchParams.get('call_start_before_unix') ?? Number.POSITIVE_INFINITY);
      const agent = url.searchParams.get('agent_id');
      const matching = conversations.filter(
        (c) => c.start_time_unix_secs > after && c.start_time_unix_secs < before && (!agent || c.agent_id === agent),
      );
      const start = Number(url.searchParams.get('cursor') ?? 0);
      const page = matching.slice(start, start + pageSize);
      const hasMore = start + pageSize < matching.length;
      return json(res, 200, { conversations: page, next_cursor: hasMore ? String(start + pageSize) : null, has_more: hasMore });
    }
    json(res, 404, { detail: { status: 'not_found' } });
  });
  const raw = (res: ServerResponse, status: number, contentType: string | undefined, body: string | Buffer) => {
    res.writeHead(status, contentType === undefined ? {} : { 'content-type': contentType });
    res.end(body);
  };
  /** The shared answer kinds of the JSON endpoints. */
  const answerWith = (res: ServerResponse, answer: ConversationJsonAnswer | ListAnswer) => {
    switch (answer.kind) {
      case 'json':
        return json(res, 200, answer.body);
      case 'status':
        return json(res, answer.status, { detail: { status: `http_${answer.status}` } }, answer.headers);
      case 'raw':
        return raw(res, answer.status, 'contentType' in answer ? answer.contentType : 'application/json', answer.body);
      case 'endless':
        return void endless(res);
      case 'hang':
        return;
    }
  };
  /** `{"conversations":[` and then more of the same, 64 KiB at a time, until the client leaves. */
  const endless = async (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"conversations":[');
    const chunk = Buffer.from('{"conversation_id":"c","agent_id":"a","start_time_unix_secs":1},'.repeat(1000));
    while (!res.destroyed) {
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
    }
  };

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    apiKey,
    audio: (next) => {
      decide = next;
    },
    models,
    conversation: (next) => {
      decideConversation = next;
    },
    listPlan: (plan) => {
      listPlanned = plan;
      listRequests = 0;
    },
    conversations,
    requests,
    failListWith: (status) => {
      listFailure = status;
    },
    answerListWith: (body) => {
      listBody = body;
    },
    capPageSize: (size) => {
      pageCap = size;
    },
    bytesSent: () => sentBytes,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
