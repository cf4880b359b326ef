/**
 * SPEC §14: the receiver's compile cache, made at deploy time (infra/compile-cache-layer.ts). The
 * layer builder runs as a custom resource named by the receiver's code hash; CloudFormation makes
 * the layer from the archive the builder wrote, and the receiver gets the layer and
 * NODE_COMPILE_CACHE. The builder's grant is PutObject under deploy/compile-cache/ alone.
 */
import { appendFileSync, cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSystem } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { COMPILE_CACHE_ARCHIVE_DAYS } from '../../infra/compile-cache-layer';
import { CODE_EXCLUDE } from '../../infra/node-function';
import { COMPILE_CACHE_MOUNT } from '../../lambda/core/compile-cache-layer';
import { COMPILE_CACHE_PREFIX } from '../../lambda/core/storage-keys';
import { logicalId, REPO_ROOT, resourcesOf, templateOf } from './stack-fixture';

const template = templateOf();
const only = (type: string) => {
  const resources = Object.entries(resourcesOf(template, type));
  expect(resources).toHaveLength(1);
  return { id: resources[0]![0], resource: resources[0]![1] };
};
const fnId = (prefix: string) => logicalId(template, 'AWS::Lambda::Function', prefix);

describe('the compile cache layer (SPEC §14)', () => {
  it('is built by a custom resource backed by the builder, which CloudFormation waits 5 minutes for, not an hour', () => {
    const build = only('Custom::CompileCacheLayer');
    expect(build.resource.Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': [fnId('CompileCacheBuilderFunction'), 'Arn'] },
      ServiceTimeout: '300',
      CodeHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it("names the cache by the receiver's code and runtime settings: other code, another hash", () => {
    const hashOf = (t: typeof template) => Object.values(resourcesOf(t, 'Custom::CompileCacheLayer'))[0]!.Properties!.CodeHash;
    const other = mkdtempSync(join(tmpdir(), 'receiver-code-'));
    try {
      cpSync(`${REPO_ROOT}dist/receiver`, other, { recursive: true });
      expect(hashOf(templateOf({ receiverCodePath: other }))).toBe(hashOf(template));
      appendFileSync(join(other, 'chunks', readdirSync(join(other, 'chunks')).find((f) => f.endsWith('.mjs'))!), '\n');
      expect(hashOf(templateOf({ receiverCodePath: other }))).not.toBe(hashOf(template));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    // The fingerprint alone would not change with the runtime, architecture or memory; the hash does.
    expect(hashOf(template)).not.toBe(FileSystem.fingerprint(`${REPO_ROOT}dist/receiver`, { exclude: CODE_EXCLUDE }));
  });

  it('is made by CloudFormation from the archive the builder wrote, for the receiver runtime and architecture', () => {
    const build = only('Custom::CompileCacheLayer');
    const layer = only('AWS::Lambda::LayerVersion');
    expect(layer.resource.Properties).toMatchObject({
      Content: {
        S3Bucket: { Ref: logicalId(template, 'AWS::S3::Bucket', 'AudioBucket') },
        S3Key: { 'Fn::GetAtt': [build.id, 'Key'] },
      },
      CompatibleRuntimes: ['nodejs24.x'],
      CompatibleArchitectures: ['arm64'],
    });
  });

  it('is given to the receiver alone, with NODE_COMPILE_CACHE at its folder', () => {
    const layer = only('AWS::Lambda::LayerVersion');
    const functions = resourcesOf(template, 'AWS::Lambda::Function');
    const withLayers = Object.entries(functions).filter(([, fn]) => fn.Properties!.Layers !== undefined);
    expect(withLayers.map(([id]) => id)).toEqual([fnId('ReceiverFunction')]);
    expect(withLayers[0]![1].Properties!.Layers).toEqual([{ Ref: layer.id }]);
    const env = (withLayers[0]![1].Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.NODE_COMPILE_CACHE).toBe(COMPILE_CACHE_MOUNT);
  });

  it('lets the builder write under deploy/compile-cache/ only, and expires the archives there', () => {
    const builderRole = logicalId(template, 'AWS::IAM::Role', 'CompileCacheBuilderRole');
    const policies = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).filter((p) =>
      (p.Properties!.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: builderRole })),
    );
    const statements = policies.flatMap(
      (p) => (p.Properties!.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement,
    );
    const s3 = statements.filter((s) => JSON.stringify(s.Action).includes('s3:'));
    expect(s3).toEqual([
      expect.objectContaining({
        Action: 's3:PutObject',
        Resource: {
          'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(template, 'AWS::S3::Bucket', 'AudioBucket'), 'Arn'] }, `/${COMPILE_CACHE_PREFIX}*`]],
        },
      }),
    ]);
    const bucket = resourcesOf(template, 'AWS::S3::Bucket')[logicalId(template, 'AWS::S3::Bucket', 'AudioBucket')]!;
    const rules = (bucket.Properties!.LifecycleConfiguration as { Rules: { Id: string; Prefix?: string; ExpirationInDays?: number }[] })
      .Rules;
    expect(rules).toContainEqual(
      expect.objectContaining({
        Id: 'expire-compile-cache-archives',
        Prefix: COMPILE_CACHE_PREFIX,
        ExpirationInDays: COMPILE_CACHE_ARCHIVE_DAYS,
      }),
    );
  });
});
describe('compileCache: false', () => {
  const off = templateOf({ compileCache: false });

  it('leaves out the builder, the custom resource and the layer, and the receiver compiles as before', () => {
    expect(Object.keys(resourcesOf(off, 'Custom::CompileCacheLayer'))).toEqual([]);
    expect(Object.keys(resourcesOf(off, 'AWS::Lambda::LayerVersion'))).toEqual([]);
    off.resourceCountIs('AWS::Lambda::Function', 4);
    for (const fn of Object.values(resourcesOf(off, 'AWS::Lambda::Function'))) {
      expect(fn.Properties!.Layers).toBeUndefined();
      expect(JSON.stringify(fn.Properties!.Environment ?? {})).not.toContain('NODE_COMPILE_CACHE');
    }
  });
});
