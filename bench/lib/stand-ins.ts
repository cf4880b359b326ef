/** Starts bench/stand-ins-child.ts and reads its endpoints; `close()` ends it. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createLoopbackCertificate, type LoopbackCertificate, writeCaFile } from '../../support/stand-ins/tls-front';
import { ROOT, tsxArgs } from './child';
import { assertLoopback, childEnv } from './local-env';

/** Every field of `StandIns` that is a URL: checked for loopback here, fronted by HTTPS in the child. */
export const STAND_IN_URL_FIELDS = [
  's3Endpoint',
  'nullS3Endpoint',
  'sqsEndpoint',
  'secretsEndpoint',
  'dynamoEndpoint',
  'audioCheckQueueUrl',
  'retryQueueUrl',
  'apiBaseUrl',
] as const;

export interface StandIns {
  s3Endpoint: string;
  /** Acknowledges every PutObject at once, keeps nothing (per-event figure). */
  nullS3Endpoint: string;
  bucket: string;
  sqsEndpoint: string;
  /** Secrets Manager (the same JSON-protocol stand-in as SQS) holding the run's webhook secret at `secretArn`. */
  secretsEndpoint: string;
  secretArn: string;
  /** dynalite with an empty idempotency table. */
  dynamoEndpoint: string;
  idempotencyTable: string;
  audioCheckQueueUrl: string;
  retryQueueUrl: string;
  apiBaseUrl: string;
  apiKey: string;
  /** With `{ tls: true }`: the run's certificate (for more fronts) and the file children trust it from. */
  tls?: { certificate: LoopbackCertificate; caFile: string };
  close(): Promise<void>;
}

/**
 * `tls: true` puts every endpoint behind HTTPS (support/stand-ins/tls-front.ts), as on AWS; the
 * cold first answer (figure 11) and its profile (profile-cold.ts) use it.
 */
export async function startStandIns({ tls = false }: { tls?: boolean } = {}): Promise<StandIns> {
  let secure: StandIns['tls'];
  if (tls) {
    const certificate = await createLoopbackCertificate();
    secure = { certificate, caFile: writeCaFile(mkdtempSync(join(tmpdir(), 'bench-tls-')), certificate) };
  }
  const env = secure ? childEnv({ BENCH_TLS_KEY: secure.certificate.key, BENCH_TLS_CERT: secure.certificate.cert }) : childEnv();
  const child = spawn(process.execPath, tsxArgs('stand-ins-child.ts'), { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => reject(new Error(`stand-ins exited ${code}: ${err.slice(-300)}`)));
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      const found = JSON.parse(line) as Omit<StandIns, 'close'>;
      for (const field of STAND_IN_URL_FIELDS) assertLoopback(found[field]);
      resolve({
        ...found,
        tls: secure,
        close: () =>
          new Promise<void>((done) => {
            child.removeAllListeners('exit');
            child.once('exit', () => {
              if (secure) rmSync(dirname(secure.caFile), { recursive: true, force: true });
              done();
            });
            child.stdin.end();
          }),
      });
    });
  });
}
