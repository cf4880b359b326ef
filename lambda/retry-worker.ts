/**
 * Lambda entry for the retry worker: drains the CRM retry queue (SQS event source with
 * ReportBatchItemFailures). Everything is built once per container, at import.
 */
import { createRetryWorker } from './create-retry-worker';

export const handler = createRetryWorker(process.env);
