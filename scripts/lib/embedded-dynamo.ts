/**
 * DynamoDB on 127.0.0.1 (dynalite, with `createTableMs: 0` so tables are ACTIVE at once) holding the
 * idempotency table of SPEC §8 (partition key `id`, TTL attribute `expiration`), so `npm start`
 * deduplicates with the same adapter and conditional writes as on AWS. With a directory the
 * records persist there (LevelDB), so a repeat after a restart is still answered
 * `deduplicated`, as on AWS where records live 7 days; `npm run reset` forgets them.
 */
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

export interface EmbeddedDynamo {
  endpoint: string;
  /** The environment that points the real SDK (and the receiver's adapter) at this server. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startEmbeddedDynamo(directory: string | undefined, tableName: string): Promise<EmbeddedDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(directory ? { path: directory } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  // dynalite accepts any credentials; the region only has to be set.
  const client = new DynamoDBClient({
    endpoint,
    region: 'ap-southeast-2',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) {
      client.destroy();
      await close();
      throw error;
    }
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } finally {
    client.destroy();
  }
  return { endpoint, env: { AWS_ENDPOINT_URL_DYNAMODB: endpoint, IDEMPOTENCY_TABLE: tableName }, close };
}
