/**
 * The parts of the S3 client the adapters use, and nothing else. Loaded with `import()` this
 * module is one lazy chunk; importing the package itself that way would keep every S3 command
 * in it, since a namespace import leaves esbuild nothing to tree-shake (bench figures 1, 2d).
 */
export {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
