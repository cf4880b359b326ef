/**
 * What a "contact's" message is (contract §5 status rules 3 and 4): silence, an answering
 * machine's or carrier's **greeting**, a call screener's **screening prompt**, or the contact's
 * own words. Voicemail detection is off by default on ElevenLabs agents, so machines and
 * screeners arrive as ordinary user turns.
 *
 * Matching, as contract §5 words it: case-insensitive after Unicode NFKD with accents removed,
 * curly apostrophes made straight and runs of whitespace made one space; a message with a
 * screening phrase is a screening prompt even if it also has a greeting phrase.
 *
 * Word boundaries (the spec is silent; docs/crm-records.md "Greetings and screening prompts"):
 * a phrase matches only as whole words: the character before it and the one after it, if any,
 * are not letters or digits. So "at the tone" does not match inside "what the tone", and "is
 * unavailable" not inside "this unavailable". A phrase that begins or ends in a script written
 * without spaces (Chinese, Japanese, Thai, …) has no boundary on that side: its words touch
 * their neighbours.
 *
 * Cost: each message is normalised once (a few linear passes) and tested against two regular
 * expressions built once (the built-in lists lazily, a configured list once per configuration,
 * never per event). The expressions are alternations of literal phrases with fixed-width
 * lookarounds: no nested or adjacent quantifiers, so each test is linear in the message's length.
 */

import { MAX_LIST_VALUE_CHARS } from './field-keys';

/** A word: at least one Unicode letter or digit. Punctuation, `"..."` and whitespace are not. */
const WORD = /[\p{L}\p{N}]/u;
/** Straight and curly apostrophes, primes and the acute accent people type as one (before NFKD splits ´). */
const APOSTROPHES = /[\u2018\u2019\u201B\u02BC\u02BB\u00B4\u0060\u2032\uFF07]/g;
/** Combining marks: what NFKD leaves of accents (é → e + U+0301). */
const MARKS = /\p{M}+/gu;
/** A run of whitespace, or one whitespace character that is not a plain space: only these are rewritten. */
const ODD_SPACES = /\s{2,}|[^\S ]/g;
/** Scripts written without spaces between words: a phrase edge in one of them needs no boundary. */
const UNSPACED_SCRIPTS =
  '[\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Thai}\\p{Script=Lao}\\p{Script=Khmer}\\p{Script=Myanmar}]';
const STARTS_UNSPACED = new RegExp(`^${UNSPACED_SCRIPTS}`, 'u');
const ENDS_UNSPACED = new RegExp(`${UNSPACED_SCRIPTS}$`, 'u');
const WORD_BEFORE = '(?<![\\p{L}\\p{N}])';
const WORD_AFTER = '(?![\\p{L}\\p{N}])';

/**
 * Built-in greetings (contract §5 rule 3), written as they read after normalisation (no accents,
 * straight apostrophes). "voice-mail" is kept from the v2 rules, which matched it.
 */
export const BUILT_IN_GREETINGS: readonly string[] = [
  // English
  'leave a message',
  'leave me a message',
  'leave your message',
  'leave your name',
  'after the tone',
  'at the tone',
  'after the beep',
  'after the signal',
  'record your message',
  'is not available',
  "isn't available",
  'currently unavailable',
  'is unavailable',
  "can't take your call",
  'cannot take your call',
  'unable to take your call',
  'not able to take your call',
  'mailbox',
  'voicemail',
  'voice mail',
  'voice-mail',
  'automated voice messaging',
  'the person you are calling',
  "the person you're calling",
  'the number you have dialled',
  'the number you have dialed',
  // Spanish
  'deje su mensaje',
  'deja tu mensaje',
  'dejar un mensaje',
  'deje un mensaje',
  'buzon de voz',
  'buzon de mensajes',
  'despues del tono',
  'no esta disponible',
  'no se encuentra disponible',
  // French
  'laissez un message',
  'laissez votre message',
  'messagerie vocale',
  'apres le bip',
  'apres le signal sonore',
  "n'est pas disponible",
  // German
  'nachricht hinterlassen',
  'hinterlassen sie',
  'nach dem signalton',
  'nach dem piepton',
  'nicht erreichbar',
  'anrufbeantworter',
  // Italian
  'lasci un messaggio',
  'lasciate un messaggio',
  'segreteria telefonica',
  'dopo il segnale acustico',
  'non e raggiungibile',
  'non e al momento raggiungibile',
  'al momento non raggiungibile',
  // Portuguese
  'deixe uma mensagem',
  'deixe sua mensagem',
  'caixa postal',
  'caixa de mensagens',
  'apos o sinal',
  'correio de voz',
  // Dutch
  'spreek een bericht in',
  'na de piep',
  'na de toon',
  'niet bereikbaar',
];

/** Built-in screening prompts (contract §5 rule 3): call screeners speak before, or instead of, the contact. */
export const BUILT_IN_SCREENING_PROMPTS: readonly string[] = [
  'reason for calling',
  'reason for your call',
  'state your name',
  'record your name',
  'screening service',
  'this call is being screened',
  'stay on the line',
  'checking with the person you called',
  'checking if this person is available',
  'call assist',
];

/** What a user message is, for status rules 3 and 4. */
export type SpeechKind = 'silence' | 'screening' | 'greeting' | 'words';
export type ClassifySpeech = (message: string) => SpeechKind;

