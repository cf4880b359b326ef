/**
 * `npm start`: the receiver on your machine, no AWS needed. The production handler behind a
 * local HTTP server, with real local parts in place of AWS: an embedded S3 (s3rver) for audio,
 * an embedded DynamoDB (dynalite) for deduplication, a folder in place of the SQS retry queue
 * (drained with the retry worker's logic), and a CRM sink that prints payloads unless
 * CRM_WEBHOOK_URL is set. Everything it keeps lives in the data folder (LOCAL_DATA_DIR).
 * See docs/local-development.md for what each line it prints means.
 */
import { existsSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createCrmForwarder } from '../lambda/adapters/crm-client';
import { loadConfig } from '../lambda/config/receiver-config';
import { loadWorkerConfig } from '../lambda/config/retry-worker-config';
import { DEFAULT_ELEVENLABS_API_BASE_URL } from '../lambda/core/audio-check';
import { ConfigurationError } from '../lambda/core/errors';
import { ARCHIVE_PREFIX, AUDIO_PREFIX } from '../lambda/core/storage-keys';
import { createReceiver } from '../lambda/create-receiver';
import { createFolderDrainer, DEAD_LETTER_FOLDER, localQueueSender, MAX_RECEIVES } from '../support/folder-queue';
import { startCrmStandIn } from '../support/stand-ins/crm';
import { CliError, parseCliArgs, runCli } from './lib/cli';
import { prepareDataFolder } from './lib/data-folder';
import { AUDIO_CHECK_POLL_MS, createLocalAudioChecks, LOCAL_AUDIO_CHECK_DELAY_SECONDS } from './lib/local-audio-checks';
import {
  LOCAL_BUCKET,
  LOCAL_IDEMPOTENCY_TABLE,
  LocalConfigError,
  loadLocalConfig,
  loadLocalEnv,
  localPaths,
  shownPath,
} from './lib/local-config';
import { chooseServerSecret, configuredSecret, describeSource, readSavedSecret, saveSecret } from './lib/local-secret';
import { createLocalServer, WEBHOOK_PATH } from './lib/local-server';
import { type LocalTexts, startLocalTexts } from './lib/local-texts';
import { createRequestLog } from './lib/request-log';
import { type DrainLoop, describeDrain, describeWaiting, startDrainLoop } from './lib/retry-drains';
import { isServerAlive, LOCAL_TARGET_NAMES, readServerRecord, removeServerRecord, writeServerRecord } from './lib/server-record';

const print = (line: string) => process.stdout.write(`${line}\n`);
const FIX = 'fix it in your environment or .env (see .env.example)';
/** Closing the embedded servers should take milliseconds; past this, stop anyway. */
const SHUTDOWN_GRACE_MS = 3_000;

const HELP = `usage: npm start

Runs the receiver locally; takes its settings from the environment and .env
(PORT, HOST, LOCAL_DATA_DIR, RETRY_DRAIN_INTERVAL_MS, LOG_FORMAT and the receiver's own).
See docs/local-development.md.

Exit codes: 0 stopped (Ctrl-C, SIGINT or SIGTERM); 1 a setting refused, or the start failed.`;

