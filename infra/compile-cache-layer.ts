/**
 * SPEC §14: the receiver's compile cache, made at deploy time on the receiver's own runtime and
 * given to it as a layer. Node keys its compile cache to its exact build, V8 flags, CPU
 * architecture and user id (lambda/adapters/compile-cache.ts), so no cache made on a build
 * machine would ever be read on Lambda: a custom resource runs the layer builder
 * (lambda/create-layer-builder.ts) with the receiver's code asset, runtime and architecture, and
 * it writes the cache's archive to the calls bucket; CloudFormation creates the layer from it.
 * The receiver's NODE_COMPILE_CACHE points at the layer's folder, and its first answer skips most
 * of its compiling (bench figure 11, ~0.9× its wall time without the cache).
 *
 * A new build of the receiver, or a new runtime, architecture or memory size, makes a new cache
 * and layer version (`buildHash`). After Lambda updates the runtime by itself the cache is not
 * found until then: the receiver compiles as it would without
 * one, and says so once per container (`compile cache not in use`).
 */
import { createHash } from 'node:crypto';
import { CustomResource, Duration, FileSystem } from 'aws-cdk-lib';
import { CfnLayerVersion, LayerVersion } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { COMPILE_CACHE_MOUNT } from '../lambda/core/compile-cache-layer';
import { COMPILE_CACHE_PREFIX } from '../lambda/core/storage-keys';
import { LAYER_BUILDER_TIMEOUT_MS } from '../lambda/core/time-budget';
import { bindBucketPrefix } from './bindings';
import { CODE_EXCLUDE, NodeFunction } from './node-function';

export interface CompileCacheLayerProps {
  readonly receiver: NodeFunction;
  /** The receiver's code folder; the builder runs with the same asset. */
  readonly codePath: string;
  readonly memorySize: number;
  readonly bucket: Bucket;
  readonly logRetention: RetentionDays;
}

/** The archive is read once, when CloudFormation creates the layer version. */
export const COMPILE_CACHE_ARCHIVE_DAYS = 30;

export class CompileCacheLayer extends Construct {
  readonly builder: NodeFunction;
  readonly layer: CfnLayerVersion;

  constructor(scope: Construct, id: string, props: CompileCacheLayerProps) {
    super(scope, id);
    const receiverFunction = props.receiver.function;
    this.builder = new NodeFunction(this, 'Builder', {
      codePath: props.codePath,
      handler: 'layer-builder/index.handler',
      description: "Deploy time: fills Node's compile cache for the receiver on its runtime and writes it as a layer archive",
      timeout: Duration.millis(LAYER_BUILDER_TIMEOUT_MS),
      // The same memory as the receiver: Lambda's Node bootstrap may derive heap flags from it,
      // and V8 flags that are not at their defaults can be part of the cache's key.
      memorySize: props.memorySize,
      logRetention: props.logRetention,
    });
    bindBucketPrefix(this.builder, {
      env: { LAYER_BUCKET: props.bucket.bucketName },
      bucket: props.bucket,
      prefix: COMPILE_CACHE_PREFIX,
      actions: ['s3:PutObject'],
      why: 'The layer archive is deploy/compile-cache/<code hash>.zip, the hash known only at deploy; the grant is PutObject only, on that prefix of this one bucket.',
    });
    props.bucket.addLifecycleRule({
      id: 'expire-compile-cache-archives',
      prefix: COMPILE_CACHE_PREFIX,
      expiration: Duration.days(COMPILE_CACHE_ARCHIVE_DAYS),
    });

    const layerProps = {
      description: "Node's compile cache for the receiver (SPEC §14), made at deploy time on its runtime",
      compatibleRuntimes: [receiverFunction.runtime.name],
      compatibleArchitectures: [receiverFunction.architecture.name],
    };
    const build = new CustomResource(this, 'Build', {
      serviceToken: this.builder.function.functionArn,
      resourceType: 'Custom::CompileCacheLayer',
      // CloudFormation waits this long for an answer, not its default hour (the builder answers
      // well within its own 2 minutes, even when the fill stalls: create-layer-builder.ts).
      serviceTimeout: Duration.minutes(5),
      properties: { CodeHash: buildHash(props, layerProps) },
    });
    this.layer = new CfnLayerVersion(this, 'Layer', {
      ...layerProps,
      content: { s3Bucket: props.bucket.bucketName, s3Key: build.getAttString('Key') },
    });
    receiverFunction.addLayers(LayerVersion.fromLayerVersionArn(this, 'LayerVersion', this.layer.ref));
    receiverFunction.addEnvironment('NODE_COMPILE_CACHE', COMPILE_CACHE_MOUNT);
  }
}

/**
 * What names a cache and its archive: the receiver asset's fingerprint (what CDK names the asset
 * by), with everything else the cache depends on (runtime, architecture, memory) and the layer's
 * own properties. Any of them changing makes a new cache and a new archive key, so CloudFormation
 * never re-reads an archive the lifecycle rule may have expired, and never keeps a cache made for
 * another runtime.
 */
function buildHash(props: CompileCacheLayerProps, layerProps: object): string {
  const fn = props.receiver.function;
  const inputs = [
    FileSystem.fingerprint(props.codePath, { exclude: CODE_EXCLUDE }),
    fn.runtime.name,
    fn.architecture.name,
    props.memorySize,
    layerProps,
  ];
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex');
}
