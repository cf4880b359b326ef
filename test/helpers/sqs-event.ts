/**
 * Messages received from the SQS stand-in as the event Lambda's SQS event source hands a worker
 * (the fields the workers read: id, receipt handle, body, ApproximateReceiveCount).
 */
import type { Message } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';

export function sqsEventOf(messages: readonly Message[]): SQSEvent {
  return {
    Records: messages.map((m) => ({
      messageId: m.MessageId,
      receiptHandle: m.ReceiptHandle,
      body: m.Body,
      attributes: { ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount },
    })),
  } as unknown as SQSEvent;
}
