/** The parts of the DynamoDB client the adapters use; see `sdk/s3.ts` for why this module exists. */
export {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
