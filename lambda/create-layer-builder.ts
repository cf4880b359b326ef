/**
 * Wires the layer builder (SPEC §14): a CloudFormation custom resource that runs at deploy time on
 * the receiver's runtime and architecture, with the receiver's code at the same /var/task paths
 * (the stack gives both functions the same code asset). It fills Node's compile cache by importing
 * the receiver's modules (adapters/compile-cache.ts), writes the cache as a layer archive to S3
 * and answers with its bucket and key; the stack creates the layer from them and gives it to the
 * receiver, whose first answer then skips most of its compiling (bench figure 11).
 *
 * It never holds a deploy back for the cache's sake: if the cache cannot be made (an error, a fill
 * that does not finish in time, names Node never used), the layer is empty and the receiver
 * compiles as it always did. A failed write of the archive, which the layer needs, fails the deploy.
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
  customResourceAnswer,
  customResourceRequestSchema,
} from './core/custom-resource';
import { ConfigurationError, describeError } from './core/errors';
import { COMPILE_CACHE_PREFIX, compileCacheKey } from './core/storage-keys';
import { CUSTOM_RESOURCE_ANSWER_TIMEOUT_MS, LAYER_BUILDER_TIMEOUT_MS, withReserve } from './core/time-budget';
import { type ZipEntry, zipArchive } from './core/zip-archive';

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
const ANSWER_ATTEMPTS = 2;
/** Time kept back from the invocation's for answering CloudFormation: every attempt, and a margin. */
const ANSWER_RESERVE_MS = ANSWER_ATTEMPTS * CUSTOM_RESOURCE_ANSWER_TIMEOUT_MS + 5_000;
/**
 * IAM is eventually consistent: the builder's role and its policy are created moments before
 * CloudFormation invokes it, and S3 may refuse the first write (AccessDenied) for a few seconds
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
 */
const ACCESS_RETRY_DELAYS_MS = [2_000, 4_000, 8_000];
/** The fill's share of the time left; the archive's write gets the rest. */
const FILL_SHARE = 0.5;

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

  // An http answer URL on 127.0.0.1 is the tests' stand-in; on Lambda that address is the
  // Runtime API's, and only CloudFormation's https URLs are answered.
  const requestSchema = customResourceRequestSchema({ allowLoopbackHttp: !env.AWS_LAMBDA_FUNCTION_NAME });
  return async (event, context) => {
    const parsed = z.safeParse(requestSchema, event);
    if (!parsed.success) {
      // Without its fields there is nothing to answer; CloudFormation times the resource out.
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'request'} ${issue.message}`);
      telemetry.log('error', 'malformed custom resource request', { problems: problems.slice(0, 5).join('; ') });
      return 'malformed';
    }
    const request = parsed.data;
    const started = deps.now();
    const hardEndMs = started + (context?.getRemainingTimeInMillis?.() ?? LAYER_BUILDER_TIMEOUT_MS);
    const deadlineMs = withReserve(hardEndMs, ANSWER_RESERVE_MS, started);
    const { outcome, answer, facts } = await build(request, setup, deps, deadlineMs);
    const level = outcome === 'failed' ? 'error' : outcome === 'empty' ? 'warn' : 'info';
    telemetry.log(level, 'compile cache layer', { requestType: request.RequestType, outcome, ...facts, durationMs: deps.now() - started });
    try {
      await sendAnswer(deps, request.ResponseURL, answer);
    } catch (error) {
      // The URL carries a signature: it is never logged, even when an error message quotes it.
      const detail = withoutUrl(describeError(error), request.ResponseURL);
      telemetry.log('error', 'custom resource answer not delivered', { error: detail });
      throw new AnswerNotDeliveredError(`CloudFormation was not answered: ${detail}`);
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

  // The cache is best effort: whatever goes wrong in making it (an error, a stall, a name Node
  // did not use before), the layer is the empty folder and the deploy goes on.
  let fill: CompileCacheFill | undefined;
  let entries: ZipEntry[];
  let cacheProblem: string | undefined;
  try {
    const fillBy = deps.now() + (deadlineMs - deps.now()) * FILL_SHARE;
    fill = await withinDeadline(deps.fill(config.codeDir, join(config.scratchDir, 'compile-cache')), fillBy, deps.now);
    entries = compileCacheLayerEntries(fill);
  } catch (error) {
    cacheProblem = describeError(error);
    fill = undefined;
    entries = compileCacheLayerEntries();
  }
  const key = compileCacheKey(validHash);
  try {
    const archive = zipArchive(entries);
    await putWhenAllowed(deps, key, archive, deadlineMs);
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

class FillTimeoutError extends Error {
  override name = 'FillTimeoutError';
}

/** `work`, or a FillTimeoutError at `deadlineMs`: an import that never settles must not hold the answer. */
function withinDeadline<T>(work: Promise<T>, deadlineMs: number, now: () => number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new FillTimeoutError('the compile cache fill did not finish in time')),
      Math.max(0, deadlineMs - now()),
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** `text` with the answer URL, and its query (the signature) alone, replaced. */
function withoutUrl(text: string, url: string): string {
  const { search } = new URL(url);
  const redacted = text.replaceAll(url, '<answer URL>');
  return search.length > 1 ? redacted.replaceAll(search, '?<signature>') : redacted;
}

/** `putArchive`, again after a pause while S3 says AccessDenied and the deadline allows. */
async function putWhenAllowed(deps: LayerBuilderDeps, key: string, body: Uint8Array, deadlineMs: number): Promise<void> {
  for (const delay of [...ACCESS_RETRY_DELAYS_MS, undefined]) {
    try {
      return await deps.putArchive(key, body, deadlineMs);
    } catch (error) {
      const denied = (error as { name?: unknown } | null)?.name === 'AccessDenied';
      if (!denied || delay === undefined || deps.now() + delay >= deadlineMs) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
