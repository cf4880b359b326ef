/**
 * DynamoDB on 127.0.0.1 (dynalite, with `createTableMs: 0` so tables are ACTIVE at once)
 * holding idempotency tables of contract §8 (partition key `id`, TTL attribute `expiration`), so
 * the receiver's own adapter runs its conditional writes against it. In memory for tests and
 * the benchmark; with a directory for `npm start`, where the records persist (LevelDB) so a
 * repeat after a restart is still answered `deduplicated`, as on AWS where records live 7
 * days; `npm run reset` forgets them.
 */
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

export interface DynamoStandIn {
  endpoint: string;
  /** Points the real SDK (and the receiver's adapter) here, and names the table if one was asked for. */
  env: Record<string, string>;
  client: DynamoDBClient;
  /** Creates an idempotency table unless it exists (a persisted one survives restarts). */
  createTable(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function startDynamo({ directory, table }: { directory?: string; table?: string } = {}): Promise<DynamoStandIn> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(directory ? { path: directory } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // dynalite accepts any credentials; the region only has to be set.
  const client = new DynamoDBClient({
    endpoint,
    region: 'ap-southeast-2',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const close = async () => {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  const createTable = async (name: string) => {
    try {
      await client.send(new DescribeTableCommand({ TableName: name }));
      return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    await client.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  };
  if (table !== undefined) {
    try {
      await createTable(table);
    } catch (error) {
      await close();
      throw error;
    }
  }
  return {
    endpoint,
    env: { AWS_ENDPOINT_URL_DYNAMODB: endpoint, ...(table === undefined ? {} : { IDEMPOTENCY_TABLE: table }) },
    client,
    createTable,
    close,
  };
}
