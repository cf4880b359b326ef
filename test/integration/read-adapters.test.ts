/**
 * The adapters `npm run replay` and `npm run backfill` read with, in this process (the CLI
 * tests run them as child processes): the archive reader against s3rver, and the ElevenLabs
 * API client against the API stand-in, including the faults — a refused list, a body that is
 * not a page, and a server that accepts and never answers. 127.0.0.1 only.
 */
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3ArchiveReader } from '../../lambda/adapters/archive-reader';
import { createElevenLabsApi, ElevenLabsApiError } from '../../lambda/adapters/elevenlabs-api';
import { createS3EventArchive } from '../../lambda/adapters/event-archive';
import { archiveKey } from '../../lambda/core/storage-keys';
import { type BlackHole, startBlackHole } from '../../support/stand-ins/black-hole';
import { type ElevenLabsApiStandIn, startElevenLabsApi } from '../../support/stand-ins/elevenlabs-api';
import { withH2PreferringServer } from '../helpers/h2-preferring-server';
import { BUCKET, type LocalAws, startLocalAws } from '../helpers/local-aws';

let local: LocalAws;
let api: ElevenLabsApiStandIn;
let hole: BlackHole;

beforeAll(async () => {
  [local, api, hole] = await Promise.all([startLocalAws(), startElevenLabsApi(), startBlackHole()]);
});
afterAll(async () => {
  await Promise.all([api.close(), hole.close()]);
  await local.close();
});

const soon = () => Date.now() + 5_000;

describe('the archive reader (replay)', () => {
  const location = () => ({ bucket: BUCKET, forcePathStyle: true, endpoint: local.s3.endpoint });

  beforeAll(async () => {
    const archive = createS3EventArchive(location());
    const put = (agentId: string, conversationId: string, type: string, body: string) =>
      archive.put({ key: archiveKey(agentId, conversationId, type), body, conversationId, agentId, eventTimestamp: 1_764_000_000 }, soon());
    await put('agent_a', 'conv_both', 'call_initiation_failure', '{"type":"call_initiation_failure"}');
    await put('agent_a', 'conv_both', 'post_call_transcription', '{"type":"post_call_transcription"}');
    await put('agent_b', 'conv_failed', 'call_initiation_failure', '{"type":"call_initiation_failure","n":2}');
  });

  it.each([
    ['with the agent id, a transcription before a failure', 'conv_both', 'agent_a', 'calls/agent_a/conv_both/post_call_transcription.json'],
    ['without the agent id, by listing calls/', 'conv_both', undefined, 'calls/agent_a/conv_both/post_call_transcription.json'],
    ['a failure when that is all there is', 'conv_failed', undefined, 'calls/agent_b/conv_failed/call_initiation_failure.json'],
    ['with the agent id, the failure', 'conv_failed', 'agent_b', 'calls/agent_b/conv_failed/call_initiation_failure.json'],
  ])('finds %s', async (_name, conversationId, agentId, key) => {
    const found = await createS3ArchiveReader(location()).find(conversationId, agentId, soon());
    expect(found?.key).toBe(key);
    expect(JSON.parse(found?.body ?? '')).toHaveProperty('type');
  });

  it.each([
    ['an unknown conversation', 'conv_unknown', undefined],
    ['a known conversation under another agent', 'conv_both', 'agent_b'],
  ])('answers undefined for %s', async (_name, conversationId, agentId) => {
    expect(await createS3ArchiveReader(location()).find(conversationId, agentId, soon())).toBeUndefined();
  });

  it('fails on a bucket that does not exist rather than saying "not archived"', async () => {
    const reader = createS3ArchiveReader({ ...location(), bucket: 'no-such-bucket' });
    await expect(reader.find('conv_both', undefined, soon())).rejects.toThrow();
  });

  it('gives up at the deadline on an S3 that accepts and never answers', async () => {
    const reader = createS3ArchiveReader({ bucket: BUCKET, forcePathStyle: true, endpoint: hole.endpoint });
    const started = Date.now();
    await expect(reader.find('conv_both', 'agent_a', started + 300)).rejects.toThrow();
    expect(hole.connections()).toBeGreaterThan(0);
  });
});

