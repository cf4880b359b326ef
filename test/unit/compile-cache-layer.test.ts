/**
 * What the compile cache layer holds (lambda/core/compile-cache-layer.ts) and the custom
 * resource's request and answer (lambda/core/custom-resource.ts): pure parts of SPEC §14's
 * deploy-time cache.
 */

import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { COMPILE_CACHE_MOUNT, compileCacheLayerEntries } from '../../lambda/core/compile-cache-layer';
import { customResourceAnswer, customResourceRequestSchema } from '../../lambda/core/custom-resource';

const TAG = 'v24.11.1-arm64-1a2b3c4d-993';

describe('compileCacheLayerEntries', () => {
  it('puts the cache under compile-cache/<folder>/, files readable by every user, folders searchable', () => {
    const entries = compileCacheLayerEntries({ tag: TAG, files: [{ name: '12f7e55c', data: Buffer.from('a') }] });
    expect(entries.map(({ name, mode }) => [name, mode])).toEqual([
      ['compile-cache/', 0o755],
      [`compile-cache/${TAG}/`, 0o755],
      [`compile-cache/${TAG}/12f7e55c`, 0o644],
    ]);
    expect(COMPILE_CACHE_MOUNT).toBe('/opt/compile-cache');
  });

  it('without a cache, holds the empty folder alone', () => {
    expect(compileCacheLayerEntries()).toEqual([{ name: 'compile-cache/', mode: 0o755 }]);
  });

  it.each([
    ['a folder name that is not Node’s', { tag: '../etc', files: [] }],
    ['a folder name with a slash', { tag: 'v24.1.0-x64-ab/cd', files: [] }],
    ['a file name that is not a hash', { tag: TAG, files: [{ name: '../x', data: Buffer.alloc(0) }] }],
    ['a file name too long', { tag: TAG, files: [{ name: 'a'.repeat(17), data: Buffer.alloc(0) }] }],
  ])('refuses %s', (_case, fill) => {
    expect(() => compileCacheLayerEntries(fill)).toThrow(/is not a compile cache/);
  });
});

const request = {
  RequestType: 'Create',
  ResponseURL: 'https://cloudformation-custom-resource-response-apsoutheast2.s3.ap-southeast-2.amazonaws.com/x?X-Amz-Signature=abc',
  StackId: 'arn:aws:cloudformation:ap-southeast-2:123456789012:stack/ElevenLabsWebhook/1',
  RequestId: 'req-1',
  LogicalResourceId: 'CompileCacheBuild',
  ResourceType: 'Custom::CompileCacheLayer',
  ResourceProperties: { ServiceToken: 'arn:aws:lambda:…', CodeHash: 'ab'.repeat(32) },
};

const CustomResourceRequestSchema = customResourceRequestSchema({ allowLoopbackHttp: true });

describe('customResourceRequestSchema', () => {
  it('reads a CloudFormation request', () => {
    expect(z.parse(CustomResourceRequestSchema, request)).toMatchObject({ RequestType: 'Create', LogicalResourceId: 'CompileCacheBuild' });
  });

  it.each<[string, unknown]>([
    ['not an object', 'Create'],
    ['null', null],
    ['an unknown request type', { ...request, RequestType: 'Drop' }],
    ['no answer URL', { ...request, ResponseURL: undefined }],
    ['an http answer URL off this machine', { ...request, ResponseURL: 'http://169.254.169.254/latest' }],
    ['an answer URL that is not one', { ...request, ResponseURL: 'not a url' }],
    ['an oversized answer URL', { ...request, ResponseURL: `https://example.com/${'a'.repeat(9000)}` }],
    ['an empty stack id', { ...request, StackId: '' }],
    ['an oversized request id', { ...request, RequestId: 'r'.repeat(3000) }],
    ['properties that are not an object', { ...request, ResourceProperties: 'x' }],
  ])('refuses %s', (_case, input) => {
    expect(z.safeParse(CustomResourceRequestSchema, input).success).toBe(false);
  });

  it('takes http on 127.0.0.1 (the tests’ stand-in) only when allowed: on Lambda that is the Runtime API', () => {
    const loopback = { ...request, ResponseURL: 'http://127.0.0.1:9001/2018-06-01/runtime/invocation/x/response' };
    expect(z.safeParse(CustomResourceRequestSchema, loopback).success).toBe(true);
    expect(z.safeParse(customResourceRequestSchema({ allowLoopbackHttp: false }), loopback).success).toBe(false);
    expect(z.safeParse(customResourceRequestSchema({ allowLoopbackHttp: false }), request).success).toBe(true);
  });
});

describe('customResourceAnswer', () => {
  const parsed = z.parse(CustomResourceRequestSchema, request);

  it('echoes the request’s ids and carries the data', () => {
    expect(customResourceAnswer(parsed, { status: 'SUCCESS', physicalResourceId: 'p', data: { Key: 'k' } })).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: 'p',
      StackId: request.StackId,
      RequestId: 'req-1',
      LogicalResourceId: 'CompileCacheBuild',
      Data: { Key: 'k' },
    });
  });

  it('cuts a long reason so the answer stays under CloudFormation’s 4,096 bytes', () => {
    const answer = customResourceAnswer(parsed, { status: 'FAILED', physicalResourceId: 'p', reason: 'r'.repeat(10_000) });
    expect(answer.Reason).toHaveLength(1000);
    expect(Buffer.byteLength(JSON.stringify(answer))).toBeLessThan(4096);
  });
});
