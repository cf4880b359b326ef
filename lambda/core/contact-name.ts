/**
 * `name` (contract §5): who the call was with. Real payloads name the contact in dynamic variables
 * (set by whoever started the call) or, about as often, only in data-collection results the
 * agent filled in during the call, under whatever key the account chose: `first_name`,
 * `"First Name"`, `firstname`, `user_name`, … So keys match loosely (lower case, without
 * spaces, `_` and `-`), and the source order is: dynamic variables, then data collection.
 */
import type { FailureEvent, TranscriptionEvent } from './events';
import { isRecord, readText } from './read-text';

const UNKNOWN_NAME = 'Unknown';

/** contract §5's single fields, in order; `CRM_NAME_FIELDS` replaces this list. */
const DEFAULT_NAME_FIELDS: readonly string[] = ['name', 'contact_name', 'customer_name', 'caller_name', 'full_name', 'user_name'];

/** A field list longer than this is a mistake, not a configuration. */
const MAX_NAME_FIELDS = 32;

const FIRST_NAME_KEY = 'firstname';
const LAST_NAME_KEY = 'lastname';
const SEPARATORS = /[\s_-]+/g;

/** `"First Name"`, `first_name`, `First-Name` and `firstname` are all `firstname`. */
function normaliseFieldKey(key: string): string {
  return key.toLowerCase().replace(SEPARATORS, '');
}

const DEFAULT_NAME_KEYS = DEFAULT_NAME_FIELDS.map(normaliseFieldKey);
/** The configured list normalised once, not per event: config objects live as long as the container. */
let cachedFields: readonly string[] | undefined;
let cachedKeys: readonly string[] = DEFAULT_NAME_KEYS;

function keysFor(fields: readonly string[] | undefined): readonly string[] {
  if (fields === undefined) return DEFAULT_NAME_KEYS;
  if (fields !== cachedFields) {
    cachedKeys = fields.map(normaliseFieldKey);
    cachedFields = fields;
  }
  return cachedKeys;
}

/**
 * The contact's name: the first source that has one, where a source has one when any of the
 * single fields (in list order) or `first_name`/`last_name` (either alone is enough) holds a
 * non-empty string or number. `nameFields`: CRM_NAME_FIELDS, any spelling; default the §5 list.
 */
export function contactName(event: TranscriptionEvent | FailureEvent, nameFields?: readonly string[]): string {
  const keys = keysFor(nameFields);
  const variables = event.data.conversation_initiation_client_data?.dynamic_variables;
  const fromVariables = variables ? findName(variables, keys, readVariable) : undefined;
  if (fromVariables !== undefined) return fromVariables;
  if (event.kind !== 'transcription') return UNKNOWN_NAME;
  const collected = event.data.analysis?.data_collection_results;
  return (collected ? findName(collected, keys, readCollectedValue) : undefined) ?? UNKNOWN_NAME;
}

const readVariable = (value: unknown): unknown => value;

/** A data-collection result is `{data_collection_id, value, rationale}`; we want its value. */
const readCollectedValue = (result: unknown): unknown => (isRecord(result) ? result.value : undefined);

/**
 * One pass over the source's keys (each normalised once). When two keys normalise alike
 * (`first_name` and `First Name`), the first one in the payload with a value wins.
 */
function findName(source: Record<string, unknown>, keys: readonly string[], read: (value: unknown) => unknown): string | undefined {
  let best: string | undefined;
  let bestRank = keys.length;
  let first: string | undefined;
  let last: string | undefined;
  for (const rawKey of Object.keys(source)) {
    const key = normaliseFieldKey(rawKey);
    const rank = keys.indexOf(key);
    if (rank >= 0 && rank < bestRank) {
      const value = readText(read(source[rawKey]));
      if (value !== undefined) {
        best = value;
        bestRank = rank;
      }
    }
    if (key === FIRST_NAME_KEY) first ??= readText(read(source[rawKey]));
    else if (key === LAST_NAME_KEY) last ??= readText(read(source[rawKey]));
  }
  if (best !== undefined) return best;
  if (first !== undefined && last !== undefined) return `${first} ${last}`;
  return first ?? last;
}

/**
 * Reads CRM_NAME_FIELDS: a comma list of field names, each made of letters, digits, spaces,
 * `_` or `-` (what a dynamic variable or data-collection id can be called). Returns the names
 * trimmed, empty entries dropped. Throws without echoing the value (contract §8); shared by
 * lambda/config/receiver-config.ts and the CDK stack, so what synthesises is what the receiver accepts.
 */
export function parseNameFields(value: string): string[] {
  const fields = value
    .split(',')
    .map((field) => field.trim())
    .filter((field) => field !== '');
  if (fields.length === 0) throw new Error('must name at least one field');
  if (fields.length > MAX_NAME_FIELDS) throw new Error(`must name at most ${MAX_NAME_FIELDS} fields`);
  for (const field of fields) {
    if (field.length > 64 || !/^[\p{L}\p{N}\s_-]+$/u.test(field) || normaliseFieldKey(field) === '') {
      throw new Error('must be a comma list of field names (letters, digits, spaces, "_" or "-", at most 64 characters each)');
    }
  }
  return fields;
}
