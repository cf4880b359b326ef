/**
 * `npm run backfill` and `npm run replay` (contract §10) run as an operator runs them: child
 * processes with their settings in the environment, against s3rver (behind a proxy that
 * answers AbortMultipartUpload), the ElevenLabs API stand-in, the CRM server and the SQS
 * stand-in, all on 127.0.0.1.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createS3AudioStore } from '../../lambda/adapters/audio-store';
import { createS3EventArchive } from '../../lambda/adapters/event-archive';
import { prepareAudio } from '../../lambda/core/audio';
import { toCrmPayload } from '../../lambda/core/crm-payload';
import { parseEvent, type TranscriptionEvent } from '../../lambda/core/events';
import { archiveKey } from '../../lambda/core/storage-keys';
import { realCall } from '../../support/fixtures/real-calls';
import { sampleEvent } from '../../support/fixtures/samples';
import { silentMp3 } from '../../support/fixtures/silent-mp3';
import { type ElevenLabsApiStandIn, startElevenLabsApi } from '../../support/stand-ins/elevenlabs-api';
import { type FaultProxy, startFaultProxy } from '../../support/stand-ins/fault-proxy';
import { BUCKET, type LocalAws, startLocalAws } from '../helpers/local-aws';
import { runScript } from '../helpers/local-cli';

let local: LocalAws;
let s3: FaultProxy;
let api: ElevenLabsApiStandIn;

beforeAll(async () => {
  local = await startLocalAws();
  s3 = await startFaultProxy(local.s3.endpoint);
  s3.plan((_i, req) => (req.method === 'DELETE' && req.path.includes('uploadId=') ? { status: 204 } : 'pass'));
  api = await startElevenLabsApi();
});
afterAll(async () => {
  await Promise.all([s3.close(), api.close()]);
  await local.close();
});

async function run(script: 'backfill' | 'replay', args: string[], env: Record<string, string> = {}) {
  const { code, stdout, stderr } = await runScript(
    script,
    args,
    { ...process.env, AWS_ENDPOINT_URL_S3: s3.endpoint, ...env },
    { timeoutMs: 60_000 },
  );
  return { code, out: stdout, err: stderr };
}

const day = Date.parse('2026-11-20T00:00:00Z') / 1000;

describe('npm run backfill', () => {
  const backfillEnv = () => ({ AUDIO_BUCKET: BUCKET, ELEVENLABS_API_KEY: api.apiKey, ELEVENLABS_API_BASE_URL: api.baseUrl });
  /** The deployment's settings for the record half too (contract §12). */
  const callCheckEnv = () => ({
    ...backfillEnv(),
    ARCHIVE_EVENTS: 'true',
    CRM_WEBHOOK_URL: local.crm.url,
    CRM_MAX_ATTEMPTS: '1',
    CRM_RETRY_QUEUE_URL: local.retryQueueUrl,
  });
  const archive = createS3EventArchive({ bucket: BUCKET, forcePathStyle: true });
  const listed = (id: string, offset: number, agent = 'agent_bf') =>
    api.conversations.push({ conversation_id: id, agent_id: agent, start_time_unix_secs: day + offset });

  beforeEach(() => {
    api.conversations.length = 0;
    api.capPageSize(2);
    api.failListWith(undefined);
    api.listPlan(undefined);
    local.crm.respond({ status: 200 });
  });

  it('runs the call check for every conversation in the range, page by page: records, then recordings', async () => {
    const stored = prepareAudio({ conversation_id: 'conv_bf_stored', agent_id: 'agent_bf', full_audio: silentMp3(1).toString('base64') });
    await createS3AudioStore({ bucket: BUCKET, forcePathStyle: true }).put(stored, Date.now() + 10_000);
    for (const id of ['conv_bf_stored', 'conv_bf_none']) {
      await archive.put(
        { key: archiveKey('agent_bf', id, 'post_call_transcription'), body: '{}', conversationId: id, agentId: 'agent_bf' },
        Date.now() + 10_000,
      );
    }
    listed('conv_bf_stored', 100);
    listed('conv_bf_missed', 200);
    listed('conv_bf_none', 300);
    listed('conv_bf_outside', -100_000);
    const model = realCall({ conversationId: 'conv_bf_missed', agentId: 'agent_bf' }).data;
    api.models.set('conv_bf_missed', model);
    api.audio((id) => (id === 'conv_bf_missed' ? { kind: 'recording', bytes: 6 * 1024 * 1024 } : { kind: 'status', status: 404 }));
    const before = local.crm.accepted.length;
    const { code, out, err } = await run('backfill', ['--since', '2026-11-20', '--until', '2026-11-21'], callCheckEnv());
    expect(code).toBe(0);
    expect(out).toMatch(/conv_bf_stored +agent_bf +record: present, recording: stored/);
    expect(out).toMatch(/conv_bf_missed +agent_bf +record: RECOVERED \(held; sent to the CRM\), recording: recovered 6\.00 MiB/);
    expect(out).toMatch(/conv_bf_none +agent_bf +record: present, recording: unavailable \(ElevenLabs has no recording\)/);
    expect(out).not.toContain('conv_bf_outside');
    expect(out.trim().split('\n').at(-1)).toBe(
      'checked 3 conversation(s): records: 2 present, 1 recovered; recordings: 1 already stored, 1 recovered, 1 unavailable (6.00 MiB recovered); 0 failed or missing',
    );
    expect(local.crm.accepted.length - before).toBe(1);
    expect((await local.getObject('calls/agent_bf/conv_bf_missed/post_call_transcription.json'))?.metadata).toMatchObject({
      source: 'elevenlabs-api',
    });
    expect(err).toMatch(/^page 1: 2 conversation\(s\)\npage 2: 1 conversation\(s\)\n/);
    // The list was asked with the range (a second wider each side) and page size 100.
    const queries = api.requests.filter((r) => r.path === '/v1/convai/conversations');
    expect(queries[0]!.query).toMatchObject({
      call_start_after_unix: String(day - 1),
      call_start_before_unix: String(day + 86_401),
      page_size: '100',
    });
    expect(queries[1]!.query.cursor).toBe('2');
  });

  it('without ARCHIVE_EVENTS it checks recordings only; exits 1 when one could not be recovered, and a re-run picks it up', async () => {
    listed('conv_bf_flaky', 10);
    api.audio(() => ({ kind: 'status', status: 503 }));
    const first = await run('backfill', ['--since', '2026-11-20T00:00:00Z', '--until', '2026-11-21T00:00:00Z'], backfillEnv());
    expect(first.code).toBe(1);
    expect(first.out).toContain('(ARCHIVE_EVENTS is not true: records are not checked)');
    expect(first.out).toMatch(/conv_bf_flaky +agent_bf +recording: FAILED: ElevenLabs API answered HTTP 503 \(run again later\)/);
    api.audio(() => ({ kind: 'recording', bytes: 1000 }));
    const second = await run('backfill', ['--since', '2026-11-20', '--until', '2026-11-21'], backfillEnv());
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/conv_bf_flaky +agent_bf +recording: recovered/);
  });

  it('--dry-run fetches nothing and lists what is missing; --agent filters by agent', async () => {
    listed('conv_bf_dry', 10, 'agent_dry');
    listed('conv_bf_other', 20, 'agent_other');
    const before = api.requests.length;
    const { code, out } = await run(
      'backfill',
      ['--since', '2026-11-20', '--until', '2026-11-21', '--agent', 'agent_dry', '--dry-run'],
      callCheckEnv(),
    );
    expect(code).toBe(0);
    expect(out).toMatch(/conv_bf_dry +agent_dry +record: missing \(would recover\), recording: not stored \(would fetch\)/);
    expect(out).not.toContain('conv_bf_other');
    expect(api.requests.slice(before).map((r) => r.path)).toEqual(['/v1/convai/conversations']);
    expect(api.requests.at(-1)!.query.agent_id).toBe('agent_dry');
    expect(await local.getObject('audio/agent_dry/conv_bf_dry.mp3')).toBeUndefined();
  });

  it.each<[string, Parameters<ElevenLabsApiStandIn['listPlan']>[0], RegExp]>([
    [
      'has_more without a next_cursor',
      (n) => (n === 1 ? { kind: 'json', body: { conversations: [], has_more: true } } : undefined),
      /said there is more after page 2 but gave no cursor/,
    ],
    [
      'a cursor it gave before',
      (n) => (n === 1 ? { kind: 'json', body: { conversations: [], has_more: true, next_cursor: '2' } } : undefined),
      /returned a cursor it gave before/,
    ],
    ['the API failing mid-listing', (n) => (n === 1 ? { kind: 'raw', status: 503, body: '' } : undefined), /HTTP 503/],
  ])('a listing that ends early (%s) says INCOMPLETE and exits 1, after checking what it listed', async (_name, plan, reason) => {
    for (let i = 0; i < 4; i++) listed(`conv_bf_part_${i}`, 10 + i);
    api.audio(() => ({ kind: 'status', status: 404 }));
    api.listPlan(plan);
    const { code, out } = await run('backfill', ['--since', '2026-11-20', '--until', '2026-11-21'], backfillEnv());
    expect(code).toBe(1);
    expect(out).toMatch(/conv_bf_part_0 .*recording: unavailable/);
    const last = out.trim().split('\n').at(-1)!;
    expect(last).toMatch(/^INCOMPLETE: the listing ended early: /);
    expect(last).toMatch(reason);
  });

  it('prints what the API says escaped: an id with a newline or a terminal escape cannot forge a line', async () => {
    const forged = 'conv_x\n2026-11-20T00:00:00Z  conv_fake  agent_bf  recording: stored';
    const terminalEscape = 'conv_\u001b[2J\u001b[31mred\u202eevil';
    listed(forged, 10);
    listed(terminalEscape, 20);
    const { code, out } = await run('backfill', ['--since', '2026-11-20', '--until', '2026-11-21'], backfillEnv());
    expect(code).toBe(1);
    expect(out).not.toContain('\u001b');
    expect(out).not.toContain('\u202e');
    expect(out.split('\n').filter((line) => line.includes('conv_fake'))).toEqual([
      expect.stringMatching(
        /^2026-11-20T00:00:10Z {2}conv_x\\u\{a\}2026-11-20T00:00:00Z {2}conv_fake .*FAILED: its ids cannot name an S3 key$/,
      ),
    ]);
    expect(out).toContain('conv_\\u{1b}[2J\\u{1b}[31mred\\u{202e}evil');
  });

  it.each([
    ['no --since', [], {}, 2, /^backfill: --since is required/],
    ['a --since that is not a date', ['--since', 'last week'], {}, 2, /^backfill: --since must be a date/],
    ['an impossible date', ['--since', '2026-02-31'], {}, 2, /^backfill: --since is not a real date/],
    ['--since after --until', ['--since', '2026-11-21', '--until', '2026-11-20'], {}, 2, /^backfill: --since must be before --until/],
    ['a --since in the future', ['--since', '2999-01-01'], {}, 2, /^backfill: --since is in the future/],
    ['an unknown option', ['--since', '2026-11-20', '--everything'], {}, 2, /^backfill: unknown option --everything/],
    ['a hostile --agent', ['--since', '2026-11-20', '--agent', '../../etc'], {}, 2, /^backfill: --agent must be 1-128/],
    ['no API key', ['--since', '2026-11-20'], { ELEVENLABS_API_KEY: '' }, 2, /^backfill: no ElevenLabs API key/],
    ['no bucket', ['--since', '2026-11-20'], { AUDIO_BUCKET: '' }, 2, /^backfill: invalid settings: AUDIO_BUCKET is required/],
    [
      'ARCHIVE_EVENTS without a CRM',
      ['--since', '2026-11-20'],
      { ARCHIVE_EVENTS: 'true' },
      2,
      /^backfill: invalid settings: CRM_WEBHOOK_URL is required with ARCHIVE_EVENTS=true/,
    ],
    [
      '--local with no npm start running',
      ['--since', '2026-11-20', '--local'],
      { LOCAL_DATA_DIR: '/tmp/no-such-npm-start' },
      1,
      /^backfill: --local works against a running npm start/,
    ],
  ])('%s: one clear line, exit code as expected, no stack trace', async (_name, args, env, exitCode, pattern) => {
    const { code, err } = await run('backfill', args, { ...backfillEnv(), ...env });
    expect(code).toBe(exitCode);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err.trim()).toMatch(pattern);
  });

  it('an API that refuses connections: INCOMPLETE, exit 1', async () => {
    const { code, out } = await run('backfill', ['--since', '2026-11-20'], {
      ...backfillEnv(),
      ELEVENLABS_API_BASE_URL: 'http://127.0.0.1:1',
    });
    expect(code).toBe(1);
    expect(out.trim().split('\n').at(-1)).toMatch(
      /^INCOMPLETE: the listing ended early: could not list conversations \(page 1\): .*ECONNREFUSED/,
    );
  });
});

