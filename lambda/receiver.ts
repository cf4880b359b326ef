/**
 * Lambda entry for the webhook receiver (API Gateway HTTP API payload 2.0, or REST 1.0).
 * Everything is built once per container, at import, and what the first event needs is loaded
 * then too: Lambda's INIT awaits this module (SPEC §14).
 *
 * The receiver itself is imported from here rather than bundled into this file, so that the
 * bundle's code all sits in chunks/, which the layer builder imports to fill the compile cache
 * without running INIT (create-layer-builder.ts); this file is the one module it leaves out.
 */
import * as nodeModule from 'node:module';

const { initReceiver } = await import('./create-receiver');

// Node 22.1+; the namespace import keeps older Nodes (the tests' Node 20) loading this file.
export const handler = await initReceiver(process.env, { compileCacheDir: nodeModule.getCompileCacheDir?.() });
