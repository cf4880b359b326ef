/**
 * contract §12, the reconciler, over in-memory ports: its window, its first-run marker, which
 * conversations get a call check, and which listings it refuses to call complete. The wired
 * Lambda against the API stand-in, s3rver and the SQS stand-in: test/integration/reconciler.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { listConversations } from '../../lambda/core/conversation-list';
import type { AudioCheckMessage, ConversationListQuery, ConversationPage, ElevenLabsApi } from '../../lambda/core/ports';
import { type ReconcileDeps, reconcile, reconcileWindow } from '../../lambda/core/reconcile';
import { requestBudget } from '../../lambda/core/time-budget';
import { NOW } from '../helpers/memory-ports';

const HOUR = 3600;
const nowSecs = Math.floor(NOW / 1000);
const settings = { lookbackHours: 48, settleMinutes: 30 };
const budget = requestBudget(NOW, undefined, 600_000);

describe('reconcileWindow', () => {
  it.each<[string, number, { afterUnixSeconds: number; beforeUnixSeconds: number } | undefined]>([
    [
      'first run long ago: the whole lookback',
      nowSecs - 30 * 24 * HOUR,
      { afterUnixSeconds: nowSecs - 48 * HOUR, beforeUnixSeconds: nowSecs - 1800 },
    ],
    [
      'first run a day ago: never before it',
      nowSecs - 24 * HOUR,
      { afterUnixSeconds: nowSecs - 24 * HOUR, beforeUnixSeconds: nowSecs - 1800 },
    ],
    ['the first run itself: empty', nowSecs, undefined],
    ['first run 10 minutes ago, inside the settle time: empty', nowSecs - 600, undefined],
    [
      'first run 31 minutes ago: one minute to list',
      nowSecs - 31 * 60,
      { afterUnixSeconds: nowSecs - 31 * 60, beforeUnixSeconds: nowSecs - 1800 },
    ],
  ])('%s', (_name, firstRun, expected) => {
    expect(reconcileWindow(NOW, firstRun, settings)).toEqual(expected);
  });

  it('uses its settings', () => {
    expect(reconcileWindow(NOW, 0, { lookbackHours: 1, settleMinutes: 5 })).toEqual({
      afterUnixSeconds: nowSecs - HOUR,
      beforeUnixSeconds: nowSecs - 300,
    });
  });
});

type Listed = ConversationPage['conversations'][number];
const conv = (n: number, agentId = 'agent_a'): Listed => ({
  conversationId: `conv_${n}`,
  agentId,
  startTimeUnixSeconds: nowSecs - 2 * HOUR,
});

/** An API that serves `pages` in order; a page may be an error, or override has_more / the cursor. */
function api(pages: (Listed[] | Error | { conversations: Listed[]; hasMore: boolean; nextCursor?: string })[]): ElevenLabsApi & {
  queries: ConversationListQuery[];
} {
  const queries: ConversationListQuery[] = [];
  return {
    queries,
    conversationAudio: async () => ({ status: 404 }),
    conversation: async () => ({ status: 404 }),
    listConversations: async (query) => {
      queries.push(query);
      const index = query.cursor === undefined ? 0 : Number(query.cursor);
      const page = pages[index];
      if (page instanceof Error) throw page;
      if (page && !Array.isArray(page)) return page;
      return {
        conversations: page ?? [],
        hasMore: index + 1 < pages.length,
        ...(index + 1 < pages.length ? { nextCursor: String(index + 1) } : {}),
      };
    },
  };
}

function deps(overrides: Partial<ReconcileDeps> & { recorded?: Set<string>; firstRun?: number } = {}) {
  const sent: AudioCheckMessage[] = [];
  const markerWrites: number[] = [];
  let marker = overrides.firstRun;
  const d: ReconcileDeps = {
    apiKey: { current: async () => 'sk_test' },
    elevenLabs: api([]),
    ledger: { hasRecord: async (_agent, id) => overrides.recorded?.has(id) ?? false },
    checks: {
      schedule: async (message, delaySeconds) => {
        expect(delaySeconds).toBe(0);
        sent.push(message);
      },
    },
    marker: {
      firstRun: async (nowUnixSeconds) => {
        if (marker === undefined) {
          marker = nowUnixSeconds;
          markerWrites.push(nowUnixSeconds);
        }
        return marker;
      },
    },
    now: () => NOW,
    ...overrides,
  };
  return { deps: d, sent, markerWrites };
}

