/**
 * Lambda entry for the webhook receiver (API Gateway HTTP API payload 2.0, or REST 1.0).
 * Everything is built once per container, at import.
 */
import { createReceiver } from './create-receiver';

export const handler = createReceiver(process.env);
