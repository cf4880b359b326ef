/**
 * Runs a benchmark step in a fresh `node` process (cold import, audio memory, the throughput
 * server) and reads its JSON answer from the last line of stdout.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildOptions {
  args: string[];
  env: Record<string, string>;
  timeoutMs?: number;
  /** The node binary; this process's own by default (figures 11 and 12 run Node.js 24, lib/node24.ts). */
  node?: string;
}

/** Spawns `node <args>` in the repo root; resolves with the parsed last stdout line. */
export function runNodeJson<T>({ args, env, timeoutMs = 60_000, node = process.execPath }: ChildOptions): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0) {
        // stderr only: a child never prints the secret, but its stdout may carry payload-shaped JSON.
        reject(new Error(`child ${args.at(-1)} exited ${code ?? signal}: ${stderr.trim().slice(-500)}`));
        return;
      }
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`child ${args.at(-1)} printed no JSON result`));
      }
    });
  });
}

/** `node --import tsx <file>`: a TypeScript child, resolved from the repo root like `npm run`. */
export function tsxArgs(file: string, ...rest: string[]): string[] {
  return ['--import', 'tsx', fileURLToPath(new URL(`../${file}`, import.meta.url)), ...rest];
}
