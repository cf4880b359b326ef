/**
 * `npm start`: the receiver on your machine, no AWS needed. The real handler behind a local
 * HTTP server; an embedded S3 (s3rver, data in .local/s3); the secret from the environment,
 * `.env` or a generated one; a CRM sink that prints payloads unless CRM_WEBHOOK_URL is set;
 * failed forwards kept in .local/retry-queue in place of SQS.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createCrmForwarder } from '../lambda/adapters/crm-client';
import { loadConfig, loadWorkerConfig } from '../lambda/config';
import { createReceiver } from '../lambda/create-receiver';
import { startCrmSink } from './lib/crm-sink';
import { createFolderDrainer } from './lib/drain-folder-queue';
import { startEmbeddedS3 } from './lib/embedded-s3';
import { createLocalServer, WEBHOOK_PATH } from './lib/local-server';
import { DEFAULT_PORT, LOCAL_BUCKET, LOCAL_DIR, loadDotEnv, secretOrGenerate } from './lib/local-env';

loadDotEnv();
mkdirSync(LOCAL_DIR, { recursive: true });
// The AWS SDK reads region, credentials and endpoints from process.env, so this is the env we use.
const env = process.env;
env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const port = Number(env.PORT ?? DEFAULT_PORT);
const host = env.HOST ?? '127.0.0.1';
const shown = relative(process.cwd(), LOCAL_DIR) || '.';

const { secret, generated } = secretOrGenerate();
env.ELEVENLABS_WEBHOOK_SECRET = secret;
delete env.WEBHOOK_SECRET_ARN; // local runs never read Secrets Manager

const bucket = env.AUDIO_BUCKET || LOCAL_BUCKET;
const s3 = await startEmbeddedS3(join(LOCAL_DIR, 's3'), [bucket]);
Object.assign(env, s3.env, { AUDIO_BUCKET: bucket });

let crmNote = `forwarding to CRM_WEBHOOK_URL (${env.CRM_WEBHOOK_URL})`;
if (!env.CRM_WEBHOOK_URL) {
  const sink = await startCrmSink((payload) => console.log(`\n[crm sink] received:\n${JSON.stringify(payload, null, 2)}\n`));
  env.CRM_WEBHOOK_URL = sink.url;
  crmNote = 'CRM sink prints each payload here (set CRM_WEBHOOK_URL to forward to a real CRM)';
}
env.CRM_RETRY_QUEUE_URL ||= pathToFileURL(join(LOCAL_DIR, 'retry-queue')).href;
// Only a folder queue is drained here; an SQS queue has its own worker.
const retryDir = env.CRM_RETRY_QUEUE_URL.startsWith('file:') ? fileURLToPath(env.CRM_RETRY_QUEUE_URL) : undefined;

try {
  loadConfig(env);
} catch (error) {
  console.error(`${(error as Error).message}\nFix the variable in your environment or .env (see .env.example).`);
  await s3.close();
  process.exit(1);
}
const handler = createReceiver(env);

// The retry worker's local twin: drain the folder queue on an interval with the same logic.
const drainIntervalMs = Number(env.RETRY_DRAIN_INTERVAL_MS ?? 15_000);
const workerConfig = loadWorkerConfig(env);
if (retryDir) {
  const drainer = createFolderDrainer(
    retryDir,
    createCrmForwarder({ url: workerConfig.crmWebhookUrl, timeoutMs: workerConfig.crmTimeoutMs, maxAttempts: workerConfig.crmMaxAttempts }),
  );
  setInterval(() => {
    void drainer.drainOnce().then(({ delivered, kept, deadLettered }) => {
      if (delivered + kept + deadLettered === 0) return;
      console.log(`[retry queue] delivered ${delivered}, still failing ${kept}, dead-lettered ${deadLettered}`);
    });
  }, drainIntervalMs).unref();
}
const server = createLocalServer({ handler });
server.listen(port, host, () => {
  const { port: bound } = server.address() as AddressInfo;
  const url = `http://${host}:${bound}${WEBHOOK_PATH}`;
  console.log(`
ElevenLabs webhook receiver running locally
  webhook URL   ${url}
  secret        ${generated ? `${secret}  (generated, saved in ${shown}/webhook-secret)` : 'from ELEVENLABS_WEBHOOK_SECRET'}
  audio         embedded S3 at ${s3.endpoint}, bucket "${bucket}" (files under ${shown}/s3/${bucket}/audio/)
  CRM           ${crmNote}
  retry queue   ${env.CRM_RETRY_QUEUE_URL}${retryDir ? ` (drained every ${drainIntervalMs / 1000} s)` : ''}

Next, in another terminal, send signed sample events:
  npm run send -- all${bound === DEFAULT_PORT ? '' : ` --url ${url}`}
`);
});

server.on('error', (error: NodeJS.ErrnoException) => {
  console.error(
    error.code === 'EADDRINUSE'
      ? `Port ${port} is in use (another \`npm start\`?). Stop it, or run with PORT=<other port> npm start.`
      : `Local server failed: ${error.message}`,
  );
  void s3.close().finally(() => process.exit(1));
});

const shutdown = () => {
  server.close();
  void s3.close().finally(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
