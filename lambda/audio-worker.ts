/**
 * Lambda entry for the audio worker: drains the audio-check queue (SQS event source with
 * ReportBatchItemFailures) and recovers recordings the webhook could not deliver (contract §10).
 * Everything is built once per container, at import.
 */
import { createAudioWorker } from './create-audio-worker';

export const handler = createAudioWorker(process.env);
