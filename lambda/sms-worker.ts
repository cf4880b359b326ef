/**
 * Lambda entry for the SMS worker: drains the SMS queue (SQS event source with
 * ReportBatchItemFailures) and sends the missed-call text-backs (contract §13). Everything is
 * built once per container, at import.
 */
import { createSmsWorker } from './create-sms-worker';

export const handler = createSmsWorker(process.env);
