/**
 * How the local CLIs fail: one clear line on stderr and a non-zero exit, never a stack trace
 * (unknown flags, bad numbers, unreadable files, unreachable URLs alike).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { isKeySafeId } from '../../lambda/core/storage-keys';

/** A problem the user can fix. Exit code 2 for usage, 1 for everything else. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** An id flag (`--agent`, `--conversation`) as it may appear in a storage key, else a usage error. */
export function checkKeySafeIdFlag(flag: string, value: string | undefined): void {
  if (value !== undefined && !isKeySafeId(value)) throw new CliError(`${flag} must be 1-128 letters, digits, "_", "." or "-"`, 2);
}

/** `parseArgs` with its errors turned into one-line CliErrors (exit code 2). */
export function parseCliArgs<T extends ParseArgsConfig>(config: T) {
  try {
    return parseArgs(config);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = (error as Error).message;
    const quoted = /'([^']+)'/.exec(message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new CliError(`unknown option ${quoted ?? ''} (see --help)`, 2);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new CliError(`${firstSentence(message)} (see --help)`, 2);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new CliError(`unexpected argument ${quoted ?? ''} (see --help)`, 2);
    throw error;
  }
}

/** Runs a CLI's main function and exits with its code, or prints one line for an error. */
export async function runCli(name: string, main: () => Promise<number>): Promise<never> {
  // The AWS SDK warns on every client when Node is older than it would like (Node 20 here, 24 on Lambda): noise for a CLI user.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let code: number;
  try {
    code = await main();
  } catch (error) {
    const expected = error instanceof CliError;
    process.stderr.write(`${name}: ${expected ? error.message : `unexpected error: ${firstLine(error)}`}\n`);
    code = expected ? error.exitCode : 1;
  }
  process.exit(code);
}

function firstSentence(text: string): string {
  return firstLine(text).replace(/\. .*$/, '');
}

function firstLine(value: unknown): string {
  const text = value instanceof Error ? value.message : String(value);
  return (text.split('\n')[0] ?? '').slice(0, 300);
}
