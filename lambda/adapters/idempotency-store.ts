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
import type { ClaimRequest, ClaimResult, IdempotencyStore } from '../core/ports';
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
      // The whole record, written over the claim: the same command as the claim, so a cold
      // container's first event builds one command's serializer and middleware, not two (SPEC
      // §14), and no update expression to evaluate. Unconditional, as the completion always was.
      await client.send(
        new sdk.PutItemCommand({
          TableName: tableName,
          Item: {
            id: { S: key },
            status: { S: 'COMPLETED' },
            expiration: { N: String(Math.floor(nowMs / 1000) + ttlSeconds) },
          },
        }),
        { abortSignal: abortSignalAt(deadlineMs) },
      );
    },

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
