/**
 * `to` (contract §5): the contact's number in E.164, or "Unknown". Candidates, in order:
 *   - `metadata.phone_call.external_number`;
 *   - the system variable for the call's direction: `system__called_number` on an outbound call
 *     (the contact was called), `system__caller_id` on an inbound one (the contact called us);
 *     with no direction known, the caller id first (calls without phone metadata are the
 *     inbound kind); initiation failures are always outbound;
 *   - a **number field** in the dynamic variables, then in the data-collection results (chats
 *     and web calls carry the number there: `customer_phone`, a data-collection `phone_number`
 *     that is a JSON integer, …), matched like `name`'s fields (field-keys.ts);
 *   - for an initiation failure over Twilio, the body's `To`, then `Called`.
 * `metadata.phone_call.agent_number` is the agent's own line: a candidate that is that number is
 * skipped, whatever the candidate's place. Otherwise the first candidate with text is the
 * contact's number and it alone is normalised: a value that is not a number says "Unknown"
 * rather than picking a number the platform did not give as the contact's.
 */
import type { FailureEvent, TranscriptionEvent } from './events';
import { fieldKeys, findField, normaliseFieldKey, parseFieldList, readCollectedValue, readVariable } from './field-keys';
import { type CountryCode, DEFAULT_COUNTRY, normalisePhoneNumber, UNKNOWN_NUMBER } from './phone-number';
import { readText } from './read-text';

/** contract §5's number fields, in order; `CRM_NUMBER_FIELDS` replaces this list. */
const DEFAULT_NUMBER_KEYS: readonly string[] = [
  'phone',
  'phone_number',
  'customer_phone',
  'contact_phone',
  'contact_number',
  'caller_phone',
  'mobile',
  'mobile_number',
].map(normaliseFieldKey);

export interface ContactNumberConfig {
  /** CRM_NUMBER_FIELDS: the number fields, any spelling; default the contract §5 list. */
  numberFields?: readonly string[];
  /** CRM_DEFAULT_COUNTRY: how a number without `+` is read; default AU. */
  defaultCountry?: CountryCode;
}

export function contactNumber(event: TranscriptionEvent | FailureEvent, config: ContactNumberConfig): string {
  const country = config.defaultCountry ?? DEFAULT_COUNTRY;
  const agentLine = event.kind === 'transcription' ? readText(event.data.metadata?.phone_call?.agent_number) : undefined;
  for (const candidate of numberCandidates(event, fieldKeys(config.numberFields, DEFAULT_NUMBER_KEYS))) {
    const text = readText(candidate);
    // The agent line written exactly as `agent_number` is skipped without a parse.
    if (text === undefined || text === agentLine) continue;
    const number = normalisePhoneNumber(text, country);
    if (agentLine !== undefined && number !== UNKNOWN_NUMBER && isAgentLine(number, agentLine, country)) continue;
    return number;
  }
  return UNKNOWN_NUMBER;
}

/** The candidates in contract §5 order, each looked up only when the ones before it had nothing. */
function* numberCandidates(event: TranscriptionEvent | FailureEvent, keys: readonly string[]): Generator<unknown> {
  const vars = event.data.conversation_initiation_client_data?.dynamic_variables ?? {};
  if (event.kind === 'failure') {
    yield vars.system__called_number;
    yield findField(vars, keys, readVariable);
    const twilio = event.data.metadata?.type === 'twilio' ? event.data.metadata.body : undefined;
    yield twilio?.To;
    yield twilio?.Called;
    return;
  }
  const phoneCall = event.data.metadata?.phone_call;
  yield phoneCall?.external_number;
  const direction = phoneCall?.direction?.toLowerCase();
  if (direction !== 'outbound') yield vars.system__caller_id;
  if (direction !== 'inbound') yield vars.system__called_number;
  yield findField(vars, keys, readVariable);
  const collected = event.data.analysis?.data_collection_results;
  if (collected) yield findField(collected, keys, readCollectedValue);
}

/**
 * The agent's line in E.164, remembered per raw value and country: an account has a handful of
 * lines, so each is parsed once per container, not once per event (a parse costs ~10 µs).
 * Bounded, so hostile values cannot grow it.
 */
const agentLines = new Map<string, string>();
const MAX_AGENT_LINES = 64;

function isAgentLine(number: string, agentLine: string, country: CountryCode): boolean {
  if (number === agentLine) return true;
  const key = `${country} ${agentLine}`;
  let normalised = agentLines.get(key);
  if (normalised === undefined) {
    normalised = normalisePhoneNumber(agentLine, country);
    if (agentLines.size >= MAX_AGENT_LINES) agentLines.clear();
    agentLines.set(key, normalised);
  }
  return number === normalised;
}

/**
 * Reads CRM_NUMBER_FIELDS, the same kind of comma list as CRM_NAME_FIELDS (field-keys.ts).
 * Throws without echoing the value (contract §8); shared by lambda/config/receiver-config.ts
 * and the CDK stack.
 */
export function parseNumberFields(value: string): string[] {
  return parseFieldList(value);
}
