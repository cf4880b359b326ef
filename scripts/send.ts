/**
 * `npm run send -- [transcription|audio|failure|all|ping] [--file payload.json] [options]`
 * Signs events the way ElevenLabs does and posts them, printing each response. By default
 * it talks to the running `npm start` with the secret that server recorded (server.json).
 * See docs/local-development.md. Exit codes: 0 every event answered 200, 1 any other answer or an
 * unreachable server, 2 bad usage.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { signWebhook } from '../lambda/core/verify-signature';
import { WEBHOOK_PATH } from '../support/api-gateway-event';
import { CliError, parseCliArgs, runCli } from './lib/cli';
import { canInline, curlCommand } from './lib/curl-command';
import { loadLocalConfig, loadLocalEnv, localPaths } from './lib/local-config';
import { chooseSendSecret, configuredSecret, readSavedSecret } from './lib/local-secret';
import {
  filePayload,
  isSendKind,
  type Outgoing,
  parseAudioSeconds,
  parseConversationId,
  samplePayloads,
  TEST_SUBJECT,
} from './lib/send-payloads';
import { isLocalHost, isSameServer, readServerRecord } from './lib/server-record';

const HELP = `usage: npm run send -- [transcription|audio|failure|all|ping] [options]

  transcription|audio|failure|all   signed sample events (default: all)
  ping                              an event of an unsupported type: a receiver answers 200 "skipped"
                                    and creates nothing, so it checks a URL and its secret
  --file <payload.json>             sign and send a saved payload as it is (instead of a kind)
  --conversation-id <id>            use this conversation id (sets data.conversation_id of --file)
  --url <url>                       where to send (default: the running npm start)
  --secret <secret>                 sign with this secret (default: the running npm start's)
  --audio-seconds <n>               length of the sample MP3, 0 < n <= 600 (default 3)
  --print-curl                      print curl commands instead of sending
  --yes                             allow samples and --file to a URL that is not this machine
                                    (they create records there, subject "${TEST_SUBJECT}")

Exit codes: 0 every event answered 200, 1 any other answer or an unreachable server, 2 bad usage.`;

/** A deployment that does not answer within this long is reported as unreachable. */
const REQUEST_TIMEOUT_MS = 30_000;

await runCli('send', async () => {
  const { values, positionals } = parseCliArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      secret: { type: 'string' },
      'audio-seconds': { type: 'string' },
      file: { type: 'string' },
      'conversation-id': { type: 'string' },
      'print-curl': { type: 'boolean' },
      yes: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (positionals.length > 1) throw new CliError(`one kind at a time, got ${positionals.join(' ')} (see --help)`, 2);
  const kind = positionals[0];
  if (kind !== undefined && !isSendKind(kind))
    throw new CliError(`unknown kind ${JSON.stringify(kind)}: use transcription, audio, failure, all or ping (see --help)`, 2);
  if (kind !== undefined && values.file !== undefined) throw new CliError('give either a kind or --file, not both', 2);
  const audioSeconds = parseAudioSeconds(values['audio-seconds']);
  const conversationId = parseConversationId(values['conversation-id']);

  const loaded = loadLocalEnv(process.env);
  const config = loadLocalConfig(loaded.env);
  const paths = localPaths(config.dataDir);
  const server = readServerRecord(paths.serverFile);
  const target = targetUrl(values.url ?? server?.url ?? `http://127.0.0.1:${config.port}${WEBHOOK_PATH}`);
  const local = isLocalHost(target.hostname);

  const payloads: Outgoing[] =
    values.file !== undefined
      ? [filePayload(values.file, readPayloadFile(values.file), conversationId)]
      : samplePayloads(kind ?? 'all', { conversationId, audioSeconds, markAsTest: !local });
  if (!local && !values.yes && !values['print-curl'] && payloads.some((p) => p.createsRecord)) {
    throw new CliError(
      `refusing to send ${values.file !== undefined ? 'a saved payload' : 'samples'} to ${target.host}, which is not this machine: they create records there. Add --yes, or use "ping" to check the URL and secret without a record`,
      2,
    );
  }

  const targetIsServer = server !== undefined && isSameServer(target, server.url);
  const { secret, warning } = chooseSendSecret({
    flag: values.secret,
    server: targetIsServer ? { secret: server.secret, source: server.secretSource } : undefined,
    configured: configuredSecret(loaded.env, loaded.fromDotEnv),
    saved: readSavedSecret(paths.secretFile),
    targetIsLocal: local,
  });
  if (warning) process.stderr.write(`${warning}\n`);
  if (!secret) {
    throw new CliError(
      local
        ? 'no secret to sign with: start the receiver with npm start, pass --secret, or set ELEVENLABS_WEBHOOK_SECRET'
        : `no secret to sign with for ${target.host}: pass --secret with that webhook's secret, or set ELEVENLABS_WEBHOOK_SECRET`,
      2,
    );
  }

  if (values['print-curl']) {
    printCurl(target, secret, payloads);
    return 0;
  }
  let failed = false;
  let mismatches = 0;
  for (const payload of payloads) {
    const { status, text } = await post(target, secret, payload.body, local);
    process.stdout.write(`${payload.label.padEnd(13)} ${status} ${text}\n`);
    if (payload.label === 'ping' && status === 200) {
      process.stdout.write(`${''.padEnd(13)} the receiver verified the signature and ignored the event: URL and secret are right\n`);
    }
    if (status === 413) process.stdout.write(`${''.padEnd(13)} ${tooLarge(payload.label)}\n`);
    if (status === 401 && text.includes('signature mismatch')) mismatches += 1;
    failed ||= status !== 200;
  }
  // Said once, not per event: the server is not verifying with the secret send signed with.
  // Not after the warning above: it already said why (the --secret given differs from the server's).
  if (mismatches > 0 && !warning) process.stderr.write(`send: ${mismatchHint(target, targetIsServer, config.dataDir)}\n`);
  return failed ? 1 : 0;
});

