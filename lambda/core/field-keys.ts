/**
 * Finding a contact's field by name in dynamic variables and data-collection results (contract
 * §5 `name` and `to`). Accounts name the same field many ways (`first_name`, `"First Name"`,
 * `firstname`, `Customer-Phone`), so keys match after lower-casing and removing spaces, `_` and
 * `-`. One implementation for both rules, so a field list in CRM_NAME_FIELDS and one in
 * CRM_NUMBER_FIELDS are read the same way.
 */
import { isRecord, readText } from './read-text';

const SEPARATORS = /[\s_-]+/g;

/** A comma list longer than this is a mistake, not a configuration. */
const MAX_FIELDS = 32;
const MAX_FIELD_CHARS = 64;
/** Lambda's whole environment is 4 KB: a longer value cannot be a deployed one. */
export const MAX_LIST_VALUE_CHARS = 4096;

/** `"First Name"`, `first_name`, `First-Name` and `firstname` are all `firstname`. */
export function normaliseFieldKey(key: string): string {
  return key.toLowerCase().replace(SEPARATORS, '');
}

/**
 * A configured list normalised once, not per event: the config object (and so its list) lives
 * as long as the container. Keyed by the list itself, so the name and number lists, and a
 * test's own lists, each get their own entry.
 */
const normalisedLists = new WeakMap<readonly string[], readonly string[]>();

/** `fields` as normalised keys; `fallback` (already normalised) when no list is configured. */
export function fieldKeys(fields: readonly string[] | undefined, fallback: readonly string[]): readonly string[] {
  if (fields === undefined) return fallback;
  let keys = normalisedLists.get(fields);
  if (keys === undefined) {
    keys = fields.map(normaliseFieldKey);
    normalisedLists.set(fields, keys);
  }
  return keys;
}

/** Reads a dynamic variable: the value itself. */
export const readVariable = (value: unknown): unknown => value;

/** A data-collection result is `{data_collection_id, value, rationale}`; we want its value. */
export const readCollectedValue = (result: unknown): unknown => (isRecord(result) ? result.value : undefined);

/**
 * The value of the first of `keys` (in list order) that `source` holds as non-empty text or a
 * finite number. One pass over the source's keys, each normalised once; when two keys
 * normalise alike (`phone_number`, `Phone Number`), the first one in the payload with a value wins.
 */
export function findField(source: Record<string, unknown>, keys: readonly string[], read: (value: unknown) => unknown): string | undefined {
  let best: string | undefined;
  let bestRank = keys.length;
  for (const rawKey of Object.keys(source)) {
    const rank = keys.indexOf(normaliseFieldKey(rawKey));
    if (rank < 0 || rank >= bestRank) continue;
    const value = readText(read(source[rawKey]));
    if (value !== undefined) {
      best = value;
      bestRank = rank;
      if (rank === 0) break;
    }
  }
  return best;
}

/**
 * Reads a comma list of field names (CRM_NAME_FIELDS, CRM_NUMBER_FIELDS): each made of letters,
 * digits, spaces, `_` or `-` (what a dynamic variable or data-collection id can be called).
 * Returns the names trimmed, empty entries dropped. Throws without echoing the value (contract
 * §8); shared by lambda/config/ and the CDK stack, so what synthesises is what the receiver accepts.
 */
export function parseFieldList(value: string): string[] {
  if (value.length > MAX_LIST_VALUE_CHARS) throw new Error(`must be at most ${MAX_LIST_VALUE_CHARS} characters`);
  const fields = value
    .split(',')
    .map((field) => field.trim())
    .filter((field) => field !== '');
  if (fields.length === 0) throw new Error('must name at least one field');
  if (fields.length > MAX_FIELDS) throw new Error(`must name at most ${MAX_FIELDS} fields`);
  for (const field of fields) {
    if (field.length > MAX_FIELD_CHARS || !/^[\p{L}\p{N}\s_-]+$/u.test(field) || normaliseFieldKey(field) === '') {
      throw new Error(
        `must be a comma list of field names (letters, digits, spaces, "_" or "-", at most ${MAX_FIELD_CHARS} characters each)`,
      );
    }
  }
  return fields;
}
