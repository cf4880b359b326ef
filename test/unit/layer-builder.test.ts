/**
 * The layer builder's decisions (lambda/create-layer-builder.ts, SPEC §14) with its I/O replaced:
 * what it writes, what it answers CloudFormation, and that it never holds a deploy back for the
 * cache's sake. Its real fill, S3 write and answer run in test/integration/layer-builder.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { CompileCacheFill } from '../../lambda/adapters/compile-cache';
import type { CustomResourceAnswer } from '../../lambda/core/custom-resource';
import { AnswerNotDeliveredError, createLayerBuilder, type LayerBuilderDeps } from '../../lambda/create-layer-builder';
import { readZip } from '../helpers/zip-reader';

const HASH = 'c0ffee'.repeat(10).slice(0, 64);
const SIGNED_URL = 'https://cfn-responses.s3.amazonaws.com/arn%3Aaws/abc?X-Amz-Signature=deadbeefsignature';
const request = (over: Record<string, unknown> = {}) => ({
  RequestType: 'Create',
  ResponseURL: SIGNED_URL,
  StackId: 'arn:aws:cloudformation:ap-southeast-2:123456789012:stack/ElevenLabsWebhook/1',
  RequestId: 'req-1',
  LogicalResourceId: 'CompileCacheBuild',
  ResourceProperties: { ServiceToken: 'arn:aws:lambda:ap-southeast-2:123456789012:function:builder', CodeHash: HASH },
  ...over,
});
const FILL: CompileCacheFill = {
  tag: 'v24.11.1-arm64-1a2b3c4d-993',
  files: [
    { name: '12f7e55c', data: Buffer.from('cache one') },
    { name: '94a75532', data: Buffer.from('cache two') },
  ],
  modules: 2,
  failed: 0,
};

function harness(env: Record<string, string> = { LAYER_BUCKET: 'calls-bucket' }, deps: Partial<LayerBuilderDeps> = {}) {
  const puts: { key: string; body: Buffer }[] = [];
  const answers: { url: string; answer: CustomResourceAnswer }[] = [];
  const lines: string[] = [];
  const fills: [string, string][] = [];
  const handler = createLayerBuilder(
    { ...env, LAMBDA_TASK_ROOT: '/var/task', TMPDIR: '/tmp' },
    {
      write: (line) => lines.push(line),
      deps: {
        fill: async (codeDir, cacheDir) => {
          fills.push([codeDir, cacheDir]);
          return FILL;
        },
        putArchive: async (key, body) => void puts.push({ key, body: Buffer.from(body) }),
        answer: async (url, answer) => void answers.push({ url, answer }),
        now: () => 1_000,
        ...deps,
      },
    },
  );
  const logged = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { handler, puts, answers, lines, logged, fills };
}

describe('the layer builder', () => {
  it('Create: fills the cache from the code folder, writes its archive under the code hash, answers with bucket and key', async () => {
    const h = harness();
    expect(await h.handler(request())).toBe('built');
    expect(h.fills).toEqual([['/var/task', '/tmp/compile-cache']]);
    const key = `deploy/compile-cache/${HASH}.zip`;
    expect(h.puts.map((p) => p.key)).toEqual([key]);
    expect(readZip(h.puts[0]!.body).map((e) => [e.name, e.mode & 0o777])).toEqual([
      ['compile-cache/', 0o755],
      [`compile-cache/${FILL.tag}/`, 0o755],
      [`compile-cache/${FILL.tag}/12f7e55c`, 0o644],
      [`compile-cache/${FILL.tag}/94a75532`, 0o644],
    ]);
    expect(h.answers).toEqual([
      {
        url: SIGNED_URL,
        answer: expect.objectContaining({
          Status: 'SUCCESS',
          PhysicalResourceId: key,
          RequestId: 'req-1',
          Data: { Bucket: 'calls-bucket', Key: key, Folder: FILL.tag },
        }),
      },
    ]);
    expect(h.logged()).toEqual([
      expect.objectContaining({ level: 'info', message: 'compile cache layer', outcome: 'built', folder: FILL.tag, files: 2 }),
    ]);
  });

  it('Update is a Create of the new build', async () => {
    const h = harness();
    expect(await h.handler(request({ RequestType: 'Update', PhysicalResourceId: 'deploy/compile-cache/old.zip' }))).toBe('built');
    expect(h.puts.map((p) => p.key)).toEqual([`deploy/compile-cache/${HASH}.zip`]);
    expect(h.answers[0]!.answer.PhysicalResourceId).toBe(`deploy/compile-cache/${HASH}.zip`);
  });

  it('a cache that cannot be made still gives a layer: its empty folder, SUCCESS, and a warning saying why', async () => {
    const h = harness(undefined, {
      fill: async () => {
        throw new Error('Node did not enable its compile cache');
      },
    });
    expect(await h.handler(request())).toBe('empty');
    expect(readZip(h.puts[0]!.body).map((e) => e.name)).toEqual(['compile-cache/']);
    expect(h.answers[0]!.answer).toMatchObject({ Status: 'SUCCESS', Data: { Folder: '' } });
    expect(h.logged()[0]).toMatchObject({ level: 'warn', outcome: 'empty', reason: expect.stringContaining('Node did not enable') });
  });

  it('an archive that cannot be written fails the deploy, saying why', async () => {
    const h = harness(undefined, {
      putArchive: async () => {
        throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
      },
    });
    // 1 s left for the write: no time to wait for IAM, so the first refusal is the answer.
    const outcome = await h.handler(request(), { getRemainingTimeInMillis: () => 26_000 });
    expect(outcome).toBe('failed');
    expect(h.answers[0]!.answer).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('AccessDenied: Access Denied') });
  });

  it('waits out a first AccessDenied (a role IAM has not spread yet) and writes again', async () => {
    let calls = 0;
    const h = harness(undefined, {
      putArchive: async () => {
        if (++calls === 1) throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
      },
    });
    expect(await h.handler(request())).toBe('built');
    expect(calls).toBe(2);
  });

  it('does not retry other refusals', async () => {
    let calls = 0;
    const h = harness(undefined, {
      putArchive: async () => {
        calls++;
        throw Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket' });
      },
    });
    expect(await h.handler(request())).toBe('failed');
    expect(calls).toBe(1);
    expect(h.answers[0]!.answer).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('NoSuchBucket') });
  });

  it('Delete: answers SUCCESS with the same id and touches nothing (CloudFormation deletes the layer)', async () => {
    const h = harness();
    expect(await h.handler(request({ RequestType: 'Delete', PhysicalResourceId: 'deploy/compile-cache/x.zip' }))).toBe('deleted');
    expect(h.fills).toEqual([]);
    expect(h.puts).toEqual([]);
    expect(h.answers[0]!.answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'deploy/compile-cache/x.zip' });
  });

  it.each<[string, unknown]>([
    ['missing', undefined],
    ['not hex', 'zz'.repeat(32)],
    ['too short', 'abc'],
    ['a path', '../../etc/passwd'],
    ['not a string', 42],
  ])('a CodeHash %s fails the resource without filling anything', async (_case, codeHash) => {
    const h = harness();
    expect(await h.handler(request({ ResourceProperties: { CodeHash: codeHash } }))).toBe('failed');
    expect(h.fills).toEqual([]);
    expect(h.answers[0]!.answer).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('CodeHash') });
  });

  it('without LAYER_BUCKET: says so once at start, and fails each Create naming the variable', async () => {
    const h = harness({});
    expect(h.logged()).toEqual([
      expect.objectContaining({ level: 'error', message: 'invalid configuration', error: expect.stringContaining('LAYER_BUCKET') }),
    ]);
    expect(await h.handler(request())).toBe('failed');
    expect(h.answers[0]!.answer).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('LAYER_BUCKET') });
    // A Delete must still succeed, or a broken stack could never be removed.
    expect(await h.handler(request({ RequestType: 'Delete', PhysicalResourceId: 'x' }))).toBe('deleted');
  });

  it.each<[string, Record<string, string>]>([
    ['a relative LAMBDA_TASK_ROOT', { LAYER_BUCKET: 'b', LAMBDA_TASK_ROOT: 'task' }],
    ['a relative TMPDIR', { LAYER_BUCKET: 'b', TMPDIR: 'tmp' }],
  ])('refuses %s, naming it', (_case, env) => {
    const lines: string[] = [];
    createLayerBuilder(env, { write: (line) => lines.push(line) });
    expect(lines.join('\n')).toMatch(new RegExp(`${Object.keys(env)[1]} must be an absolute path`));
  });

  it.each<[string, unknown]>([
    ['nothing', undefined],
    ['a string', 'Create'],
    ['an unknown request type', request({ RequestType: 'Drop' })],
    ['an answer URL off this machine over http', request({ ResponseURL: 'http://10.0.0.1/answer' })],
    ['an oversized answer URL', request({ ResponseURL: `https://x.example/${'a'.repeat(10_000)}` })],
    ['an oversized request id', request({ RequestId: 'r'.repeat(5000) })],
  ])('a malformed request (%s) is logged and not answered: there is nowhere safe to answer', async (_case, event) => {
    const h = harness();
    expect(await h.handler(event)).toBe('malformed');
    expect(h.answers).toEqual([]);
    expect(h.puts).toEqual([]);
    expect(h.logged()).toEqual([expect.objectContaining({ level: 'error', message: 'malformed custom resource request' })]);
  });

  it('tries the answer twice, then fails the invocation, never logging the signed URL, even when the error quotes it', async () => {
    let calls = 0;
    const h = harness(undefined, {
      answer: async (url) => {
        calls++;
        throw new Error(calls === 1 ? `socket hang up on ${url}` : `PUT ${new URL(url).search} refused`);
      },
    });
    await expect(h.handler(request())).rejects.toThrow(AnswerNotDeliveredError);
    expect(calls).toBe(2);
    expect(h.logged().map((l) => l.message)).toEqual(['compile cache layer', 'custom resource answer not delivered']);
    expect(h.lines.join('\n')).not.toContain('deadbeefsignature');
    expect(h.logged()[1]).toMatchObject({ error: 'Error: PUT ?<signature> refused' });
  });

  it('a fill that never settles gives the empty layer in time, not a deploy waiting an hour', async () => {
    // 26 s left: 1 s after the answer's reserve, half of it for the fill.
    const h = harness(undefined, { fill: () => new Promise(() => undefined), now: () => 0 });
    expect(await h.handler(request(), { getRemainingTimeInMillis: () => 26_000 })).toBe('empty');
    expect(h.logged()[0]).toMatchObject({ reason: expect.stringContaining('did not finish in time') });
    expect(readZip(h.puts[0]!.body).map((e) => e.name)).toEqual(['compile-cache/']);
  });

  it('a cache whose names Node never used before gives the empty layer, not a failed deploy', async () => {
    const h = harness(undefined, { fill: async () => ({ ...FILL, files: [{ name: '.12f7e55c.XXXXXX', data: Buffer.from('tmp') }] }) });
    expect(await h.handler(request())).toBe('empty');
    expect(h.answers[0]!.answer).toMatchObject({ Status: 'SUCCESS' });
  });

  it('on Lambda, answers only https URLs: http on 127.0.0.1 would reach the Runtime API', async () => {
    const lines: string[] = [];
    const handler = createLayerBuilder(
      { LAYER_BUCKET: 'b', AWS_LAMBDA_FUNCTION_NAME: 'builder' },
      {
        write: (line) => lines.push(line),
        deps: { answer: async () => undefined, putArchive: async () => undefined, fill: async () => FILL },
      },
    );
    expect(await handler(request({ ResponseURL: 'http://127.0.0.1:9001/2018-06-01/runtime/invocation/x/response' }))).toBe('malformed');
    expect(await handler(request())).toBe('built');
  });

  it('a second attempt that gets through is enough', async () => {
    let calls = 0;
    const h = harness(undefined, {
      answer: async () => {
        if (++calls === 1) throw new Error('ECONNRESET');
      },
    });
    expect(await h.handler(request())).toBe('built');
    expect(calls).toBe(2);
  });
});
