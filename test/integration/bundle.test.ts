/**
 * The artefacts `npm run build` writes (contract §9), imported as Lambda would import them: the
 * ESM entry, its lazy chunks (undici, the S3 and SQS clients) and the createRequire banner.
 * `npm test` builds first, so these are the bundles that would be deployed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyResult, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSignatureHeader } from '../../lambda/core/verify-signature';
import { LAMBDAS } from '../../scripts/build';
import { apiGatewayEvent } from '../../support/api-gateway-event';
import { sampleEvent } from '../../support/fixtures/samples';
import { captureStdout, jsonLines } from '../helpers/capture-stdout';
import { type LocalAws, startLocalAws } from '../helpers/local-aws';

const SECRET = 'wsec_bundle_secret';
let local: LocalAws;

describe('the Node.js these bundles run on', () => {
  // `npm run test:node24` sets EXPECT_NODE_MAJOR=24 so a run that silently fell back to the
  // machine's Node cannot pass as a Node 24 run.
  it('is the one the run asked for', () => {
    const expected = process.env.EXPECT_NODE_MAJOR ?? process.versions.node.split('.')[0];
    expect(process.versions.node.split('.')[0]).toBe(expected);
  });
});

beforeAll(async () => {
  local = await startLocalAws();
  local.aws.secrets.set(local.env.WEBHOOK_SECRET_ARN!, SECRET);
});
afterAll(() => local.close());

/** Imports a fresh copy of a bundle with `env` as its process environment at import time. */
async function importBundle<T>(name: string, env: Record<string, string>): Promise<T> {
  const file = new URL(`../../dist/${name}/index.mjs`, import.meta.url);
  expect(existsSync(file), `dist/${name}/index.mjs exists (run npm run build)`).toBe(true);
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const module = await import(`${pathToFileURL(file.pathname).href}?fresh=${Math.random()}`);
    return module.handler as T;
  } finally {
    process.env = saved;
  }
}

function signed(event: object) {
  const body = JSON.stringify(event);
  return apiGatewayEvent(body, { 'elevenlabs-signature': formatSignatureHeader(SECRET, Math.floor(Date.now() / 1000), body) });
}

describe('the SDK clients in the bundles', () => {
  // scripts/build.ts bundles the SDK's ES modules and lambda/adapters/sdk/ names the commands we
  // send, so the rest of each client is tree-shaken away (bench figures 1 and 2d). Operation names
  // the receiver never calls must not be in it; bundled from CommonJS, or loaded with a namespace
  // import of the package, every one of them is.
  it.each(['DeleteQueue', 'ReceiveMessage', 'ListSecrets', 'Scan', 'DeleteTable'])('the receiver does not carry %s', (operation) => {
    const dir = new URL('../../dist/receiver/chunks/', import.meta.url);
    const code = readdirSync(dir)
      .filter((file) => file.endsWith('.mjs'))
      .map((file) => readFileSync(new URL(file, dir), 'utf8'))
      .join('\n');
    expect(code).toContain('"SendMessage"');
    expect(code).not.toContain(`"${operation}"`);
  });
});

describe('undici in the receiver', () => {
  // lambda/adapters/undici-request.ts loads undici's Agent and request alone: the package's index
  // would bring its mocks, cache stores and EventSource into the first event's chunk too (bench
  // figure 9, issue 20).
  it.each(['MockNotMatchedError', 'SqliteCacheStore', 'EventSource'])('the receiver does not carry %s', (name) => {
    const dir = new URL('../../dist/receiver/chunks/', import.meta.url);
    const code = readdirSync(dir)
      .filter((file) => file.endsWith('.mjs'))
      .map((file) => readFileSync(new URL(file, dir), 'utf8'))
      .join('\n');
    expect(code).toContain('UND_ERR_HEADERS_TIMEOUT');
    expect(code).not.toContain(name);
  });
});

/** The code of a bundle: its entry and every lazy chunk beside it. */
function bundleCode(name: string): string {
  const dir = new URL(`../../dist/${name}/`, import.meta.url);
  const chunks = new URL('chunks/', dir);
  return [
    readFileSync(new URL('index.mjs', dir), 'utf8'),
    ...readdirSync(chunks)
      .filter((file) => file.endsWith('.mjs'))
      .map((file) => readFileSync(new URL(file, chunks), 'utf8')),
  ].join('\n');
}

describe('zod in the bundles', () => {
  // lambda/ parses with zod/mini (lambda/core/zod-messages.ts): the classic API costs the
  // receiver's INIT ~25 ms more CPU to load and build its schemas, and every entry ~50 KiB
  // (SPEC §14, issue 20). One classic import anywhere in lambda/ would bring it all back.
  it.each(Object.keys(LAMBDAS))('dist/%s carries zod/mini, not the classic API', (name) => {
    const code = bundleCode(name);
    expect(code.includes('"ZodMiniObject"'), 'zod/mini is in the bundle').toBe(true);
    expect(code.includes('"ZodObject"'), "zod's classic API is in the bundle").toBe(false);
  });
});

