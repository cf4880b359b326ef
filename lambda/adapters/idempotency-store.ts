/**
 * Deduplication records in DynamoDB (contract §2 step 6; §8 IDEMPOTENCY_TABLE: partition key `id`,
 * TTL attribute `expiration`). A conditional PutItem claims `type#conversation_id`; exactly
 * one concurrent delivery wins it. The pattern is Powertools Idempotency's (IN_PROGRESS with an
 * expiry, then COMPLETED), done with plain calls so the receiver needs no extra library: the
 * claim, a GetItem when it is refused, the completion (a PutItem over the claim), a DeleteItem
 * to release a failed delivery's claim.
 *
 * A claim holds only until the claiming request's own hard end (`inProgressUntil`, epoch ms):
 * after that, nothing of that request can still run, so a retry that finds the claim takes it
 * over — a crashed or timed-out first delivery never blocks ElevenLabs' next retry.
 */
import type { ClaimRequest, ClaimResult, IdempotencyStore, PreparedWrite } from '../core/ports';
import { abortSignalAt, sdkClientOptions } from './deadline';
import { lazy, type Preloadable, preloadOf } from './lazy';
import { cjsExports } from './load-module';

/**
 * How long a completed record answers repeats (ElevenLabs retries within about 40 minutes), unless
 * the claim names its own TTL (`sms#<number>`: SMS_MIN_HOURS_BETWEEN, contract §13).
 */
export const DEDUP_TTL_SECONDS = 7 * 24 * 60 * 60;

const loadDynamo = lazy(async () => {
  const sdk = cjsExports(await import('./sdk/dynamodb'));
  return { client: new sdk.DynamoDBClient(sdkClientOptions('idempotency')), sdk };
});

/**
 * The completion record, written over the claim: the same command as the claim, so a cold
 * container's first event builds one command's serializer and middleware, not two (SPEC §14),
 * and no update expression to evaluate. Unconditional, as the completion always was.
 */
function completionRecord(tableName: string, key: string, nowMs: number, ttlSeconds = DEDUP_TTL_SECONDS) {
  // The whole record, written over the claim: the same command as the claim, so a cold
  // container's first event builds one command's serializer and middleware, not two (SPEC
  // §14), and no update expression to evaluate. Unconditional, as the completion always was.
  return {
    TableName: tableName,
    Item: { id: { S: key }, status: { S: 'COMPLETED' }, expiration: { N: String(Math.floor(nowMs / 1000) + ttlSeconds) } },
  };
}

/**
 * The innermost middleware (the deserialize step, low priority: after serialising, resolving
 * the endpoint and signing, right before the HTTP handler sends), where a prepared write waits
 * for its commit (SDK middleware stack, https://github.com/smithy-lang/smithy-typescript).
 */
const HELD_UNTIL_COMMIT = { step: 'deserialize', priority: 'low', name: 'heldUntilCommit' } as const;

/** The completion's PutItem, sent now and held at its last middleware until `commit`. */
function prepareCompletionWrite(tableName: string, key: string, nowMs: number): PreparedWrite {
  return prepareHeld(async (signal, gate) => {
    const { client, sdk } = await loadDynamo();
    const command = new sdk.PutItemCommand(completionRecord(tableName, key, nowMs));
    command.middlewareStack.add(
      (next) => async (args) => {
        await gate;
        return next(args);
      },
      HELD_UNTIL_COMMIT,
    );
    await client.send(command, { abortSignal: signal });
  });
}

/**
 * Runs `send` now; its held middleware awaits `gate`, which opens on `commit`, when the write's
 * deadline (an abort at `deadlineMs`) starts. `abandon` closes it: the request is never sent.
 */
function prepareHeld(send: (signal: AbortSignal, gate: Promise<void>) => Promise<void>): PreparedWrite {
  let open!: () => void;
  let refuse!: (reason: Error) => void;
  const gate = new Promise<void>((resolve, reject) => {
    open = resolve;
    refuse = reject;
  });
  gate.catch(() => undefined);
  const controller = new AbortController();
  const sent = send(controller.signal, gate);
  sent.catch(() => undefined);
  return {
    async commit(deadlineMs) {
      const timer = setTimeout(
        () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
        Math.max(1, Math.ceil(deadlineMs - Date.now())),
      );
      open();
      try {
        await sent;
      } finally {
        clearTimeout(timer);
      }
    },
    abandon() {
      refuse(new Error('completion abandoned: the event was not made durable'));
      controller.abort();
    },
  };
}

export function createDynamoIdempotencyStore(tableName: string): IdempotencyStore & Preloadable {
  return {
    preload: preloadOf(loadDynamo),
    async claim(key, { nowMs, holdUntilMs, deadlineMs, ttlSeconds = DEDUP_TTL_SECONDS }: ClaimRequest): Promise<ClaimResult> {
      const { client, sdk } = await loadDynamo();
      const abortSignal = abortSignalAt(deadlineMs);
      const nowSeconds = Math.floor(nowMs / 1000);
      try {
        await client.send(
          new sdk.PutItemCommand({
            TableName: tableName,
            Item: {
              id: { S: key },
              status: { S: 'IN_PROGRESS' },
              expiration: { N: String(nowSeconds + ttlSeconds) },
              inProgressUntil: { N: String(Math.ceil(holdUntilMs)) },
            },
            // New, or expired but not yet swept by TTL (which can lag by days), or a claim whose
            // holder's time is up: take it.
            ConditionExpression:
              'attribute_not_exists(id) OR expiration < :nowSeconds OR (#status = :inProgress AND inProgressUntil < :nowMs)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':nowSeconds': { N: String(nowSeconds) },
              ':nowMs': { N: String(Math.floor(nowMs)) },
              ':inProgress': { S: 'IN_PROGRESS' },
            },
          }),
          { abortSignal },
        );
        return 'claimed';
      } catch (error) {
        if (!(error instanceof sdk.ConditionalCheckFailedException)) throw error;
      }
      const existing = await client.send(
        new sdk.GetItemCommand({
          TableName: tableName,
          Key: { id: { S: key } },
          ConsistentRead: true,
          ProjectionExpression: '#status',
          ExpressionAttributeNames: { '#status': 'status' },
        }),
        { abortSignal },
      );
      return existing.Item?.status?.S === 'COMPLETED' ? 'completed' : 'in_progress';
    },

    async complete(key, nowMs, deadlineMs, ttlSeconds = DEDUP_TTL_SECONDS) {
      const { client, sdk } = await loadDynamo();
      await client.send(new sdk.PutItemCommand(completionRecord(tableName, key, nowMs, ttlSeconds)), {
        abortSignal: abortSignalAt(deadlineMs),
      });
    },

    prepareCompletion: (key, nowMs) => prepareCompletionWrite(tableName, key, nowMs),

    async release(key, deadlineMs) {
      const { client, sdk } = await loadDynamo();
      // Only an unfinished claim is released; a COMPLETED record must keep answering repeats.
      await client
        .send(
          new sdk.DeleteItemCommand({
            TableName: tableName,
            Key: { id: { S: key } },
            ConditionExpression: '#status = :inProgress',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':inProgress': { S: 'IN_PROGRESS' } },
          }),
          { abortSignal: abortSignalAt(deadlineMs) },
        )
        .catch((error: unknown) => {
          if (!(error instanceof sdk.ConditionalCheckFailedException)) throw error;
        });
    },
  };
}
