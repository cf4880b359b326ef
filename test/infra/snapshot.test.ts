/**
 * The whole template, normalised, so any change to the deployed infrastructure shows up in
 * review as a snapshot diff. Asset hashes change with every Lambda code change and the CDK
 * metadata with every CDK release; both are replaced before comparing.
 * Update deliberately with `npx vitest run test/infra/snapshot.test.ts -u`.
 */
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { templateOf } from './stack-fixture';

function normaliseTemplate(template: Record<string, unknown>): Record<string, unknown> {
  const resources = { ...(template.Resources as Record<string, { Type: string }>) };
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type === 'AWS::CDK::Metadata') delete resources[id];
  }
  const text = JSON.stringify({ ...template, Resources: resources }).replace(/\b[0-9a-f]{64}(\.zip)?\b/g, '<asset-hash>$1');
  return JSON.parse(text) as Record<string, unknown>;
}

describe('template snapshot', () => {
  it('matches the reviewed template (default props)', () => {
    const template = normaliseTemplate(templateOf().toJSON());
    expect(JSON.stringify(template)).not.toMatch(/[0-9a-f]{64}/);
    expect(template).toMatchSnapshot();
  });

  it('does not depend on the Lambda code (asset hashes are normalised away)', () => {
    // Two builds of different code must give the same normalised template.
    const a = normaliseTemplate(templateOf().toJSON());
    // The receiver's build with one byte more in its entry (the layer builder runs beside it).
    const other = mkdtempSync(join(tmpdir(), 'receiver-code-'));
    try {
      cpSync(fileURLToPath(new URL('../../dist/receiver', import.meta.url)), other, { recursive: true });
      appendFileSync(join(other, 'index.mjs'), '\n');
      const b = normaliseTemplate(templateOf({ receiverCodePath: other }).toJSON());
      expect(JSON.stringify(templateOf({ receiverCodePath: other }).toJSON())).not.toEqual(JSON.stringify(templateOf().toJSON()));
      expect(b).toEqual(a);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