/** Why a 413: an audio event past ~4.9 minutes of 128 kbit/s MP3; anything else is simply too big. */
function tooLarge(label: string): string {
  const what = label === 'audio' ? 'about 4.9 minutes of audio at 128 kbit/s' : 'envelope included';
  return `the event is over Lambda's 6,291,456-byte limit (${what}): a deployment would not receive it either`;
}

function mismatchHint(target: URL, targetIsServer: boolean, dataDir: string): string {
  if (targetIsServer) return 'the server answered "signature mismatch": pass --secret with the secret it verifies with';
  return `${target.host} does not verify with the secret send used: it is not the npm start of ${dataDir} (LOCAL_DATA_DIR). Pass --secret with that server's secret, or point LOCAL_DATA_DIR at its data folder`;
}

function targetUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`--url must be an http(s) URL (got ${JSON.stringify(value.slice(0, 80))})`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CliError(`--url must be an http(s) URL (got ${JSON.stringify(value.slice(0, 80))})`, 2);
  return url;
}

/**
 * npm runs scripts from the repository root; INIT_CWD is where the user typed the command, so a
 * relative --file means what it says there.
 */
function readPayloadFile(name: string): Buffer {
  const path = resolve(process.env.INIT_CWD ?? process.cwd(), name);
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a folder'
          : code === 'EACCES'
            ? 'permission denied'
            : (code ?? 'unreadable');
    throw new CliError(`cannot read --file ${name} (${path}): ${why}`);
  }
}

async function post(url: URL, secret: string, body: string | Buffer, local: boolean): Promise<{ status: number; text: string }> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: signWebhook(secret, body, Date.now()),
      body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    const hint = local ? ' — is npm start running?' : '';
    throw new CliError(`cannot reach ${url.href}: ${networkReason(error)}${hint}`);
  }
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const name = (error as Error).name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  switch (cause?.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
      return 'host not found';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection closed before an answer';
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connection timed out';
    default:
      return cause?.code ?? cause?.message ?? (error as Error).message;
  }
}

/** One curl command per payload on stdout; large bodies go to a 0600 file under the temp folder. */
function printCurl(url: URL, secret: string, payloads: Outgoing[]): void {
  let folder: string | undefined;
  for (const [index, payload] of payloads.entries()) {
    const headers = signWebhook(secret, payload.body, Date.now());
    if (canInline(payload.body)) {
      process.stdout.write(`${curlCommand({ url: url.href, headers, body: payload.body.toString() })}\n`);
      continue;
    }
    folder ??= mkdtempSync(join(tmpdir(), 'elevenlabs-send-'));
    const file = join(folder, `${index + 1}-${payload.label.replace(/[^\w.-]/g, '_')}.json`);
    writeFileSync(file, payload.body, { mode: 0o600 });
    process.stdout.write(`${curlCommand({ url: url.href, headers, bodyFile: file })}\n`);
  }
  process.stderr.write('# signed now: the signature is accepted for 30 minutes (SIGNATURE_TOLERANCE_SECONDS)\n');
}