describe("undici's HTTP/2 client and fetch", () => {
  // scripts/lib/undici-http1-only.ts leaves the HTTP/2 client (and node:http2) and fetch's
  // FormData encoder out, and adapters/undici-request.ts loads Agent and request without the
  // package's index (fetch, WebSocket, the caches). If an undici release moves a file, the
  // plugin no longer matches and this notices.
  const carriers = (Object.keys(LAMBDAS) as (keyof typeof LAMBDAS)[]).filter((name) =>
    bundleCode(name).includes('UND_ERR_HEADERS_TIMEOUT'),
  );

  it('undici is in the bundles that forward or call the ElevenLabs API', () => {
    expect(carriers).toEqual(['receiver', 'retry-worker', 'audio-worker', 'reconciler']);
  });

  it.each(carriers)('dist/%s carries neither', (name) => {
    const code = bundleCode(name);
    expect(code).not.toContain('node:http2');
    expect(code).not.toContain('Failed to parse body as FormData.'); // fetch's multipart parser
    expect(code).not.toContain('Response object has been garbage collected'); // fetch's body mixin
    expect(code.match(/which this bundle leaves out/g)).toHaveLength(2);
  });
});

describe('dist/receiver/index.mjs', () => {
  it('exports a handler that forwards a transcription and stores audio', async () => {
    const handler = await importBundle<(e: unknown) => Promise<APIGatewayProxyResult>>('receiver', local.env);
    const before = local.crm.received.length;
    const { result: transcription, lines } = await captureStdout(() => handler(signed(sampleEvent('transcription'))));
    expect(JSON.parse(transcription.body)).toMatchObject({ forwarded: true });
    expect(local.crm.received.length).toBe(before + 1);

    const audioRun = await captureStdout(() =>
      handler(signed(sampleEvent('audio', { conversationId: 'conv_bundle', agentId: 'agent_bundle', audioSeconds: 0.5 }))),
    );
    expect(JSON.parse(audioRun.result.body)).toMatchObject({ audioKey: 'audio/agent_bundle/conv_bundle.mp3' });
    expect(await local.getObject('audio/agent_bundle/conv_bundle.mp3')).toBeDefined();
    // The bundle writes one request line each, as Lambda would, with no secret in it.
    expect(jsonLines([...lines, ...audioRun.lines])).toEqual([
      expect.objectContaining({ message: 'webhook request', outcome: 'forwarded', statusCode: 200 }),
      expect.objectContaining({ message: 'webhook request', outcome: 'audio_stored', conversationId: 'conv_bundle' }),
    ]);
    expect([...lines, ...audioRun.lines].join('\n')).not.toContain(SECRET);
  });

  it("names a bad field with zod's English message, which zod/mini leaves to lambda/core/zod-messages.ts", async () => {
    const handler = await importBundle<(e: unknown) => Promise<APIGatewayProxyResult>>('receiver', local.env);
    const event = { type: 'post_call_transcription', event_timestamp: 1, data: { conversation_id: 'c'.repeat(257) } };
    const { result, lines } = await captureStdout(() => handler(signed(event)));
    expect(result.statusCode).toBe(400);
    expect(jsonLines(lines)).toEqual([
      expect.objectContaining({
        outcome: 'invalid_event',
        error: 'InvalidEventError: invalid event: data.conversation_id: Too big: expected string to have <=256 characters',
      }),
    ]);
  });

  it('queues through SQS when the CRM is down', async () => {
    local.crm.respond({ status: 503 });
    try {
      const handler = await importBundle<(e: unknown) => Promise<APIGatewayProxyResult>>('receiver', {
        ...local.env,
        CRM_MAX_ATTEMPTS: '1',
      });
      const { result, lines } = await captureStdout(() => handler(signed(sampleEvent('failure'))));
      expect(JSON.parse(result.body)).toMatchObject({ queued: true });
      expect(jsonLines(lines)).toEqual([expect.objectContaining({ message: 'webhook request', outcome: 'queued', CrmForwardQueued: 1 })]);
    } finally {
      local.crm.respond({ status: 200 });
    }
  });
});

describe('dist/retry-worker/index.mjs', () => {
  it('exports a handler that forwards queued payloads and reports failures per record', async () => {
    const handler = await importBundle<(e: SQSEvent) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>>(
      'retry-worker',
      local.env,
    );
    const payload = { type: 'conversationAICall', subject: 's', to: '+61400000000', name: 'n', summary: 'x', status: 'held', duration: 3 };
    const message = {
      crmPayload: payload,
      eventType: 'post_call_transcription',
      conversationId: 'c',
      attempts: 3,
      lastError: 'HTTP 503',
      firstAttemptAt: new Date().toISOString(),
    };
    const record = (id: string, body: string) =>
      ({ messageId: id, body, attributes: { ApproximateReceiveCount: '1' } }) as unknown as SQSEvent['Records'][number];
    const before = local.crm.received.length;
    const { result, lines } = await captureStdout(() => handler({ Records: [record('m1', JSON.stringify(message))] }));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(jsonLines(lines)).toEqual([expect.objectContaining({ message: 'retry record', messageId: 'm1', outcome: 'delivered' })]);
    expect(local.crm.received.slice(before)).toEqual([payload]);
  });
});
