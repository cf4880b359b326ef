/**
 * What `npm start` prints per request. The handler writes the same JSON line it writes on
 * Lambda (contract §7: request id, type, ids, outcome, status, latency, plus the EMF metrics),
 * about 900 characters; on a terminal one short line reads better:
 *
 *   POST /webhooks/elevenlabs 200 forwarded 12 ms
 *
 * The short line is built from the handler's answer and the outcome in its JSON line, matched
 * by request id; requests the local server answers itself (404, 405, 413) get one too.
 * `LOG_FORMAT=json` prints the handler's JSON lines unchanged instead.
 * The short line holds only method, path, status, outcome, latency and a fixed reason or
 * public error text: never a secret, signature, name, transcript, summary or phone number.
 */
import type { LogFormat } from './local-config';
import type { ServedRequest } from './local-server';

type LogRecord = Record<string, unknown>;

export interface RequestLog {
  /** The receiver's line writer (`createReceiver(env, { write })`). */
  write(line: string): void;
  /** The local server's `onServed`: prints the request's line and returns its outcome. */
  served(request: ServedRequest): string;
}

export function createRequestLog(format: LogFormat, print: (line: string) => void, now: () => number = Date.now): RequestLog {
  /** Request lines the handler wrote, until the local server reports the answer. */
  const pending = new Map<string, LogRecord>();
  return {
    write(line) {
      if (format === 'json') return print(line);
      const record = parseRecord(line);
      if (!record) return print(line);
      if (record.message === 'webhook request' && typeof record.requestId === 'string') {
        pending.set(record.requestId, record);
        return;
      }
      print(formatOtherLine(record));
    },
    served(request) {
      const logged = request.requestId === undefined ? undefined : pending.get(request.requestId);
      if (request.requestId !== undefined) pending.delete(request.requestId);
      const outcome = outcomeOf(request, logged);
      if (format === 'short') print(formatRequestLine(request, logged));
      else if (request.requestId === undefined) {
        // Lambda never sees these (API Gateway or the size limit answers first): same shape, for grep and jq.
        print(
          JSON.stringify({
            level: request.statusCode >= 500 ? 'error' : 'warn',
            message: 'local server request',
            timestamp: new Date(now()).toISOString(),
            method: clean(request.method, 16),
            path: clean(request.path, 80),
            outcome,
            statusCode: request.statusCode,
            latencyMs: Math.round(request.latencyMs * 100) / 100,
          }),
        );
      }
      return outcome;
    },
  };
}

/** `POST /webhooks/elevenlabs 200 forwarded 12 ms`, plus a short reason where one helps. */
export function formatRequestLine(request: ServedRequest, logged?: LogRecord): string {
  const outcome = outcomeOf(request, logged);
  const detail = detailOf(request, outcome, logged);
  const line = `${clean(request.method, 16)} ${clean(request.path, 80)} ${request.statusCode} ${outcome} ${Math.round(request.latencyMs)} ms`;
  return detail ? `${line} (${detail})` : line;
}

/** A line the receiver writes that is not about one request (e.g. invalid configuration). */
export function formatOtherLine(record: LogRecord): string {
  const error = typeof record.error === 'string' ? `: ${clean(record.error, 200)}` : '';
  return `${clean(String(record.level ?? 'info'), 8)} ${clean(String(record.message ?? ''), 80)}${error}`;
}

function outcomeOf(request: ServedRequest, logged: LogRecord | undefined): string {
  if (typeof logged?.outcome === 'string') return clean(logged.outcome, 40);
  if (request.outcome) return request.outcome;
  return request.statusCode === 200 ? 'ok' : 'error';
}

function detailOf(request: ServedRequest, outcome: string, logged: LogRecord | undefined): string | undefined {
  if (outcome === 'skipped' && typeof logged?.reason === 'string') return clean(logged.reason, 80);
  // The cause of a failed forward, as the handler logged it (describeError: never payload text).
  const cause = typeof logged?.error === 'string' ? clean(logged.error.replace(/^CRM: /, ''), 160) : undefined;
  if (outcome === 'queued') return `CRM failed${cause ? `: ${cause}` : ''}; waiting in the retry queue`;
  if (request.statusCode >= 500 && cause) return cause;
  if (request.statusCode < 400) return undefined;
  // Error bodies are fixed, public texts (contract §2: never a payload excerpt).
  const error = parseRecord(request.body)?.error;
  if (typeof error !== 'string' || error === outcome.replaceAll('_', ' ')) return undefined; // "payload too large" says nothing new
  return clean(error, 80);
}

function parseRecord(text: string): LogRecord | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as LogRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** Printable ASCII only (a path is whatever the client sent), cut to `max` characters. */
function clean(text: string, max: number): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > max ? `${printable.slice(0, max - 1)}…` : printable;
}
