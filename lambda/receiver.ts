/**
 * Lambda entry for the webhook receiver (API Gateway HTTP API payload 2.0, or REST 1.0).
 * Everything is built once per container, at import, and what the first event needs is loaded
 * then too: Lambda's INIT awaits this module (SPEC §14).
 */
import { initReceiver } from './create-receiver';

export const handler = await initReceiver(process.env);
