/**
 * The AWS stand-ins some figures need (s3rver for S3, the JSON-protocol stand-in for SQS and
 * Secrets Manager, dynalite for DynamoDB), in a
 * process of their own so their CPU is not counted as the handler's. Prints one JSON line with
 * their endpoints, then serves until its parent closes its stdin. 127.0.0.1 only.
 *
 * With BENCH_TLS_KEY and BENCH_TLS_CERT set (lib/stand-ins.ts `tls`), every endpoint it prints is
 * an HTTPS front (support/stand-ins/tls-front.ts) instead: what the Lambda sees on AWS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsFake } from '../support/stand-ins/aws-json';
import { startDynamo } from '../support/stand-ins/dynamo';
import { startElevenLabsApi } from '../support/stand-ins/elevenlabs-api';
import { startEmbeddedS3 } from '../support/stand-ins/s3';
import { frontOrigins } from '../support/stand-ins/tls-front';
import { STAND_IN_URL_FIELDS } from './lib/stand-ins';

const BUCKET = 'bench-calls';
const IDEMPOTENCY_TABLE = 'bench-idempotency';
const SECRET_ARN = 'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:bench-webhook';

/**
 * An S3 that acknowledges every PutObject at once and keeps nothing: for the per-event figure,
 * where what is measured is the receiver's own cost per event, not a local server's disk writes.
 */
const nullS3 = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { etag: '"00000000000000000000000000000000"', 'x-amz-request-id': 'bench' });
    res.end();
  });
});
await new Promise<void>((resolve) => nullS3.listen(0, '127.0.0.1', resolve));
const directory = mkdtempSync(join(tmpdir(), 'bench-s3-'));
const s3 = await startEmbeddedS3(directory, [BUCKET]);
const aws = await startAwsFake();
// The webhook secret as the stack keeps it (contract §8 WEBHOOK_SECRET_ARN); the parent passes it in the environment.
aws.secrets.set(SECRET_ARN, process.env.BENCH_WEBHOOK_SECRET!);
const dynamo = await startDynamo();
await dynamo.createTable(IDEMPOTENCY_TABLE);
const api = await startElevenLabsApi();
// Every conversation's recording is as long as the id says: `conv_bench_<bytes>`.
api.audio((id) => ({ kind: 'recording', bytes: Number(/^conv_bench_(\d+)/.exec(id)?.[1] ?? 0) || 1 }));
const plain = {
  s3Endpoint: s3.endpoint,
  nullS3Endpoint: `http://127.0.0.1:${(nullS3.address() as AddressInfo).port}`,
  bucket: BUCKET,
  sqsEndpoint: aws.endpoint,
  secretsEndpoint: aws.endpoint,
  secretArn: SECRET_ARN,
  dynamoEndpoint: dynamo.endpoint,
  idempotencyTable: IDEMPOTENCY_TABLE,
  audioCheckQueueUrl: aws.queueUrl('bench-audio-checks'),
  retryQueueUrl: aws.queueUrl('bench-retry'),
  apiBaseUrl: api.baseUrl,
  apiKey: api.apiKey,
};
const { BENCH_TLS_KEY: key, BENCH_TLS_CERT: cert } = process.env;
const fronts =
  key && cert
    ? await frontOrigins(
        STAND_IN_URL_FIELDS.map((field) => plain[field]),
        { key, cert },
      )
    : undefined;
const printed = { ...plain };
if (fronts) for (const field of STAND_IN_URL_FIELDS) printed[field] = fronts.rewrite(plain[field]);
process.stdout.write(`${JSON.stringify(printed)}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  nullS3.closeAllConnections();
  void Promise.all([
    fronts?.close(),
    s3.close(),
    aws.close(),
    dynamo.close(),
    api.close(),
    new Promise((resolve) => nullS3.close(resolve)),
  ]).finally(() => {
    rmSync(directory, { recursive: true, force: true });
    process.exit(0);
  });
});
