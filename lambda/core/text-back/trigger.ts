/**
 * When a call earns a text-back (contract §13): an OUTBOUND call whose CRM record says nobody
 * answered (`SMS_ON_STATUSES`: "no answer" and/or "voicemail") and whose `to` is a textable
 * E.164 number. Never an inbound call (the contact rang us; we have nothing to follow up), a
 * "held" call (someone answered) or a "failed" one (our side broke), never "Unknown".
 *
 * Pure: the receiver and the call check call `textBackFor` with the event and the CRM record
 * they built, and only queue what it returns; the SMS worker checks `isTextable` again.
 */
import type { CrmPayload } from '../crm-payload-schema';
import type { FailureEvent, TranscriptionEvent } from '../events';
import { readText } from '../read-text';
import type { SmsQueueMessage, SmsStatus } from './sms-message';

/**
 * Why a call gets no text. `inbound`, `status` and `no_number` are the trigger's (and the
 * worker's, for a message an earlier release queued); `recently_texted` is the worker's
 * once-per-number-per-window rule.
 */
export type TextBackSkipReason = 'inbound' | 'status' | 'no_number' | 'recently_texted';

export type TextBackTrigger = { send: true; message: SmsQueueMessage } | { send: false; reason: TextBackSkipReason };

/**
 * E.164 (ITU-T E.164: a country code that does not start with 0, at most 15 digits). The CRM's
 * `to` is already normalised (phone-number.ts) or "Unknown"; this keeps anything else, such as a
 * message hand-edited in a dead-letter queue, from reaching the SMS API.
 */
const E164 = /^\+[1-9]\d{6,14}$/;

export function isTextableNumber(to: string): boolean {
  return E164.test(to);
}

/**
 * contract §13: every initiation failure is outbound (ElevenLabs could not place the call). A
 * transcription is outbound when `metadata.phone_call.direction` says so; with no direction
 * (absent, or a value that is neither `inbound` nor `outbound`), when the platform filled in the
 * number it called (`system__called_number`) and no caller id (`system__caller_id`), which is
 * what an outbound call's system variables look like.
 */
export function isOutboundCall(event: TranscriptionEvent | FailureEvent): boolean {
  if (event.kind === 'failure') return true;
  const direction = readText(event.data.metadata?.phone_call?.direction)?.toLowerCase();
  if (direction === 'outbound') return true;
  if (direction === 'inbound') return false;
  const variables = event.data.conversation_initiation_client_data?.dynamic_variables ?? {};
  return readText(variables.system__called_number) !== undefined && readText(variables.system__caller_id) === undefined;
}

/** The SMS worker's own check of a queued message: the status rule and the number rule. */
export function isTextable(
  message: Pick<SmsQueueMessage, 'to' | 'status'>,
  onStatuses: readonly SmsStatus[],
): { ok: true } | { ok: false; reason: 'status' | 'no_number' } {
  if (!(onStatuses as readonly string[]).includes(message.status)) return { ok: false, reason: 'status' };
  if (!isTextableNumber(message.to)) return { ok: false, reason: 'no_number' };
  return { ok: true };
}

/** The queue message for this call, or why it gets none. */
export function textBackFor(
  event: TranscriptionEvent | FailureEvent,
  payload: CrmPayload,
  onStatuses: readonly SmsStatus[],
): TextBackTrigger {
  if (!isOutboundCall(event)) return { send: false, reason: 'inbound' };
  const textable = isTextable(payload, onStatuses);
  if (!textable.ok) return { send: false, reason: textable.reason };
  const { to, name, subject, status } = payload;
  return { send: true, message: { to, name, subject, conversationId: event.data.conversation_id, status } };
}
