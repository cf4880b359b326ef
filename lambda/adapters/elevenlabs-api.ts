/**
 * The ElevenLabs API (contract §10, §12), with undici: the conversation's recording, streamed;
 * the conversation itself (the model the transcription webhook carries); and the conversation
 * list the reconciler and the backfill page through. Paths, query names and the `xi-api-key`
 * header are those of ElevenLabs' own SDKs (`GET /v1/convai/conversations/{id}/audio`,
 * `GET /v1/convai/conversations/{id}`,
 * `GET /v1/convai/conversations?cursor&agent_id&call_start_after_unix&call_start_before_unix&page_size`).
 *
 * Bounded (contract §11): headers must arrive within ELEVENLABS_HEADERS_TIMEOUT_MS, each next chunk
 * of a body within ELEVENLABS_BODY_IDLE_TIMEOUT_MS, and the whole call is aborted at its deadline.
 * The API is untrusted input: a JSON answer is read up to a size bound and no further (an
 * endless body ends the call), and redirects are not followed (undici's default), so the API
 * key is never sent to another origin.
 */
import type { Dispatcher } from 'undici';
import * as z from 'zod/mini';
import '../core/zod-messages';
import { DEFAULT_ELEVENLABS_API_BASE_URL } from '../core/audio-check';
import type { AudioAnswer, ConversationAnswer, ConversationListQuery, ConversationPage, ElevenLabsApi } from '../core/ports';
import { callDeadline, ELEVENLABS_BODY_IDLE_TIMEOUT_MS, ELEVENLABS_HEADERS_TIMEOUT_MS } from '../core/time-budget';
import { abortSignalAt } from './deadline';
import { lazy } from './lazy';

const USER_AGENT = 'elevenlabs-webhook-receiver/1 (audio recovery)';
/** Largest error body we read (then discard) so the connection can be reused. */
const MAX_ERROR_BODY_BYTES = 16 * 1024;
/**
 * Largest conversation JSON read. A transcription webhook is at most Lambda's 6 MB; the API's
 * model of a long call with tool results is bigger but not by orders (tool attributes are cut
 * at 4 KB, NOTES.md), so 32 MiB holds any real call and stops an endless body early.
 */
const MAX_CONVERSATION_BYTES = 32 * 1024 * 1024;
/** Largest page of the conversation list: 100 summaries are tens of KB. */
const MAX_PAGE_BYTES = 4 * 1024 * 1024;

const loadUndici = lazy(async () => {
  const { Agent, request } = await import('./undici-request');
  const agent = new Agent({
    headersTimeout: ELEVENLABS_HEADERS_TIMEOUT_MS,
    bodyTimeout: ELEVENLABS_BODY_IDLE_TIMEOUT_MS,
    keepAliveTimeout: 4_000,
    // HTTP/1.1 only, whatever undici's default: the bundles leave its HTTP/2 client out
    // (scripts/lib/undici-http1-only.ts).
    allowH2: false,
  });
  return { request, agent };
});

/** The list answer, read tolerantly: ElevenLabs adds fields; we need three per conversation. */
const ConversationPageSchema = z.object({
  conversations: z.array(
    z.object({
      conversation_id: z.string().check(z.minLength(1)),
      agent_id: z.string().check(z.minLength(1)),
      start_time_unix_secs: z.number(),
    }),
  ),
  next_cursor: z.nullish(z.string()),
  has_more: z.boolean(),
});

/** A non-200 answer from the list endpoint, or a 200 that is not a conversation list. */
export class ElevenLabsApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ElevenLabsApiError';
  }
}

export function createElevenLabsApi({
  baseUrl = DEFAULT_ELEVENLABS_API_BASE_URL,
  now = Date.now,
}: {
  baseUrl?: string;
  now?: () => number;
} = {}): ElevenLabsApi {
  const base = new URL(baseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  const get = async (path: string, apiKey: string, accept: string, deadlineMs: number) => {
    const { request, agent } = await loadUndici();
    return request(agent, {
      origin: base.origin,
      path: `${prefix}${path}`,
      method: 'GET',
      headers: { 'xi-api-key': apiKey, accept, 'user-agent': USER_AGENT },
      signal: abortSignalAt(deadlineMs, now),
    });
  };
  const conversationPath = (conversationId: string) => `/v1/convai/conversations/${encodeURIComponent(conversationId)}`;
  return {
    async conversationAudio(conversationId, apiKey, deadlineMs): Promise<AudioAnswer> {
      const response = await get(`${conversationPath(conversationId)}/audio`, apiKey, 'audio/mpeg', deadlineMs);
      if (response.statusCode === 200) return { status: 200, body: response.body, contentType: header(response.headers['content-type']) };
      return refused(response);
    },

    async conversation(conversationId, apiKey, deadlineMs): Promise<ConversationAnswer> {
      const response = await get(conversationPath(conversationId), apiKey, 'application/json', deadlineMs);
      if (response.statusCode !== 200) return refused(response);
      return { status: 200, body: await readAtMost(response.body, MAX_CONVERSATION_BYTES) };
    },

    async listConversations(query: ConversationListQuery, apiKey, deadlineMs): Promise<ConversationPage> {
      const params = new URLSearchParams({ page_size: String(query.pageSize) });
      if (query.cursor !== undefined) params.set('cursor', query.cursor);
      if (query.agentId !== undefined) params.set('agent_id', query.agentId);
      if (query.afterUnixSeconds !== undefined) params.set('call_start_after_unix', String(query.afterUnixSeconds));
      if (query.beforeUnixSeconds !== undefined) params.set('call_start_before_unix', String(query.beforeUnixSeconds));
      const bound = callDeadline('conversationList', now(), deadlineMs);
      const response = await get(`/v1/convai/conversations?${params}`, apiKey, 'application/json', bound);
      if (response.statusCode !== 200) {
        await refused(response);
        throw new ElevenLabsApiError(`ElevenLabs API answered HTTP ${response.statusCode}`, response.statusCode);
      }
      const page = parsePage(await readAtMost(response.body, MAX_PAGE_BYTES));
      return {
        conversations: page.conversations.map((c) => ({
          conversationId: c.conversation_id,
          agentId: c.agent_id,
          startTimeUnixSeconds: c.start_time_unix_secs,
        })),
        ...(page.next_cursor ? { nextCursor: page.next_cursor } : {}),
        hasMore: page.has_more,
      };
    },
  };
}

/** A non-200 answer: its body drained (bounded) so the connection can be reused, its Retry-After kept. */
async function refused(response: Dispatcher.ResponseData): Promise<{ status: number; retryAfter?: string }> {
  await response.body.dump({ limit: MAX_ERROR_BODY_BYTES }).catch(() => undefined);
  const retryAfter = header(response.headers['retry-after']);
  return { status: response.statusCode, ...(retryAfter === undefined ? {} : { retryAfter }) };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The whole body, or an error as soon as it passes `limit` bytes (the rest is never read). */
async function readAtMost(body: Dispatcher.ResponseData['body'], limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    bytes += (chunk as Buffer).length;
    if (bytes > limit) {
      body.destroy();
      throw new Error(`ElevenLabs API answer is larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, bytes);
}

function parsePage(bytes: Buffer) {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ElevenLabsApiError('ElevenLabs API answered a conversation list that is not JSON', 200);
  }
  const page = ConversationPageSchema.safeParse(json);
  if (!page.success) {
    const path = page.error.issues[0]?.path.join('.') || '(root)';
    throw new ElevenLabsApiError(`ElevenLabs API answered a conversation list of the wrong shape (at ${path})`, 200);
  }
  return page.data;
}
