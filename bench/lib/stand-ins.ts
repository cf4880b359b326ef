/** Starts bench/stand-ins-child.ts and reads its endpoints; `close()` ends it. */
import { spawn } from 'node:child_process';
import { ROOT, tsxArgs } from './child';
import { assertLoopback, childEnv } from './local-env';

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
  close(): Promise<void>;
}

export function startStandIns(): Promise<StandIns> {
  const child = spawn(process.execPath, tsxArgs('stand-ins-child.ts'), { cwd: ROOT, env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
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
      for (const url of [
        found.s3Endpoint,
        found.nullS3Endpoint,
        found.sqsEndpoint,
        found.secretsEndpoint,
        found.dynamoEndpoint,
        found.apiBaseUrl,
      ])
        assertLoopback(url);
      resolve({
        ...found,
        close: () =>
          new Promise<void>((done) => {
            child.removeAllListeners('exit');
            child.once('exit', () => done());
            child.stdin.end();
          }),
      });
    });
  });
}
