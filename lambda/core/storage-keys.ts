/**
 * Where a call's files live in the calls bucket (contract §6, §10, §12): the recording at
 * `audio/<agent_id>/<conversation_id>.mp3`, the verified events at
 * `calls/<agent_id>/<conversation_id>/<type>.json`, and the reconciler's first-run marker at
 * `reconciler/first-run.json`. The Lambdas, the CLIs and the stack's IAM grants all take the
 * prefixes and keys from here, so they always agree.
 */

export const AUDIO_PREFIX = 'audio/';
export const ARCHIVE_PREFIX = 'calls/';
/** contract §12: when the reconciler first ran; its window never starts earlier. */
export const FIRST_RUN_KEY = 'reconciler/first-run.json';

/** contract §10: 1–128 of `A-Z a-z 0-9 _ . -`. `.` and `..` alone are refused too: they read as path steps. */
const KEY_SAFE_ID = /^[A-Za-z0-9_.-]{1,128}$/;

/** True when `id` may become one segment of an S3 key: nothing to escape, no separator. */
export function isKeySafeId(id: unknown): id is string {
  return typeof id === 'string' && KEY_SAFE_ID.test(id) && id !== '.' && id !== '..';
}

export function audioKey(agentId: string, conversationId: string): string {
  return `${AUDIO_PREFIX}${agentId}/${conversationId}.mp3`;
}

export function archiveKey(agentId: string, conversationId: string, type: string): string {
  return `${ARCHIVE_PREFIX}${agentId}/${conversationId}/${type}.json`;
}

/**
 * SPEC §14: the receiver's compile cache, made at deploy time (lambda/create-layer-builder.ts),
 * as the archive a Lambda layer is created from; one per receiver build, named by its code hash.
 */
export const COMPILE_CACHE_PREFIX = 'deploy/compile-cache/';

export function compileCacheKey(codeHash: string): string {
  return `${COMPILE_CACHE_PREFIX}${codeHash}.zip`;
}