await runCli('npm start', async () => {
  if (parseCliArgs({ options: { help: { type: 'boolean', short: 'h' } } }).values.help) {
    print(HELP);
    return 0;
  }
  let loaded: ReturnType<typeof loadLocalEnv>;
  let config: ReturnType<typeof loadLocalConfig>;
  try {
    loaded = loadLocalEnv(process.env);
    config = loadLocalConfig(loaded.env);
  } catch (error) {
    if (error instanceof LocalConfigError) throw new CliError(`${error.message}; ${FIX}`);
    throw error;
  }
  // The AWS SDK reads region, credentials and endpoints from process.env, so this is the env we use.
  const env = Object.assign(process.env, loaded.env);
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // The receiver's own settings, checked before anything starts or is written. What npm start
  // fills in itself (secret, sink, folder queue, bucket) gets stand-ins here; loadConfig checks
  // the real values again below.
  checkReceiverConfig({
    ...env,
    WEBHOOK_SECRET_ARN: '',
    ELEVENLABS_WEBHOOK_SECRET: 'stand-in',
    CRM_WEBHOOK_URL: env.CRM_WEBHOOK_URL || 'http://127.0.0.1/crm',
    CRM_RETRY_QUEUE_URL: env.CRM_RETRY_QUEUE_URL || 'file:///retry-queue',
    AUDIO_BUCKET: env.AUDIO_BUCKET || LOCAL_BUCKET,
    SMS_QUEUE_URL: env.SMS_QUEUE_URL || 'file:///texts',
  });

  const paths = localPaths(config.dataDir);
  // A start that fails (a busy port, say) leaves nothing of its own behind: not a folder it made,
  // not a secret it generated and nobody saw (issue 19).
  const folderExisted = existsSync(config.dataDir);
  const problem = prepareDataFolder(config.dataDir);
  if (problem) throw new CliError(problem);
  const running = readServerRecord(paths.serverFile);
  if (running && (await isServerAlive(running))) {
    throw new CliError(
      `npm start is already running against ${shownPath(config.dataDir)} (pid ${running.pid}, ${running.url}); stop it first, or use another LOCAL_DATA_DIR`,
    );
  }

  // The secret: one source of truth, recorded in server.json for `npm run send`.
  const chosen = chooseServerSecret(configuredSecret(env, loaded.fromDotEnv), readSavedSecret(paths.secretFile));
  if (chosen.source === 'generated') saveSecret(paths.secretFile, chosen.secret);
  env.ELEVENLABS_WEBHOOK_SECRET = chosen.secret;
  const ignoredArn = Boolean(env.WEBHOOK_SECRET_ARN?.trim());
  delete env.WEBHOOK_SECRET_ARN; // local runs never read Secrets Manager

  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = () => Promise.allSettled(stops.splice(0).map((stop) => stop()));
  try {
    // Loaded only now: s3rver and dynalite are most of npm start's load time, which a start
    // refused above (a bad setting, a busy folder) does not need.
    const [{ startEmbeddedS3 }, { startDynamo }] = await Promise.all([
      import('../support/stand-ins/s3'),
      import('../support/stand-ins/dynamo'),
    ]);
    const bucket = env.AUDIO_BUCKET || LOCAL_BUCKET;
    const s3 = await startEmbeddedS3(paths.s3Dir, [bucket]);
    stops.push(() => s3.close());
    Object.assign(env, s3.env, { AUDIO_BUCKET: bucket });

    const table = env.IDEMPOTENCY_TABLE || LOCAL_IDEMPOTENCY_TABLE;
    const dynamo = await startDynamo({ directory: paths.dynamoDir, table });
    stops.push(() => dynamo.close());
    Object.assign(env, dynamo.env);

    let crmNote = `forwarding to CRM_WEBHOOK_URL (${env.CRM_WEBHOOK_URL})`;
    if (!env.CRM_WEBHOOK_URL) {
      const sink = await startCrmStandIn({
        record: false,
        onPayload: (payload) => print(`\n[crm sink] received:\n${JSON.stringify(payload, null, 2)}\n`),
      });
      stops.push(() => sink.close());
      env.CRM_WEBHOOK_URL = sink.url;
      crmNote = 'a sink that prints each payload here (set CRM_WEBHOOK_URL to forward to a real CRM)';
    }
    env.CRM_RETRY_QUEUE_URL ||= pathToFileURL(paths.retryDir).href;
    // Only a folder queue is drained here; an SQS queue has its own worker.
    const retryDir = env.CRM_RETRY_QUEUE_URL.startsWith('file:') ? fileURLToPath(env.CRM_RETRY_QUEUE_URL) : undefined;
    // Every call kept (contract §10), as the stack deploys it: the archive on, audio checks on a folder.
    env.ARCHIVE_EVENTS ||= 'true';
    env.AUDIO_CHECK_QUEUE_URL ||= pathToFileURL(paths.audioCheckDir).href;
    env.AUDIO_CHECK_DELAY_SECONDS ||= String(LOCAL_AUDIO_CHECK_DELAY_SECONDS);
    const audioCheckDir = env.AUDIO_CHECK_QUEUE_URL.startsWith('file:') ? fileURLToPath(env.AUDIO_CHECK_QUEUE_URL) : undefined;
    // Missed-call text-back (contract §13), when texting is configured: a folder queue and the SMS sink.
    let texts: LocalTexts | undefined;
    if (env.SMS_ORIGINATION_IDENTITY) {
      env.SMS_QUEUE_URL ||= pathToFileURL(paths.smsDir).href;
      env.SMS_DEAD_LETTER_QUEUE_URL ||= pathToFileURL(join(paths.smsDir, DEAD_LETTER_FOLDER)).href;
      if (env.SMS_QUEUE_URL.startsWith('file:')) {
        texts = await startLocalTexts(fileURLToPath(env.SMS_QUEUE_URL), env, print);
        const { close } = texts;
        stops.push(close);
      }
    }

    checkReceiverConfig(env);

    const requestLog = createRequestLog(config.logFormat, print);
    const handler = createReceiver(env, { write: requestLog.write, queueSender: localQueueSender });
    let drains: DrainLoop | undefined;
    let drainer: ReturnType<typeof createFolderDrainer> | undefined;
    const audioChecks = audioCheckDir ? createLocalAudioChecks(audioCheckDir, env, print, config.logFormat === 'json') : undefined;
    let audioChecksShown = 0;
    const deadLetterShown = retryDir ? `${shownPath(join(retryDir, DEAD_LETTER_FOLDER))}/` : '';
    const server = createLocalServer({
      handler,
      onServed: (request) => {
        const outcome = requestLog.served(request);
        if (outcome === 'queued' && drainer && drains) {
          const loop = drains;
          void drainer.countWaiting().then((waiting) => print(describeWaiting(waiting, loop.nextDrainAt(), Date.now())));
        }
        if (audioChecks && (outcome === 'forwarded' || outcome === 'queued')) {
          void audioChecks.waiting().then(({ count, nextVisibleAt }) => {
            if (count > audioChecksShown && nextVisibleAt !== undefined) {
              print(`[audio checks] ${count} waiting; the next runs at ${new Date(nextVisibleAt).toTimeString().slice(0, 8)}`);
            }
            audioChecksShown = count;
          });
        }
      },
    });
    let audioDrains: DrainLoop | undefined;
    stops.push(async () => {
      drains?.stop();
      audioDrains?.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    const bound = await new Promise<number>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new CliError(
            error.code === 'EADDRINUSE'
              ? `port ${config.port} is in use (another npm start?); stop it, or set PORT to another port`
              : `the local server could not listen on ${config.host}:${config.port}: ${error.code ?? error.message}`,
          ),
        ),
      );
      server.listen(config.port, config.host, () => resolve((server.address() as AddressInfo).port));
    });
    // A server on every interface is still reached on this machine through 127.0.0.1.
    const urlHost =
      config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `http://${urlHost}:${bound}${WEBHOOK_PATH}`;
    writeServerRecord(paths.serverFile, {
      pid: process.pid,
      url,
      secret: chosen.secret,
      secretSource: chosen.source,
      startedAt: new Date().toISOString(),
      env: Object.fromEntries(LOCAL_TARGET_NAMES.flatMap((name) => (env[name] ? [[name, env[name]]] : []))),
    });
    stops.push(async () => removeServerRecord(paths.serverFile, process.pid));

    const secretLine =
      chosen.source === 'generated'
        ? `${chosen.secret}  (${describeSource(chosen.source, shownPath(paths.secretFile))}; shown this once)`
        : describeSource(chosen.source, shownPath(paths.secretFile));
    const drainEvery = `${config.retryDrainIntervalMs / 1000} s`;
    print(`
ElevenLabs webhook receiver running locally (the production handler; Ctrl-C stops it)
  webhook URL   ${url}
  secret        ${secretLine}${ignoredArn ? '\n                (WEBHOOK_SECRET_ARN is ignored locally)' : ''}
  audio         embedded S3 at ${s3.endpoint}, bucket "${bucket}" (files under ${shownPath(paths.s3Dir)}/${bucket}/${AUDIO_PREFIX})
  dedup         embedded DynamoDB at ${dynamo.endpoint}, table "${table}" (kept in ${shownPath(paths.dynamoDir)}/)
  CRM           ${crmNote}
  retry queue   ${retryDir ? `${shownPath(retryDir)}/ (drained now and every ${drainEvery}; after ${MAX_RECEIVES} failed drains: ${deadLetterShown})` : `${env.CRM_RETRY_QUEUE_URL} (not drained here)`}
  log           ${config.logFormat === 'json' ? 'the JSON line Lambda writes, per request' : 'one line per request (LOG_FORMAT=json for the JSON line Lambda writes)'}
  archive       every verified transcription and failure event, under ${shownPath(paths.s3Dir)}/${bucket}/${ARCHIVE_PREFIX}
  texts         ${texts ? `missed outbound calls are texted through the SMS worker's code to a sink that prints each text (${shownPath(paths.smsDir)}/)` : env.SMS_ORIGINATION_IDENTITY ? `${env.SMS_QUEUE_URL} (not drained here)` : 'off (set SMS_ORIGINATION_IDENTITY and SMS_TEMPLATE to try the missed-call text-back)'}
  audio checks  ${audioCheckDir ? `${shownPath(audioCheckDir)}/: each call's recording is checked ${env.AUDIO_CHECK_DELAY_SECONDS} s after its transcription, by the audio worker's code` : `${env.AUDIO_CHECK_QUEUE_URL} (not drained here)`}
                ${env.ELEVENLABS_API_KEY ? `missing recordings are fetched from ${env.ELEVENLABS_API_BASE_URL || DEFAULT_ELEVENLABS_API_BASE_URL} with ELEVENLABS_API_KEY` : 'ELEVENLABS_API_KEY is not set: a missing recording is reported as AudioMissing (set it to fetch recordings from ElevenLabs)'}
  data folder   ${shownPath(config.dataDir)}/ (npm run reset empties it)

Next, in another terminal, send signed sample events:
  npm run send -- all
`);

    if (retryDir) {
      const folder = createFolderDrainer(retryDir, createCrmForwarder(loadWorkerConfig(env).crm));
      drainer = folder;
      drains = startDrainLoop({
        drain: folder.drainOnce,
        intervalMs: config.retryDrainIntervalMs,
        onDrained: async (summary) => {
          const now = Date.now();
          const line = describeDrain(summary, await folder.countWaiting(), drains?.nextDrainAt() ?? now, now, deadLetterShown);
          if (line) print(line);
        },
      });
    }
    if (texts) {
      const { drainer } = texts;
      const textDrains = startDrainLoop({ drain: drainer.drainOnce, intervalMs: AUDIO_CHECK_POLL_MS, onDrained: async () => undefined });
      stops.unshift(async () => textDrains.stop());
    }
    if (audioChecks && audioCheckDir) {
      audioDrains = startDrainLoop({
        drain: audioChecks.drainOnce,
        intervalMs: AUDIO_CHECK_POLL_MS,
        onDrained: async (summary) => {
          if (summary.done + summary.kept + summary.deadLettered > 0) audioChecksShown = (await audioChecks.waiting()).count;
          if (summary.deadLettered > 0)
            print(`[audio checks] moved ${summary.deadLettered} to ${shownPath(join(audioCheckDir, DEAD_LETTER_FOLDER))}/`);
        },
      });
    }
  } catch (error) {
    await stopAll();
    if (!folderExisted) rmSync(config.dataDir, { recursive: true, force: true });
    else if (chosen.source === 'generated') rmSync(paths.secretFile, { force: true });
    throw error;
  }

  // Ctrl-C, or SIGINT/SIGTERM from a process manager: close everything, say goodbye, exit 0.
  // Ctrl-C reaches npm, tsx and this process at once, so a second signal while stopping is expected.
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      let said = false;
      const done = () => {
        if (said) return;
        said = true;
        print(`Stopped. Local data kept in ${shownPath(config.dataDir)}/ (npm run reset empties it).`);
        resolve(0);
      };
      setTimeout(done, SHUTDOWN_GRACE_MS).unref();
      void stopAll().then(done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
});

/** The receiver's configuration as Lambda would load it (lambda/config/receiver-config.ts), or one line naming what is wrong. */
function checkReceiverConfig(env: NodeJS.ProcessEnv): void {
  try {
    loadConfig(env);
  } catch (error) {
    const detail = error instanceof ConfigurationError ? error.detail : (error as Error).message;
    throw new CliError(`invalid configuration: ${detail}; ${FIX}`);
  }
}
