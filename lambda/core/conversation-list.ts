/**
 * Paging through ElevenLabs' conversation list for a window (contract §10 backfill, §12
 * reconciler), refusing to call a listing complete when it is not. The API is untrusted: a
 * cursor it already gave, `has_more: true` without a `next_cursor`, a refusal or a stall all
 * mean conversations of the window were never seen, and the caller must say so (a failed run,
 * a non-zero exit) rather than report "done".
 */
import { describeError } from './errors';
import type { ConversationListQuery, ConversationPage, ElevenLabsApi } from './ports';
import { callDeadline } from './time-budget';

/** ElevenLabs' largest page (its SDKs: "Can not exceed 100"). */
export const PAGE_SIZE = 100;
/** A guard against a list that never ends: 1,000,000 conversations. */
const MAX_PAGES = 10_000;

/** The listing ended before the end of the window; `reason` says why, in words safe to print and log. */
export class IncompleteListingError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'IncompleteListingError';
  }
}

export interface ListWindow {
  afterUnixSeconds: number;
  beforeUnixSeconds: number;
  agentId?: string;
}

/**
 * Every page of the window, in the API's order; throws `IncompleteListingError` as soon as the
 * listing cannot be completed. `deadlineMs` bounds the whole listing; each page also gets the
 * per-page limit of core/time-budget.ts.
 */
export async function* listConversations(
  api: ElevenLabsApi,
  window: ListWindow,
  apiKey: string,
  now: () => number,
  deadlineMs: number,
): AsyncGenerator<ConversationPage['conversations']> {
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 1; ; page++) {
    if (page > MAX_PAGES) throw new IncompleteListingError(`stopped after ${MAX_PAGES} pages: the conversation list does not end`);
    if (deadlineMs - now() <= 0) throw new IncompleteListingError(`ran out of time after ${page - 1} page(s)`);
    const query: ConversationListQuery = { ...window, pageSize: PAGE_SIZE, ...(cursor === undefined ? {} : { cursor }) };
    let listed: ConversationPage;
    try {
      listed = await api.listConversations(query, apiKey, callDeadline('conversationList', now(), deadlineMs));
    } catch (error) {
      throw new IncompleteListingError(`could not list conversations (page ${page}): ${describeError(error)}`);
    }
    yield listed.conversations;
    if (!listed.hasMore) return;
    if (listed.nextCursor === undefined) {
      throw new IncompleteListingError(`the conversation list said there is more after page ${page} but gave no cursor`);
    }
    if (seen.has(listed.nextCursor))
      throw new IncompleteListingError(`the conversation list returned a cursor it gave before (page ${page})`);
    seen.add(listed.nextCursor);
    cursor = listed.nextCursor;
  }
}