const longAgo = nowSecs - 90 * 24 * HOUR;

describe('reconcile', () => {
  it('sends one call check for each listed conversation whose record is missing, none for those present', async () => {
    const world = deps({
      elevenLabs: api([
        [conv(1), conv(2)],
        [conv(3), conv(4, 'agent_b')],
      ]),
      recorded: new Set(['conv_2']),
      firstRun: longAgo,
    });
    const result = await reconcile(world.deps, settings, budget);
    expect(result).toMatchObject({ kind: 'done', counts: { listed: 4, scheduled: 3, present: 1, repeated: 0, failed: 0 } });
    expect(world.sent).toEqual([
      { conversationId: 'conv_1', agentId: 'agent_a', eventTimestamp: nowSecs - 2 * HOUR },
      { conversationId: 'conv_3', agentId: 'agent_a', eventTimestamp: nowSecs - 2 * HOUR },
      { conversationId: 'conv_4', agentId: 'agent_b', eventTimestamp: nowSecs - 2 * HOUR },
    ]);
  });

  it('leaves alone what it was not asked for: other agents (ALLOWED_AGENT_IDS) and calls outside its window', async () => {
    const early = { ...conv(5), startTimeUnixSeconds: nowSecs - 60 * HOUR };
    const unsettled = { ...conv(6), startTimeUnixSeconds: nowSecs - 60 };
    const world = deps({
      elevenLabs: api([[conv(1), conv(2, 'agent_test'), early, unsettled]]),
      firstRun: longAgo,
      allowedAgentIds: new Set(['agent_a']),
    });
    const result = await reconcile(world.deps, settings, budget);
    expect(result).toMatchObject({ kind: 'done', counts: { listed: 4, scheduled: 1, skipped: 3, failed: 0 } });
    expect(world.sent.map((m) => m.conversationId)).toEqual(['conv_1']);
  });

  it('a first-run marker far in the future fails the run (it would keep every window empty)', async () => {
    const world = deps({ elevenLabs: api([[conv(1)]]), firstRun: nowSecs + 2 * 24 * HOUR });
    const result = await reconcile(world.deps, settings, budget);
    expect(result).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/first run is in the future .*fix or delete it/) });
    expect(world.sent).toEqual([]);
    // Within an hour of this run's clock is skew, not an error.
    expect(await reconcile(deps({ firstRun: nowSecs + 600 }).deps, settings, budget)).toMatchObject({ kind: 'nothing_to_list' });
  });

  it('lists exactly its window, page by page, 100 at a time', async () => {
    const listing = api([[conv(1)], [conv(2)]]);
    await reconcile(deps({ elevenLabs: listing, firstRun: longAgo }).deps, settings, budget);
    expect(listing.queries).toEqual([
      { afterUnixSeconds: nowSecs - 48 * HOUR, beforeUnixSeconds: nowSecs - 1800, pageSize: 100 },
      { afterUnixSeconds: nowSecs - 48 * HOUR, beforeUnixSeconds: nowSecs - 1800, pageSize: 100, cursor: '1' },
    ]);
  });

  it('the first run writes its marker and lists nothing (a new deployment does not resend older calls)', async () => {
    const listing = api([[conv(1)]]);
    const world = deps({ elevenLabs: listing });
    expect(await reconcile(world.deps, settings, budget)).toEqual({ kind: 'nothing_to_list', firstRunUnixSecs: nowSecs });
    expect(world.markerWrites).toEqual([nowSecs]);
    expect(listing.queries).toEqual([]);
  });

  it('no API key (or the empty placeholder): reconciling is off, which is not a failure', async () => {
    const listing = api([[conv(1)]]);
    const world = deps({ elevenLabs: listing, apiKey: { current: async () => undefined } });
    expect(await reconcile(world.deps, settings, budget)).toEqual({ kind: 'off' });
    expect([listing.queries, world.markerWrites]).toEqual([[], []]);
  });

  it('checks a conversation listed twice (the list moved under the cursor) once', async () => {
    const world = deps({
      elevenLabs: api([
        [conv(1), conv(2)],
        [conv(2), conv(3)],
      ]),
      firstRun: longAgo,
    });
    expect(await reconcile(world.deps, settings, budget)).toMatchObject({ kind: 'done', counts: { listed: 4, scheduled: 3, repeated: 1 } });
  });

  it.each<[string, Parameters<typeof api>[0], RegExp, number]>([
    [
      'has_more without a next_cursor',
      [{ conversations: [conv(1)], hasMore: true }],
      /said there is more after page 1 but gave no cursor/,
      1,
    ],
    // The cursor leads back to the first page, which gives the same cursor again.
    ['a repeated cursor', [{ conversations: [conv(1)], hasMore: true, nextCursor: '0' }], /returned a cursor it gave before \(page 2\)/, 2],
    [
      'the API refusing',
      [[conv(1)], new Error('ElevenLabs API answered HTTP 401')],
      /could not list conversations \(page 2\): Error: ElevenLabs API answered HTTP 401/,
      1,
    ],
  ])('a listing that ends early (%s) fails the run, after checking what it listed', async (_name, pages, reason, listed) => {
    const world = deps({ elevenLabs: api(pages), firstRun: longAgo });
    const result = await reconcile(world.deps, settings, budget);
    expect(result).toMatchObject({ kind: 'failed', reason: expect.stringMatching(reason), counts: { listed, scheduled: 1 } });
  });

  it.each([
    ['a conversation id with a slash', conv(1), { conversationId: 'conv/../x', agentId: 'agent_a', startTimeUnixSeconds: nowSecs - HOUR }],
    ['an agent id that is too long', conv(1), { conversationId: 'conv_9', agentId: 'a'.repeat(200), startTimeUnixSeconds: nowSecs - HOUR }],
  ])('%s cannot name an archive key: the rest is checked, the run fails', async (_name, good, bad) => {
    const world = deps({ elevenLabs: api([[good, bad]]), firstRun: longAgo });
    expect(await reconcile(world.deps, settings, budget)).toMatchObject({ kind: 'failed', counts: { listed: 2, scheduled: 1, failed: 1 } });
    expect(world.sent.map((m) => m.conversationId)).toEqual(['conv_1']);
  });

  it('a check that cannot be sent fails the run (the next run tries the window again)', async () => {
    const world = deps({ elevenLabs: api([[conv(1), conv(2)]]), firstRun: longAgo });
    world.deps.checks = { schedule: async (m) => (m.conversationId === 'conv_2' ? Promise.reject(new Error('SQS down')) : undefined) };
    expect(await reconcile(world.deps, settings, budget)).toMatchObject({ kind: 'failed', counts: { scheduled: 1, failed: 1 } });
  });

  it('an unreadable marker fails the run before listing', async () => {
    const listing = api([[conv(1)]]);
    const world = deps({ elevenLabs: listing, marker: { firstRun: async () => Promise.reject(new Error('marker is not JSON')) } });
    expect(await reconcile(world.deps, settings, budget)).toMatchObject({ kind: 'failed', reason: 'Error: marker is not JSON' });
    expect(listing.queries).toEqual([]);
  });

  it('keeps at most 16 ledger checks in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const world = deps({ elevenLabs: api([Array.from({ length: 100 }, (_, i) => conv(i))]), firstRun: longAgo });
    world.deps.ledger = {
      hasRecord: async () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
        return true;
      },
    };
    expect(await reconcile(world.deps, settings, budget)).toMatchObject({ counts: { present: 100 } });
    expect(most).toBe(16);
  });
});

describe('listConversations', () => {
  it('stops with an incomplete listing when out of time', async () => {
    let clock = NOW;
    const pages = listConversations(
      api([[conv(1)], [conv(2)]]),
      { afterUnixSeconds: 0, beforeUnixSeconds: 1 },
      'k',
      () => clock,
      NOW + 1000,
    );
    expect((await pages.next()).value).toEqual([conv(1)]);
    clock += 2000;
    await expect(pages.next()).rejects.toThrow('ran out of time after 1 page(s)');
  });
});
