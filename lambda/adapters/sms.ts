/**
 * AWS End User Messaging SMS (contract §13): one `SendTextMessage` per text
 * (https://docs.aws.amazon.com/pinpoint/latest/apireference_smsvoicev2/API_SendTextMessage.html),
 * TRANSACTIONAL, from the one origination identity the stack grants, with the configuration set
 * when one is named. The client is loaded on the first text, never at cold start, and names only
 * the command it sends (sdk/sms-voice.ts). Locally the SDK reaches a stand-in through
 * `AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2` (or `AWS_ENDPOINT_URL`), like every other client.
 *
 * Bounded (contract §11): each attempt by `requestTimeout` with `throwOnRequestTimeout`, the whole
 * call by an abort signal at its deadline. Errors become a `SmsSendResult` (core/text-back/sms-errors.ts).
 */
import type { SmsSender, SmsSendResult } from '../core/ports';
import { classifySmsError, describeSmsError, type SmsErrorFacts } from '../core/text-back/sms-errors';
import { callDeadline } from '../core/time-budget';
import { abortSignalAt, sdkClientOptions } from './deadline';
import { lazy } from './lazy';
import { cjsExports } from './load-module';

const loadSms = lazy(async () => {
  const sdk = cjsExports(await import('./sdk/sms-voice'));
  return { client: new sdk.PinpointSMSVoiceV2Client(sdkClientOptions('sms')), SendTextMessageCommand: sdk.SendTextMessageCommand };
});

export interface SmsSenderOptions {
  /** SMS_ORIGINATION_IDENTITY: a phone number, sender id or pool (id or ARN). */
  originationIdentity: string;
  /** SMS_CONFIGURATION_SET: name or ARN. */
  configurationSet?: string;
  now?: () => number;
}

export function createSmsSender({ originationIdentity, configurationSet, now = Date.now }: SmsSenderOptions): SmsSender {
  return {
    async send({ to, body }, deadlineMs): Promise<SmsSendResult> {
      const { client, SendTextMessageCommand } = await loadSms();
      const command = new SendTextMessageCommand({
        DestinationPhoneNumber: to,
        OriginationIdentity: originationIdentity,
        MessageBody: body,
        MessageType: 'TRANSACTIONAL',
        ...(configurationSet ? { ConfigurationSetName: configurationSet } : {}),
      });
      try {
        const output = await client.send(command, { abortSignal: abortSignalAt(callDeadline('smsSend', now(), deadlineMs), now) });
        return { kind: 'sent', ...(output.MessageId ? { messageId: output.MessageId } : {}) };
      } catch (error) {
        const facts = errorFacts(error);
        const kind = classifySmsError(facts);
        return kind === 'opted_out' ? { kind } : { kind, error: describeSmsError(facts) };
      }
    },
  };
}

/** What the SDK's error says, without its message (the API may repeat the number in it). */
function errorFacts(error: unknown): SmsErrorFacts {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    code?: unknown;
    Reason?: unknown;
    $metadata?: { httpStatusCode?: unknown };
    $retryable?: { throttling?: unknown };
  };
  const name = typeof e.name === 'string' && e.name !== 'Error' ? e.name : typeof e.code === 'string' ? e.code : 'Error';
  const status = e.$metadata?.httpStatusCode;
  return {
    name: name.slice(0, 80),
    ...(typeof status === 'number' ? { httpStatus: status } : {}),
    ...(typeof e.Reason === 'string' ? { reason: e.Reason.slice(0, 80) } : {}),
    ...(e.$retryable?.throttling === true ? { throttling: true } : {}),
  };
}
