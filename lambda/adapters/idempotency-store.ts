/**
 * Deduplication records in DynamoDB (SPEC §2 step 6; §8 IDEMPOTENCY_TABLE: partition key `id`,
 * TTL attribute `expiration`). A conditional PutItem claims `type#conversation_id`; exactly
 * one concurrent delivery wins it. The pattern is Powertools Idempotency's (IN_PROGRESS with an
 * expiry, then COMPLETED), done in three calls so the receiver needs no extra library.
 */
import type { ClaimResult, IdempotencyStore } from '../core/ports';
import { lazy } from './lazy';
import { cjsExports } from './load-module';

/** How long a completed record answers repeats (ElevenLabs retries within minutes). */
export const DEDUP_TTL_SECONDS = 7 * 24 * 60 * 60;
/**
 * How long an IN_PROGRESS claim blocks other deliveries. Longer than API Gateway's 30 s
 * integration timeout and the receiver's own timeout, so a claim outlives its request only if
 * the function died mid-way; then the next delivery may take over.
 */
export const IN_PROGRESS_SECONDS = 60;

const loadDynamo = lazy(async () => {
  const sdk = cjsExports(await import('@aws-sdk/client-dynamodb'));
  const client = new sdk.DynamoDBClient({ maxAttempts: 2, requestHandler: { connectionTimeout: 2_000, requestTimeout: 3_000 } });
  return { client, sdk };
});

export function createDynamoIdempotencyStore(tableName: string): IdempotencyStore {
  return {
    async claim(key, nowMs): Promise<ClaimResult> {
      const { client, sdk } = await loadDynamo();
      const now = Math.floor(nowMs / 1000);
      try {
        await client.send(
          new sdk.PutItemCommand({
            TableName: tableName,
            Item: {
              id: { S: key },
              status: { S: 'IN_PROGRESS' },
              expiration: { N: String(now + DEDUP_TTL_SECONDS) },
              inProgressUntil: { N: String(now + IN_PROGRESS_SECONDS) },
            },
            // New, or expired but not yet swept by TTL (which can lag by days), or a claim whose
            // holder died: take it.
            ConditionExpression:
              'attribute_not_exists(id) OR expiration < :now OR (#status = :inProgress AND inProgressUntil < :now)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':now': { N: String(now) }, ':inProgress': { S: 'IN_PROGRESS' } },
          }),
        );
        return 'claimed';
      } catch (error) {
        if (!(error instanceof sdk.ConditionalCheckFailedException)) throw error;
      }
      const existing = await client.send(
        new sdk.GetItemCommand({ TableName: tableName, Key: { id: { S: key } }, ConsistentRead: true, ProjectionExpression: '#status', ExpressionAttributeNames: { '#status': 'status' } }),
      );
      return existing.Item?.status?.S === 'COMPLETED' ? 'completed' : 'in_progress';
    },

    async complete(key, nowMs) {
      const { client, sdk } = await loadDynamo();
      await client.send(
        new sdk.UpdateItemCommand({
          TableName: tableName,
          Key: { id: { S: key } },
          UpdateExpression: 'SET #status = :completed, expiration = :expiration REMOVE inProgressUntil',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':completed': { S: 'COMPLETED' },
            ':expiration': { N: String(Math.floor(nowMs / 1000) + DEDUP_TTL_SECONDS) },
          },
        }),
      );
    },

    async release(key) {
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
        )
        .catch((error: unknown) => {
          if (!(error instanceof sdk.ConditionalCheckFailedException)) throw error;
        });
    },
  };
}
