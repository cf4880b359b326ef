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
 * A new build of the receiver (a new code hash) makes a new cache and layer version. After a
 * runtime update the cache is not found until then: the receiver compiles as it would without
 * one, and says so once per container (`compile cache not in use`).
 */
import { CustomResource, Duration, FileSystem } from 'aws-cdk-lib';
import { CfnLayerVersion, LayerVersion } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { COMPILE_CACHE_MOUNT } from '../lambda/core/compile-cache-layer';
import { COMPILE_CACHE_PREFIX } from '../lambda/core/storage-keys';
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

/** The builder imports ~1 MB of JavaScript and writes ~0.5 MB: seconds; the rest is margin. */
const BUILDER_TIMEOUT = Duration.minutes(2);
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
      timeout: BUILDER_TIMEOUT,
      // The same memory, so the same CPU share as the receiver; the cache does not depend on it.
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

    const build = new CustomResource(this, 'Build', {
      serviceToken: this.builder.function.functionArn,
      resourceType: 'Custom::CompileCacheLayer',
      // The asset's own fingerprint (what CDK names it by): a new build makes a new cache.
      properties: { CodeHash: FileSystem.fingerprint(props.codePath, { exclude: CODE_EXCLUDE }) },
    });
    this.layer = new CfnLayerVersion(this, 'Layer', {
      description: "Node's compile cache for the receiver (SPEC §14), made at deploy time on its runtime",
      content: { s3Bucket: props.bucket.bucketName, s3Key: build.getAttString('Key') },
      compatibleRuntimes: [receiverFunction.runtime.name],
      compatibleArchitectures: [receiverFunction.architecture.name],
    });
    receiverFunction.addLayers(LayerVersion.fromLayerVersionArn(this, 'LayerVersion', this.layer.ref));
    receiverFunction.addEnvironment('NODE_COMPILE_CACHE', COMPILE_CACHE_MOUNT);
  }
}
