/**
 * AWS End User Messaging SMS on 127.0.0.1: a node:http server answering the AWS JSON 1.0
 * protocol the real SDK client speaks (`POST /`, `X-Amz-Target: PinpointSMSVoiceV2.SendTextMessage`,
 * `Content-Type: application/x-amz-json-1.0`, SigV4 for `sms-voice`). Point the client at it
 * with `AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2` (its `env`).
 *
 * It checks a request as the service does (the fields SendTextMessage requires, E.164, the body's
 * length, the message type), keeps an opt-out list, records every text it accepted, and answers
 * with whatever a test scripts: the service's errors in the service's shape
 * (`{"__type": "com.amazonaws.pinpointsmsvoicev2#<Name>", "Message", "Reason"?}`), or a stall
 * (the request is read and never answered). Tests, `npm start` (an SMS sink that prints each
 * text) and the benchmark share it.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const TARGET = 'PinpointSMSVoiceV2.SendTextMessage';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
const NAMESPACE = 'com.amazonaws.pinpointsmsvoicev2';
/** SendTextMessage's MessageBody: 1–1600 characters (API reference). */
const MAX_BODY_CHARS = 1600;

/** The errors SendTextMessage documents, as the service sends them. */
const SMS_ERRORS = {
  ThrottlingException: { status: 400, message: 'Rate exceeded.' },
  InternalServerException: { status: 500, message: 'An internal error occurred.' },
  ValidationException: { status: 400, message: 'Request validation failed.', reason: 'FIELD_VALIDATION_FAILED' },
  AccessDeniedException: { status: 400, message: 'User is not authorized to perform this action.', reason: 'ACCOUNT_DISABLED' },
  ServiceQuotaExceededException: { status: 400, message: 'Monthly spend limit reached.', reason: 'MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT' },
  ConflictException: { status: 400, message: 'The destination phone number has opted out.', reason: 'DESTINATION_PHONE_NUMBER_OPTED_OUT' },
} as const;
export type SmsErrorName = keyof typeof SMS_ERRORS;

export type SmsBehaviour =
  | { accept: true }
  | { error: SmsErrorName }
  /** Read the request, never answer (until the server closes). */
  | { stall: true };

export interface SentText {
  messageId: string;
  destination: string;
  originationIdentity: string;
  body: string;
  messageType?: string;
  configurationSetName?: string;
}

export interface SmsStandInOptions {
  /** Called with each text accepted: `npm start` prints it. */
  onMessage?: (text: SentText) => void;
}

export interface SmsStandIn {
  endpoint: string;
  /** Points the real SDK client here. */
  env: { AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2: string };
  /** Every text accepted, in order. */
  sent: SentText[];
  /** Every request, answered or not (the SDK's own retries included). */
  requests: { target: string; contentType: string; authorization: string; body: Record<string, unknown> }[];
  /** Numbers that replied STOP: texts to them are refused as the service refuses them. */
  optedOut: Set<string>;
  /** The answer to the n-th request from now (0-based); accepting by default. */
  respond(behaviour: SmsBehaviour | ((index: number) => SmsBehaviour)): void;
  close(): Promise<void>;
}

export async function startSmsStandIn({ onMessage }: SmsStandInOptions = {}): Promise<SmsStandIn> {
  const sent: SentText[] = [];
  const requests: SmsStandIn['requests'] = [];
  const optedOut = new Set<string>();
  const stalled = new Set<ServerResponse>();
  let behaviour: SmsBehaviour | ((index: number) => SmsBehaviour) = { accept: true };
  let offset = 0;

  const reply = (res: ServerResponse, status: number, payload: unknown) => {
    const text = JSON.stringify(payload);
    res.writeHead(status, {
      'content-type': CONTENT_TYPE,
      'content-length': String(Buffer.byteLength(text)),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(text);
  };
  const fail = (res: ServerResponse, name: SmsErrorName | 'UnknownOperationException' | 'SerializationException', reason?: string) => {
    const known = name in SMS_ERRORS ? SMS_ERRORS[name as SmsErrorName] : { status: 400, message: name };
    const why = reason ?? ('reason' in known ? known.reason : undefined);
    reply(res, known.status, { __type: `${NAMESPACE}#${name}`, Message: known.message, ...(why ? { Reason: why } : {}) });
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(raw || '{}') as Record<string, unknown>;
    } catch {
      return fail(res, 'SerializationException');
    }
    requests.push({ target, contentType: String(req.headers['content-type']), authorization: String(req.headers.authorization), body });
    if (target !== TARGET) return fail(res, 'UnknownOperationException');
    const index = requests.length - 1 - offset;
    const plan = typeof behaviour === 'function' ? behaviour(index) : behaviour;
    if ('stall' in plan) return void stalled.add(res);
    if ('error' in plan) return fail(res, plan.error);
    const text = readText(body);
    if (!text) return fail(res, 'ValidationException');
    if (optedOut.has(text.destination)) return fail(res, 'ConflictException');
    sent.push(text);
    onMessage?.(text);
    reply(res, 200, { MessageId: text.messageId });
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    env: { AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2: endpoint },
    sent,
    requests,
    optedOut,
    respond: (next) => {
      behaviour = next;
      offset = requests.length;
    },
    close: async () => {
      for (const res of stalled) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The text a valid request asks for, or undefined when the service would refuse it as invalid. */
function readText(body: Record<string, unknown>): SentText | undefined {
  const { DestinationPhoneNumber: destination, OriginationIdentity: identity, MessageBody: text, MessageType: type } = body;
  const { ConfigurationSetName: configurationSet } = body;
  if (typeof destination !== 'string' || !/^\+[1-9]\d{1,14}$/.test(destination)) return undefined;
  if (typeof identity !== 'string' || !/^[A-Za-z0-9_:/+-]{1,256}$/.test(identity)) return undefined;
  if (typeof text !== 'string' || text.length < 1 || text.length > MAX_BODY_CHARS) return undefined;
  if (type !== undefined && type !== 'TRANSACTIONAL' && type !== 'PROMOTIONAL') return undefined;
  if (configurationSet !== undefined && typeof configurationSet !== 'string') return undefined;
  return {
    messageId: randomUUID(),
    destination,
    originationIdentity: identity,
    body: text,
    ...(typeof type === 'string' ? { messageType: type } : {}),
    ...(typeof configurationSet === 'string' ? { configurationSetName: configurationSet } : {}),
  };
}