describe('npm run replay', () => {
  const archive = createS3EventArchive({ bucket: BUCKET, forcePathStyle: true });
  const replayEnv = () => ({ AUDIO_BUCKET: BUCKET, CRM_WEBHOOK_URL: local.crm.url, CRM_MAX_ATTEMPTS: '1' });

  /** Archives a transcription as the receiver would, and returns what today's rules make of it. */
  async function archived(conversationId: string, agentId = 'agent_rp') {
    const event = sampleEvent('transcription', { conversationId, agentId });
    const body = JSON.stringify(event);
    await archive.put(
      { key: archiveKey(agentId, conversationId, 'post_call_transcription'), body, conversationId, agentId },
      Date.now() + 10_000,
    );
    const mapping = { defaultSubject: 'Conversational AI call', subjectsByAgent: {}, defaultCountry: 'AU' as const };
    return toCrmPayload(parseEvent(JSON.parse(body)) as TranscriptionEvent, mapping);
  }

  beforeEach(() => local.crm.respond({ status: 200 }));

  it('finds the archived event without being told the agent, rebuilds the payload and forwards it', async () => {
    const expected = await archived('conv_rp_1');
    const before = local.crm.accepted.length;
    const { code, out } = await run('replay', ['--conversation', 'conv_rp_1'], replayEnv());
    expect(code).toBe(0);
    expect(out).toContain(`found s3://${BUCKET}/calls/agent_rp/conv_rp_1/post_call_transcription.json`);
    expect(out).toContain('forwarded to the CRM (1 attempt)');
    expect(local.crm.accepted.slice(before)).toEqual([expected]);
  });

  it('replays a record the call check recovered (archived as the API model, with no webhook envelope)', async () => {
    const event = sampleEvent('transcription', { conversationId: 'conv_rp_recovered', agentId: 'agent_rp' });
    const model = JSON.stringify(event.data);
    await archive.put(
      {
        key: archiveKey('agent_rp', 'conv_rp_recovered', 'post_call_transcription'),
        body: model,
        conversationId: 'conv_rp_recovered',
        agentId: 'agent_rp',
        source: 'elevenlabs-api',
      },
      Date.now() + 10_000,
    );
    const mapping = { defaultSubject: 'Conversational AI call', subjectsByAgent: {}, defaultCountry: 'AU' as const };
    const expected = toCrmPayload(parseEvent({ type: 'post_call_transcription', data: JSON.parse(model) }) as TranscriptionEvent, mapping);
    const before = local.crm.accepted.length;
    const { code, out } = await run('replay', ['--conversation', 'conv_rp_recovered'], replayEnv());
    expect(code).toBe(0);
    expect(out).toContain('forwarded to the CRM (1 attempt)');
    expect(local.crm.accepted.slice(before)).toEqual([expected]);
  });

  it('--dry-run sends nothing and shows the payload without personal data', async () => {
    const expected = await archived('conv_rp_dry');
    const before = local.crm.received.length;
    const { code, out } = await run('replay', ['--conversation', 'conv_rp_dry', '--agent', 'agent_rp', '--dry-run'], {
      AUDIO_BUCKET: BUCKET,
    });
    expect(code).toBe(0);
    expect(local.crm.received.length).toBe(before);
    expect(out).toContain(`status=${expected.status}`);
    expect(out).toContain('to=+********898');
    expect(out).toContain(`name=(${expected.name.length} chars)`);
    expect(out).toContain('dry run: nothing sent');
    for (const secret of [expected.name, expected.to, expected.summary.slice(0, 40)]) expect(out).not.toContain(secret);
  });

  it('queues the payload when the CRM fails, as the receiver does', async () => {
    await archived('conv_rp_queued');
    local.crm.respond({ status: 503 });
    const { code, out } = await run('replay', ['--conversation', 'conv_rp_queued'], {
      ...replayEnv(),
      CRM_RETRY_QUEUE_URL: local.retryQueueUrl,
    });
    expect(code).toBe(0);
    expect(out).toContain('the CRM failed (HTTP 503): queued for the retry worker');
    expect(local.aws.messages('crm-retry').map((m) => JSON.parse(m).conversationId)).toContain('conv_rp_queued');
  });

  it.each([
    [
      'the CRM fails and there is no queue',
      ['--conversation', 'conv_rp_nowhere'],
      1,
      /^replay: not delivered: CRM failed \(HTTP 503\); no retry queue configured$/,
    ],
    ['nothing is archived for it', ['--conversation', 'conv_rp_missing'], 1, /^replay: no archived event for conversation conv_rp_missing/],
    ['no --conversation', [], 2, /^replay: --conversation is required/],
    ['a hostile id', ['--conversation', '../secrets'], 2, /^replay: --conversation must be 1-128/],
    ['an unknown option', ['--conversation', 'c', '--force'], 2, /^replay: unknown option --force/],
  ])('%s: one clear line, exit code as expected, no stack trace', async (_name, args, exitCode, pattern) => {
    if (args[1] === 'conv_rp_nowhere') await archived('conv_rp_nowhere');
    local.crm.respond({ status: 503 });
    const { code, err } = await run('replay', args, replayEnv());
    expect(code).toBe(exitCode);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err.trim()).toMatch(pattern);
  });
});
