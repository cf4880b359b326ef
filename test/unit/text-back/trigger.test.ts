/**
 * contract §13 "When": one row per rule. Events are realistic (support/fixtures/real-calls.ts),
 * parsed as the receiver parses them, and the CRM record is the one the receiver builds from
 * them, so a change to either that moves a call across a rule shows here.
 */
import { describe, expect, it } from 'vitest';
import { toCrmPayload } from '../../../lambda/core/crm-payload';
import { type FailureEvent, parseEvent, type TranscriptionEvent } from '../../../lambda/core/events';
import { SMS_STATUSES, type SmsStatus } from '../../../lambda/core/text-back/sms-message';
import { isOutboundCall, isTextableNumber, textBackFor } from '../../../lambda/core/text-back/trigger';
import {
  answeringMachineCall,
  FICTIONAL_NUMBERS,
  failedCall,
  type Json,
  realCall,
  realInitiationFailure,
  silentCall,
} from '../../../support/fixtures/real-calls';
import { clone } from '../../../support/fixtures/samples';

type RecordEvent = TranscriptionEvent | FailureEvent;
const config = { defaultSubject: 'Conversational AI call', subjectsByAgent: {} };
const event = (body: Json) => parseEvent(clone(body)) as RecordEvent;
const decide = (body: Json, onStatuses: readonly SmsStatus[] = SMS_STATUSES) => {
  const parsed = event(body);
  return textBackFor(parsed, toCrmPayload(parsed, config), onStatuses);
};

/** A call with no `phone_call` at all: only the system variables can say which way it went. */
function withoutDirection(body: Json, variables: Json): Json {
  const copy = clone(body);
  copy.data.metadata.phone_call = null;
  const vars = copy.data.conversation_initiation_client_data.dynamic_variables;
  delete vars.system__caller_id;
  delete vars.system__called_number;
  Object.assign(vars, variables);
  return copy;
}

function unknownDirection(variables: Json): Json {
  const copy = withoutDirection(silentCall(), variables);
  copy.data.metadata.phone_call = { type: 'sip_trunking', direction: 'unknown', external_number: contact };
  return copy;
}

function withDirection(body: Json, direction: unknown): Json {
  const copy = clone(body);
  copy.data.metadata.phone_call.direction = direction;
  return copy;
}

const contact = FICTIONAL_NUMBERS.mobile;
const agentLine = FICTIONAL_NUMBERS.agentLine;

describe('textBackFor: which calls get a text', () => {
  it.each<[string, Json, ReturnType<typeof decide>['send'], string?]>([
    ['an outbound call an answering machine took (voicemail)', answeringMachineCall(), true],
    ['an outbound call nobody spoke on (no answer)', silentCall(), true],
    ['an outbound call someone answered (held)', realCall(), false, 'status'],
    ['an outbound call the platform reports failed', failedCall(), false, 'status'],
    ['an outbound call the callee declined (SIP 603: no answer)', failedCall({ code: 603, reason: 'SIP status: 603. Declined' }), true],
    ['an inbound call nobody answered', silentCall({ direction: 'inbound' }), false, 'inbound'],
    ['an inbound call that reached voicemail', answeringMachineCall(undefined, { direction: 'inbound' }), false, 'inbound'],
    ['direction in capitals', withDirection(silentCall(), 'OUTBOUND'), true],
    ['direction "Inbound"', withDirection(silentCall(), 'Inbound'), false, 'inbound'],
    ['no direction: called number set, no caller id', withoutDirection(silentCall(), { system__called_number: contact }), true],
    [
      'no direction: both numbers set',
      withoutDirection(silentCall(), { system__called_number: contact, system__caller_id: agentLine }),
      false,
      'inbound',
    ],
    ['no direction: only a caller id', withoutDirection(silentCall(), { system__caller_id: contact }), false, 'inbound'],
    ['no direction: neither number', withoutDirection(silentCall(), {}), false, 'inbound'],
    [
      'no direction: a blank caller id counts as none',
      withoutDirection(silentCall(), { system__called_number: contact, system__caller_id: ' ' }),
      true,
    ],
    ['a direction that is neither way: the variables decide (outbound)', unknownDirection({ system__called_number: contact }), true],
    [
      'a direction that is neither way: the variables decide (inbound)',
      unknownDirection({ system__called_number: agentLine, system__caller_id: contact }),
      false,
      'inbound',
    ],
    ['an initiation failure: no-answer', realInitiationFailure('no-answer'), true],
    ['an initiation failure: busy (no answer)', realInitiationFailure('busy'), true],
    ['an initiation failure that is ours (failed)', realInitiationFailure('unknown'), false, 'status'],
    ['an initiation failure with no number at all', noNumberFailure(), false, 'no_number'],
    [
      'an outbound call whose number is not a phone number (Unknown)',
      silentCall({ contactNumber: 'sip:alice@pbx.example.com' }),
      false,
      'no_number',
    ],
  ])('%s', (_label, body, send, reason) => {
    const decision = decide(body);
    expect(decision.send).toBe(send);
    if (!decision.send) expect(decision.reason).toBe(reason);
  });

  it('queues exactly the five fields, taken from the CRM record', () => {
    const decision = decide(realInitiationFailure('no-answer', { conversationId: 'conv_tb_1' }));
    expect(decision).toEqual({
      send: true,
      message: { to: contact, name: 'Priya', subject: 'Check-up reminders', conversationId: 'conv_tb_1', status: 'no answer' },
    });
  });

  it('keeps "Unknown" as the name: the worker leaves {name} empty', () => {
    const decision = decide(silentCall());
    expect(decision.send && decision.message.name).toBe('Unknown');
  });

  it.each<[readonly SmsStatus[], Json, boolean]>([
    [['voicemail'], answeringMachineCall(), true],
    [['voicemail'], silentCall(), false],
    [['no answer'], silentCall(), true],
    [['no answer'], answeringMachineCall(), false],
    [[], silentCall(), false],
  ])('SMS_ON_STATUSES %j', (statuses, body, send) => {
    const decision = decide(body, statuses);
    expect(decision.send).toBe(send);
    if (!decision.send) expect(decision.reason).toBe('status');
  });

  it('an inbound call is refused before its status is even looked at', () => {
    expect(decide(realCall({ direction: 'inbound' }))).toEqual({ send: false, reason: 'inbound' });
  });
});

describe('isOutboundCall', () => {
  it('every initiation failure is outbound, whatever its variables say', () => {
    const body = realInitiationFailure('busy');
    body.data.conversation_initiation_client_data.dynamic_variables.system__caller_id = contact;
    expect(isOutboundCall(event(body))).toBe(true);
  });
});

describe('isTextableNumber: E.164 only', () => {
  it.each([
    [contact, true],
    [FICTIONAL_NUMBERS.northAmerica, true],
    ['+1234567', true],
    ['+123456', false],
    ['+1234567890123456', false],
    ['Unknown', false],
    ['', false],
    ['61491570156', false],
    ['+061491570156', false],
    ['+61 491 570 156', false],
    ['+61491570156\n', false],
    ['tel:+61491570156', false],
  ])('%j → %s', (value, ok) => {
    expect(isTextableNumber(value)).toBe(ok);
  });
});

function noNumberFailure(): Json {
  const body = realInitiationFailure('no-answer');
  body.data.metadata = { type: 'sip', body: { sip_status_code: 480 } };
  return body;
}
