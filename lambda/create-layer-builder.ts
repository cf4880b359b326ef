/**
 * Wires the layer builder (SPEC §14): a CloudFormation custom resource that runs at deploy time on
 * the receiver's runtime and architecture, with the receiver's code at the same /var/task paths
 * (the stack gives both functions the same code asset). It fills Node's compile cache by importing
 * the receiver's modules (adapters/compile-cache.ts), writes the cache as a layer archive to S3
 * and answers with its bucket and key; the stack creates the layer from them and gives it to the
 * receiver, whose first answer then skips most of its compiling (bench figure 11).
 *
 * It never holds a deploy back for the cache's sake: if the cache cannot be made, the layer is
 * empty and the receiver compiles as it always did. Only a failed write of the archive, which the
 * layer needs, fails the deploy.
 */
import { join } from 'node:path';
import * as z from 'zod/mini';
import { type CompileCacheFill, fillCompileCache } from './adapters/compile-cache';
import { createAnswerSender } from './adapters/custom-resource-answer';
import { createS3LayerArchiveStore } from './adapters/layer-archive';
import { createTelemetry, type LineWriter } from './adapters/telemetry';
import type { Env } from './config/env-fields';
import { type LayerBuilderConfig, loadLayerBuilderConfig } from './config/layer-builder-config';
import { compileCacheLayerEntries } from './core/compile-cache-layer';
import {
  type CustomResourceAnswer,
  type CustomResourceRequest,
  CustomResourceRequestSchema,
  customResourceAnswer,
} from './core/custom-resource';
import { ConfigurationError, describeError } from './core/errors';
import { COMPILE_CACHE_PREFIX, compileCacheKey } from './core/storage-keys';
import { zipArchive } from './core/zip-archive';

export interface LayerBuilderDeps {
  fill(codeDir: string, cacheDir: string): Promise<CompileCacheFill>;
  putArchive(key: string, body: Uint8Array, deadlineMs: number): Promise<void>;
  answer(url: string, answer: CustomResourceAnswer): Promise<void>;
  now(): number;
}

export interface LayerBuilderOverrides {
  deps?: Partial<LayerBuilderDeps>;
  write?: LineWriter;
}

export type LayerBuilderOutcome = 'built' | 'empty' | 'deleted' | 'failed' | 'malformed';
export type LayerBuilderHandler = (event: unknown, context?: { getRemainingTimeInMillis?: () => number }) => Promise<LayerBuilderOutcome>;

/** The stack passes the receiver asset's hash, which names the archive (core/storage-keys.ts). */
const CODE_HASH = /^[0-9a-f]{16,128}$/;
/** Time kept back from the invocation's for answering CloudFormation. */
const ANSWER_RESERVE_MS = 15_000;
const ANSWER_ATTEMPTS = 2;

export class AnswerNotDeliveredError extends Error {
  override name = 'AnswerNotDeliveredError';
}