describe('the ElevenLabs API client (backfill, audio worker)', () => {
  it('sends the list filters and the key, and maps a page', async () => {
    api.conversations.splice(0, api.conversations.length, {
      conversation_id: 'conv_1',
      agent_id: 'agent_a',
      start_time_unix_secs: 1_764_000_100,
    });
    const client = createElevenLabsApi({ baseUrl: `${api.baseUrl}/` });
    const page = await client.listConversations(
      { pageSize: 10, agentId: 'agent_a', afterUnixSeconds: 1_764_000_000, beforeUnixSeconds: 1_764_000_200, cursor: '0' },
      api.apiKey,
      soon(),
    );
    expect(page).toEqual({
      conversations: [{ conversationId: 'conv_1', agentId: 'agent_a', startTimeUnixSeconds: 1_764_000_100 }],
      hasMore: false,
    });
    expect(api.requests.at(-1)).toEqual({
      path: '/v1/convai/conversations',
      query: {
        page_size: '10',
        agent_id: 'agent_a',
        call_start_after_unix: '1764000000',
        call_start_before_unix: '1764000200',
        cursor: '0',
      },
      keyOk: true,
    });
  });

  it('passes the next cursor on', async () => {
    api.conversations.splice(
      0,
      api.conversations.length,
      ...[1, 2, 3].map((n) => ({ conversation_id: `conv_${n}`, agent_id: 'a', start_time_unix_secs: 1_764_000_000 + n })),
    );
    const page = await createElevenLabsApi({ baseUrl: api.baseUrl }).listConversations({ pageSize: 2 }, api.apiKey, soon());
    expect(page.hasMore).toBe(true);
    expect(page.nextCursor).toBe('2');
  });

  it.each([
    ['a refused key', 'sk_wrong', undefined, 401],
    ['an outage', undefined, 503, 503],
  ])('throws ElevenLabsApiError with the status on %s', async (_name, key, failure, status) => {
    api.failListWith(failure);
    try {
      const listing = createElevenLabsApi({ baseUrl: api.baseUrl }).listConversations({ pageSize: 1 }, key ?? api.apiKey, soon());
      await expect(listing).rejects.toThrow(ElevenLabsApiError);
      await expect(listing).rejects.toMatchObject({ status });
    } finally {
      api.failListWith(undefined);
    }
  });

  it.each([
    ['not JSON', '<html>maintenance</html>'],
    ['JSON that is not a page', '{"conversations":"none"}'],
  ])('rejects a list answer that is %s', async (_name, body) => {
    api.answerListWith(body);
    try {
      await expect(createElevenLabsApi({ baseUrl: api.baseUrl }).listConversations({ pageSize: 1 }, api.apiKey, soon())).rejects.toThrow();
    } finally {
      api.answerListWith(undefined);
    }
  });

  it('streams a recording and reports any other status without a body', async () => {
    api.audio((id) => (id === 'conv_rec' ? { kind: 'recording', bytes: 4_096 } : { kind: 'status', status: 404 }));
    const client = createElevenLabsApi({ baseUrl: api.baseUrl });
    const found = await client.conversationAudio('conv_rec', api.apiKey, soon());
    expect(found.status).toBe(200);
    let bytes = 0;
    for await (const chunk of found.body as AsyncIterable<Uint8Array>) bytes += chunk.length;
    expect(bytes).toBe(4_096);
    expect(await client.conversationAudio('conv/../none', api.apiKey, soon())).toEqual({ status: 404 });
    expect(api.requests.at(-1)?.path).toBe('/v1/convai/conversations/conv%2F..%2Fnone/audio');
  });

  it.each(['listConversations', 'conversationAudio'] as const)(
    '%s gives up at the deadline on an API that never answers',
    async (method) => {
      const client = createElevenLabsApi({ baseUrl: hole.endpoint });
      const deadline = Date.now() + 300;
      const call =
        method === 'listConversations'
          ? client.listConversations({ pageSize: 1 }, 'k', deadline)
          : client.conversationAudio('c', 'k', deadline);
      await expect(call).rejects.toThrow();
    },
  );
});

describe('the ElevenLabs API client over TLS, to a server that prefers HTTP/2', () => {
  // Held to HTTP/1.1 like the CRM client (scripts/lib/undici-http1-only.ts), and a base URL with
  // a path keeps it in front of every path.
  it('speaks HTTP/1.1', async () => {
    const paths: string[] = [];
    const respond = (req: Http2ServerRequest, res: Http2ServerResponse) => {
      paths.push(req.url);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ conversations: [], has_more: false }));
    };
    await withH2PreferringServer(respond, async (origin, versions) => {
      const page = await createElevenLabsApi({ baseUrl: `${origin}/eu/` }).listConversations({ pageSize: 1 }, 'k', soon());
      expect(page.conversations).toEqual([]);
      expect(versions).toEqual(['1.1']);
      expect(paths).toEqual(['/eu/v1/convai/conversations?page_size=1']);
    });
  });
});
