/**
 * Lambda entry for the compile cache layer builder, a CloudFormation custom resource (SPEC §14,
 * create-layer-builder.ts). Built into the receiver's folder (dist/receiver/layer-builder/) so
 * that it runs beside the receiver's code. `fillCompileCache` is exported for bench figure 11,
 * which fills the cache for its receiver the same way.
 */
import { createLayerBuilder } from './create-layer-builder';

export { fillCompileCache } from './adapters/compile-cache';
export const handler = createLayerBuilder(process.env);