export function createLayerBuilder(env: Env, overrides: LayerBuilderOverrides = {}): LayerBuilderHandler {
  const telemetry = createTelemetry(overrides.write);
  let setup: Setup;
  try {
    const config = loadLayerBuilderConfig(env);
    setup = { config, putArchive: createS3LayerArchiveStore({ bucket: config.bucket, ...config.s3 }) };
  } catch (error) {
    const problem = error instanceof ConfigurationError ? error.detail : describeError(error);
    telemetry.log('error', 'invalid configuration', { error: problem });
    setup = { problem };
  }
  const deps: LayerBuilderDeps = {
    fill: fillCompileCache,
    putArchive: setup.putArchive ?? (async () => {}),
    answer: createAnswerSender(),
    now: Date.now,
    ...overrides.deps,
  };

  return async (event, context) => {
    const parsed = z.safeParse(CustomResourceRequestSchema, event);
    if (!parsed.success) {
      // Without its fields there is nothing to answer; CloudFormation times the resource out.
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'request'} ${issue.message}`);
      telemetry.log('error', 'malformed custom resource request', { problems: problems.slice(0, 5).join('; ') });
      return 'malformed';
    }
    const request = parsed.data;
    const started = deps.now();
    const deadlineMs = started + Math.max(1_000, (context?.getRemainingTimeInMillis?.() ?? 120_000) - ANSWER_RESERVE_MS);
    const { outcome, answer, facts } = await build(request, setup, deps, deadlineMs);
    const level = outcome === 'failed' ? 'error' : outcome === 'empty' ? 'warn' : 'info';
    telemetry.log(level, 'compile cache layer', { requestType: request.RequestType, outcome, ...facts, durationMs: deps.now() - started });
    try {
      await sendAnswer(deps, request.ResponseURL, answer);
    } catch (error) {
      // The URL carries a signature: it is never logged.
      telemetry.log('error', 'custom resource answer not delivered', { error: describeError(error) });
      throw new AnswerNotDeliveredError(`CloudFormation was not answered: ${describeError(error)}`);
    }
    return outcome;
  };
}

/** The configuration and the archive store built from it, or why there are none. */
interface Setup {
  config?: LayerBuilderConfig;
  putArchive?: LayerBuilderDeps['putArchive'];
  problem?: string;
}

interface Built {
  outcome: LayerBuilderOutcome;
  answer: CustomResourceAnswer;
  facts: Record<string, string | number>;
}

async function build(
  request: CustomResourceRequest,
  { config, problem }: Setup,
  deps: LayerBuilderDeps,
  deadlineMs: number,
): Promise<Built> {
  const codeHash = request.ResourceProperties?.CodeHash;
  const validHash = typeof codeHash === 'string' && CODE_HASH.test(codeHash) ? codeHash : undefined;
  const physicalResourceId = request.PhysicalResourceId ?? (validHash ? compileCacheKey(validHash) : `${COMPILE_CACHE_PREFIX}invalid`);
  const fail = (reason: string): Built => ({
    outcome: 'failed',
    answer: customResourceAnswer(request, { status: 'FAILED', physicalResourceId, reason }),
    facts: { reason },
  });
  // Deleting a layer version is CloudFormation's (the layer is its own resource); the archive
  // expires under the bucket's lifecycle rule.
  if (request.RequestType === 'Delete') {
    return { outcome: 'deleted', answer: customResourceAnswer(request, { status: 'SUCCESS', physicalResourceId }), facts: {} };
  }
  if (config === undefined) return fail(`invalid configuration: ${problem}`);
  if (validHash === undefined) return fail('ResourceProperties.CodeHash must be 16–128 lowercase hex digits');

  let fill: CompileCacheFill | undefined;
  let cacheProblem: string | undefined;
  try {
    fill = await deps.fill(config.codeDir, join(config.scratchDir, 'compile-cache'));
  } catch (error) {
    cacheProblem = describeError(error);
  }
  const key = compileCacheKey(validHash);
  try {
    const archive = zipArchive(compileCacheLayerEntries(fill));
    await deps.putArchive(key, archive, deadlineMs);
    const answer = customResourceAnswer(request, {
      status: 'SUCCESS',
      physicalResourceId: key,
      data: { Bucket: config.bucket, Key: key, Folder: fill?.tag ?? '' },
    });
    if (!fill) return { outcome: 'empty', answer, facts: { reason: `no compile cache: ${cacheProblem}` } };
    const facts = {
      folder: fill.tag,
      files: fill.files.length,
      modules: fill.modules,
      failedModules: fill.failed,
      archiveKiB: Math.round(archive.byteLength / 1024),
    };
    return { outcome: 'built', answer, facts };
  } catch (error) {
    return fail(`the layer archive could not be written: ${describeError(error)}`);
  }
}

async function sendAnswer(deps: LayerBuilderDeps, url: string, answer: CustomResourceAnswer): Promise<void> {
  let last: unknown;
  for (let attempt = 1; attempt <= ANSWER_ATTEMPTS; attempt++) {
    try {
      return await deps.answer(url, answer);
    } catch (error) {
      last = error;
    }
  }
  throw last;
}
