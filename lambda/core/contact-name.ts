/**
 * `name` (contract §5): who the call was with. Real payloads name the contact in dynamic variables
 * (set by whoever started the call) or, about as often, only in data-collection results the
 * agent filled in during the call, under whatever key the account chose: `first_name`,
 * `"First Name"`, `firstname`, `user_name`, … So keys match loosely (field-keys.ts, shared with
 * the `to` rule's number fields), and the source order is: dynamic variables, then data collection.
 */
import type { FailureEvent, TranscriptionEvent } from './events';
import { fieldKeys, findField, normaliseFieldKey, parseFieldList, readCollectedValue, readVariable } from './field-keys';

const UNKNOWN_NAME = 'Unknown';

/** contract §5's single fields, in order; `CRM_NAME_FIELDS` replaces this list. */
const DEFAULT_NAME_KEYS: readonly string[] = ['name', 'contact_name', 'customer_name', 'caller_name', 'full_name', 'user_name'].map(
  normaliseFieldKey,
);
const FIRST_NAME_KEYS: readonly string[] = ['firstname'];
const LAST_NAME_KEYS: readonly string[] = ['lastname'];

/**
 * The contact's name: the first source that has one, where a source has one when any of the
 * single fields (in list order) or `first_name`/`last_name` (either alone is enough) holds a
 * non-empty string or number. `nameFields`: CRM_NAME_FIELDS, any spelling; default the §5 list.
 */
export function contactName(event: TranscriptionEvent | FailureEvent, nameFields?: readonly string[]): string {
  const keys = fieldKeys(nameFields, DEFAULT_NAME_KEYS);
  const variables = event.data.conversation_initiation_client_data?.dynamic_variables;
  const fromVariables = variables ? findName(variables, keys, readVariable) : undefined;
  if (fromVariables !== undefined) return fromVariables;
  if (event.kind !== 'transcription') return UNKNOWN_NAME;
  const collected = event.data.analysis?.data_collection_results;
  return (collected ? findName(collected, keys, readCollectedValue) : undefined) ?? UNKNOWN_NAME;
}

/** A single field first; else first + last name, either alone being enough. */
function findName(source: Record<string, unknown>, keys: readonly string[], read: (value: unknown) => unknown): string | undefined {
  const single = findField(source, keys, read);
  if (single !== undefined) return single;
  const first = findField(source, FIRST_NAME_KEYS, read);
  const last = findField(source, LAST_NAME_KEYS, read);
  if (first !== undefined && last !== undefined) return `${first} ${last}`;
  return first ?? last;
}

/**
 * Reads CRM_NAME_FIELDS (field-keys.ts `parseFieldList`). Throws without echoing the value
 * (contract §8); shared by lambda/config/receiver-config.ts and the CDK stack.
 */
export function parseNameFields(value: string): string[] {
  return parseFieldList(value);
}
