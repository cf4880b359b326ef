/**
 * The ElevenLabs API (contract §10), with undici: the conversation's recording, streamed, and the
 * conversation list the backfill pages through. Paths, query names and the `xi-api-key` header
 * are those of ElevenLabs' own SDKs (`GET /v1/convai/conversations/{id}/audio`,
 * `GET /v1/convai/conversations?cursor&agent_id&call_start_after_unix&call_start_before_unix&page_size`).
 *
 * Bounded (contract §11): headers must arrive within ELEVENLABS_HEADERS_TIMEOUT_MS, each next chunk
 * of a body within ELEVENLABS_BODY_IDLE_TIMEOUT_MS, and the whole call is aborted at its deadline.
 */
import type { Dispatcher } from 'undici';
import * as z from 'zod';
import { DEFAULT_ELEVENLABS_API_BASE_URL } from '../core/audio-check';
import type { AudioAnswer, ConversationListQuery, ConversationPage, ElevenLabsApi } from '../core/ports';
import { callDeadline, ELEVENLABS_BODY_IDLE_TIMEOUT_MS, ELEVENLABS_HEADERS_TIMEOUT_MS } from '../core/time-budget';
import { abortSignalAt } from './deadline';
import { lazy } from './lazy';
import { cjsExports } from './load-module';

const USER_AGENT = 'elevenlabs-webhook-receiver/1 (audio recovery)';
/** Largest error body we read (then discard) so the connection can be reused. */
const MAX_ERROR_BODY_BYTES = 16 * 1024;

const loadUndici = lazy(async () => {
  const undici = cjsExports(await import('undici'));
  const agent = new undici.Agent({
    headersTimeout: ELEVENLABS_HEADERS_TIMEOUT_MS,
    bodyTimeout: ELEVENLABS_BODY_IDLE_TIMEOUT_MS,
    keepAliveTimeout: 4_000,
  });
  return { request: undici.request, agent: agent as Dispatcher };
});

/** The list answer, read tolerantly: ElevenLabs adds fields; we need three per conversation. */
const ConversationPageSchema = z.object({
  conversations: z.array(z.object({ conversation_id: z.string().min(1), agent_id: z.string().min(1), start_time_unix_secs: z.number() })),
  next_cursor: z.string().nullish(),
  has_more: z.boolean(),
});

/** A non-200 answer from the list endpoint. */
export class ElevenLabsApiError extends Error {
  constructor(readonly status: number) {
    super(`ElevenLabs API answered HTTP ${status}`);
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
  const origin = baseUrl.replace(/\/+$/, '');
  const get = async (path: string, apiKey: string, accept: string, deadlineMs: number) => {
    const { request, agent } = await loadUndici();
    return request(`${origin}${path}`, {
      method: 'GET',
      dispatcher: agent,
      headers: { 'xi-api-key': apiKey, accept, 'user-agent': USER_AGENT },
      signal: abortSignalAt(deadlineMs, now),
    });
  };
  return {
    async conversationAudio(conversationId, apiKey, deadlineMs): Promise<AudioAnswer> {
      const response = await get(`/v1/convai/conversations/${encodeURIComponent(conversationId)}/audio`, apiKey, 'audio/mpeg', deadlineMs);
      if (response.statusCode === 200) return { status: 200, body: response.body };
      await response.body.dump({ limit: MAX_ERROR_BODY_BYTES }).catch(() => undefined);
      return { status: response.statusCode };
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
        await response.body.dump({ limit: MAX_ERROR_BODY_BYTES }).catch(() => undefined);
        throw new ElevenLabsApiError(response.statusCode);
      }
      const page = ConversationPageSchema.parse(await response.body.json());
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
