/**
 * The local CLIs run as a user runs them, as child processes: `npm run start` once, otherwise
 * the same scripts bundled by test/helpers/cli-bundles.ts (vitest's globalSetup builds them
 * before any test runs), in a clean environment (nothing from the developer's shell or `.env`:
 * LOCAL_ENV_FILE points at a file the test writes), on 127.0.0.1 only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI_OUTDIR = join(ROOT, 'dist', 'cli');

/** The bundle of `entry` (a path from the repository root, e.g. `bench/compare.ts`). */
export function cliBundle(entry: string): string {
  const bundle = join(CLI_OUTDIR, entry.replace(/\.ts$/, '.mjs'));
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: test/helpers/cli-bundles.ts bundles scripts/*.ts and its OTHER_ENTRIES`);
  return bundle;
}

/** PATH and HOME (node, npm and tsx need them) plus AWS variables that keep the SDK local. */
export function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    AWS_REGION: 'ap-southeast-2',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    npm_config_update_notifier: 'false',
  };
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  return { ...env, ...extra };
}

/** Writes a `.env`-format file for LOCAL_ENV_FILE. */
export function writeEnvFile(path: string, values: Record<string, string> = {}): string {
  writeFileSync(
    path,
    Object.entries(values)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  return path;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** What the run checks, named in the error if it never ends (e.g. "npm start with PORT=abc must refuse and exit"). */
  label?: string;
  /**
   * Killed after this long. A limit for a hang, not a speed check: keep it well above what the
   * run needs on a busy machine, and below the test's own timeout so this message is the one seen.
   */
  timeoutMs?: number;
  /** Written to its stdin (closed after). */
  input?: string;
}

/** Runs `scripts/<name>.ts` (its bundle) to completion. */
export function runScript(name: string, args: string[], env: NodeJS.ProcessEnv, options?: RunOptions): Promise<RunResult> {
  return runProcess(process.execPath, [cliBundle(`scripts/${name}.ts`), ...args], env, {
    label: `scripts/${name}.ts ${args.join(' ')}`.trim(),
    ...options,
  });
}

export function runProcess(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  { label = args.join(' '), timeoutMs = 20_000, input }: RunOptions = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    if (input !== undefined) child.stdin!.end(input);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${label}: still running after ${timeoutMs / 1000} s, killed\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface RunningServer {
  child: ChildProcess;
  url: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Sends `signal` to the process started (npm, or node) and resolves with its exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Cleanup after a failed test: SIGKILL to the whole process group (npm, tsx and node). */
  destroy(): Promise<void>;
}

/** Starts `npm start` (via npm, or scripts/start.ts directly) and waits for its banner. */
export async function startServer(env: NodeJS.ProcessEnv, { viaNpm = false, timeoutMs = 30_000 } = {}): Promise<RunningServer> {
  // A process group of its own, so cleanup can reach tsx and node behind npm even after a SIGKILL.
  const options = { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] as ('ignore' | 'pipe')[], detached: true };
  const child = viaNpm ? spawn('npm', ['run', 'start'], options) : spawn(process.execPath, [cliBundle('scripts/start.ts')], options);
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  const destroy = async () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
    if (!gone) await exited;
  };
  await waitFor(
    () => gone || output.includes('npm run send -- all'),
    timeoutMs,
    () => output,
  ).catch(async (error: unknown) => {
    await destroy();
    throw error;
  });
  if (gone) throw new Error(`npm start exited early:\n${output}`);
  const url = /webhook URL\s+(\S+)/.exec(output)?.[1];
  if (!url) {
    await destroy();
    throw new Error(`no URL in the banner:\n${output}`);
  }
  return {
    child,
    url,
    output: () => output,
    async stop(signal = 'SIGINT') {
      if (!gone) child.kill(signal);
      return exited;
    },
    destroy,
  };
}

export async function waitFor(condition: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out; output so far:\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The per-request short lines in `output`. */
export function requestLines(output: string): string[] {
  return output.split('\n').filter((line) => /^[A-Z]+ \/\S* \d{3} \w+ \d+ ms/.test(line));
}