/** Contract §5's matching form: NFKD, accents removed, lower case, straight apostrophes, single spaces. */
function normaliseSpeech(text: string): string {
  return text.replace(APOSTROPHES, "'").normalize('NFKD').toLowerCase().replace(MARKS, '').replace(ODD_SPACES, ' ').trim();
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/**
 * One expression for a list of phrases: whole-word alternatives, each normalised like a message.
 * Phrases are grouped by which edges need a boundary, so each boundary lookaround appears once
 * per group, `(?<!W)(?:a|b|…)(?!W)`, not once per phrase: V8 expands every `\p{L}` class where it
 * appears, and 80 copies cost ~15 ms to parse, ~15 ms to compile on the first test and as much
 * again on the second (tier-up), all on a container's first events (measured on Node 24,
 * bench/README.md figure 11). With backtracking into the group, the two forms match the same
 * texts: some phrase sits at some position with both of its boundaries.
 */
function phraseExpression(phrases: readonly string[]): RegExp {
  /** Escaped phrases, grouped by the lookarounds they need (keyed by the two joined). */
  const groups = new Map<string, { before: string; after: string; escaped: string[] }>();
  for (const phrase of new Set(phrases.map(normaliseSpeech))) {
    if (phrase === '') continue;
    const before = STARTS_UNSPACED.test(phrase) ? '' : WORD_BEFORE;
    const after = ENDS_UNSPACED.test(phrase) ? '' : WORD_AFTER;
    const group = groups.get(before + after) ?? { before, after, escaped: [] };
    group.escaped.push(escapeRegExp(phrase));
    groups.set(before + after, group);
  }
  const alternatives = [...groups.values()].map(({ before, after, escaped }) => `${before}(?:${escaped.join('|')})${after}`);
  // An empty alternation would match everything; no phrase matches nothing.
  return new RegExp(alternatives.length > 0 ? alternatives.join('|') : '(?!)', 'u');
}

function classifierOf(greetings: RegExp, screeningPrompts: RegExp): ClassifySpeech {
  return (message) => {
    if (!WORD.test(message)) return 'silence';
    const text = normaliseSpeech(message);
    if (screeningPrompts.test(text)) return 'screening';
    return greetings.test(text) ? 'greeting' : 'words';
  };
}

let screeningExpression: RegExp | undefined;
let builtInClassifier: ClassifySpeech | undefined;
/** One classifier per configured phrase list (the config object lives as long as the container). */
const configuredClassifiers = new WeakMap<readonly string[], ClassifySpeech>();

/**
 * The classifier for the built-in phrases plus `extraGreetings` (CRM_VOICEMAIL_PHRASES), built
 * on first use and reused for every later event with the same configuration.
 */
export function speechClassifier(extraGreetings?: readonly string[]): ClassifySpeech {
  screeningExpression ??= phraseExpression(BUILT_IN_SCREENING_PROMPTS);
  if (extraGreetings === undefined || extraGreetings.length === 0) {
    builtInClassifier ??= classifierOf(phraseExpression(BUILT_IN_GREETINGS), screeningExpression);
    return builtInClassifier;
  }
  let classifier = configuredClassifiers.get(extraGreetings);
  if (classifier === undefined) {
    classifier = classifierOf(phraseExpression([...BUILT_IN_GREETINGS, ...extraGreetings]), screeningExpression);
    configuredClassifiers.set(extraGreetings, classifier);
  }
  return classifier;
}

const MAX_PHRASES = 64;
const MAX_PHRASE_CHARS = 100;
/** Letters, accents, digits, spaces, apostrophes, "." and "-": what a spoken phrase is written with. */
const PHRASE = /^[\p{L}\p{M}\p{N}\s'\u2018\u2019.-]+$/u;
const WORD_CHARS = /[\p{L}\p{N}]/gu;

/**
 * Reads CRM_VOICEMAIL_PHRASES: a comma list of greeting phrases added to the built-in ones.
 * Returns the phrases trimmed, empty entries dropped. Each is at most 100 characters of
 * letters, digits, spaces, apostrophes, "." and "-", with at least two letters or digits (a
 * one-letter phrase would make nearly every message a greeting). Throws without echoing the
 * value (contract §8); shared by lambda/config/receiver-config.ts and the CDK stack.
 */
export function parseVoicemailPhrases(value: string): string[] {
  if (value.length > MAX_LIST_VALUE_CHARS) throw new Error(`must be at most ${MAX_LIST_VALUE_CHARS} characters`);
  const phrases = value
    .split(',')
    .map((phrase) => phrase.trim())
    .filter((phrase) => phrase !== '');
  if (phrases.length === 0) throw new Error('must name at least one phrase');
  if (phrases.length > MAX_PHRASES) throw new Error(`must name at most ${MAX_PHRASES} phrases`);
  for (const phrase of phrases) {
    if (phrase.length > MAX_PHRASE_CHARS || !PHRASE.test(phrase) || (normaliseSpeech(phrase).match(WORD_CHARS)?.length ?? 0) < 2) {
      throw new Error(
        `must be a comma list of phrases (letters, digits, spaces, apostrophes, "." or "-"; at least two letters or digits and at most ${MAX_PHRASE_CHARS} characters each)`,
      );
    }
  }
  // Compiled now, not on the first event: the matcher is ready when the configuration is, and
  // the returned list is the key the classifier is cached under.
  speechClassifier(phrases);
  return phrases;
}
