/**
 * Lambda entry for the reconciler: run by an EventBridge Scheduler schedule, finds the calls whose
 * webhook never arrived and sends a call check for each (contract §12).
 * Everything is built once per container, at import.
 */
import { createReconciler } from './create-reconciler';

export const handler = createReconciler(process.env);
