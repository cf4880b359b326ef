/** The parts of the SQS client the adapters use; see `sdk/s3.ts` for why this module exists. */
export { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
