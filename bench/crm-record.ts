/**
 * Figure 9: the CRM record (contract §5, issue 17). `toCrmPayload` alone, in this process, over
 * events already parsed: the rules' own cost per event, with the 2026 rules (SIP outcomes,
 * greetings in seven languages, screening prompts, number fields) and a configured
 * CRM_VOICEMAIL_PHRASES / CRM_NUMBER_FIELDS, as the receiver runs them. The baseline, in the
 * same rounds: `parseEvent` of the same bodies (the event schema the handler runs first), for scale.
 *
 * 9b is the worst case for the greeting matcher: every user message of a transcript is a
 * greeting or a screening prompt (so each one is normalised and tested; a contact's words end
 * the classifying early), at ~29 KB and ~290 KB of transcript. Linear matching takes ~10× as
 * long for 10× the text. No target (issue 17 asks for the figure only).
 *
 * `npx tsx bench/crm-record.ts [--quick]` runs this figure alone.
 */
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../lambda/config/receiver-config';
import { toCrmPayload } from '../lambda/core/crm-payload';
import { type FailureEvent, parseEvent, type TranscriptionEvent } from '../lambda/core/events';
import { answeringMachineCall, type Json, realCall, silentCall, type Turn, turn } from '../support/fixtures/real-calls';
import {
  callHearing,
  collectedNumber,
  ENGLISH_GREETINGS_2026,
  GREETINGS_BY_LANGUAGE,
  llmCascadeErrorCall,
  rejectedOutboundCall,
  SCREENER_PROMPTS,
  sipInitiationFailure,
  sipTrunkCallWithoutDirection,
  webConversation,
} from '../support/fixtures/real-calls-2026';
import { type Measurement, renderTable, times } from './lib/report';
import { median, round } from './lib/stats';

export interface CrmRecordData {
  events: number;
  rounds: number;
  mappingMicros: { median: number; rounds: number[] };
  parseMicros: { median: number; rounds: number[] };
  worstCase: { smallBytes: number; largeBytes: number; smallMicros: number; largeMicros: number; ratio: number; sizeRatio: number };
}

type CrmEvent = TranscriptionEvent | FailureEvent;

/** The real-shaped calls of 2026 and before, one of each kind. */
function mixedBodies(): Json[] {
  return [
    realCall(),
    answeringMachineCall(),
    silentCall(),
    callHearing([GREETINGS_BY_LANGUAGE.es.accented]),
    callHearing([GREETINGS_BY_LANGUAGE.fr.accented, GREETINGS_BY_LANGUAGE.de.plain]),
    callHearing([ENGLISH_GREETINGS_2026.dentalCallback]),
    callHearing([SCREENER_PROMPTS.google, '...', SCREENER_PROMPTS.stayOnTheLine]),
    callHearing([SCREENER_PROMPTS.stayOnTheLine, 'Hi, this is Priya. Who is calling?']),
    rejectedOutboundCall(),
    llmCascadeErrorCall(),
    webConversation({ customer_phone: '0491 570 158' }),
    webConversation({}, { phone_number: collectedNumber('phone_number', 61491570159) }),
    sipTrunkCallWithoutDirection(),
    sipInitiationFailure(603, 'INVITE failed: sip status: 603: Decline'),
  ];
}

const WORST_CASE_MESSAGES = [
  ...Object.values(GREETINGS_BY_LANGUAGE).flatMap((g) => [g.accented, g.plain]),
  ...Object.values(ENGLISH_GREETINGS_2026),
  ...Object.values(SCREENER_PROMPTS),
];

/** A transcript of about `bytes` of JSON whose every user message must be classified. */
function worstCaseCall(bytes: number): Json {
  const turns: Turn[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const next =
      i % 2 === 0
        ? turn.agent('Hello, this is Ava from Coastal Dental calling about your check-up.', i * 5)
        : turn.user(WORST_CASE_MESSAGES[(i >> 1) % WORST_CASE_MESSAGES.length]!, i * 5);
    turns.push(next);
    size += JSON.stringify(next).length + 1;
  }
  return realCall({ duration: turns.length * 5, transcript: turns });
}

/** µs per call of `run`: every item of `items`, `repeat` times over. */
function microsPerEvent<T>(items: readonly T[], repeat: number, run: (item: T) => unknown): number {
  let sink = 0;
  const t0 = performance.now();
  for (let r = 0; r < repeat; r++) for (const item of items) sink += run(item) ? 1 : 0;
  const micros = ((performance.now() - t0) * 1000) / (repeat * items.length);
  if (sink === 0) throw new Error('nothing was mapped');
  return micros;
}

export async function benchCrmRecord(quick: boolean): Promise<Measurement<CrmRecordData>> {
  const started = performance.now();
  const bodies = mixedBodies();
  const texts = bodies.map((body) => JSON.stringify(body));
  const events = texts.map((text) => parseEvent(JSON.parse(text)) as CrmEvent);
  const parsedBodies = texts.map((text) => JSON.parse(text) as Json);
  const rounds = quick ? 3 : 11;
  const repeat = quick ? 200 : 2000;
  // The receiver's own config loader, with both 2026 variables set (nothing is sent anywhere).
  const mapping = loadConfig({
    CRM_WEBHOOK_URL: 'http://127.0.0.1:9/crm',
    CRM_VOICEMAIL_PHRASES: 'please call the front desk, buzón personal',
    CRM_NUMBER_FIELDS: 'lead_phone,phone,customer_phone',
  }).pipeline.crmMapping;
  const map = (event: CrmEvent) => toCrmPayload(event, mapping);
  const parse = (body: Json) => parseEvent(body);

  microsPerEvent(events, repeat, map); // warm-up: JIT every path, build the matchers
  microsPerEvent(parsedBodies, repeat, parse);
  const mappingRounds: number[] = [];
  const parseRounds: number[] = [];
  for (let r = 0; r < rounds; r++) {
    mappingRounds.push(microsPerEvent(events, repeat, map));
    parseRounds.push(microsPerEvent(parsedBodies, repeat, parse));
  }

  const small = worstCaseCall(29_000);
  const large = worstCaseCall(290_000);
  const [smallEvent, largeEvent] = [small, large].map((body) => parseEvent(JSON.parse(JSON.stringify(body))) as CrmEvent);
  if (map(largeEvent!).status !== 'voicemail') throw new Error('the worst case must classify every message as a greeting');
  const sizeRepeat = quick ? 20 : 100;
  microsPerEvent([smallEvent!, largeEvent!], sizeRepeat, map);
  // Interleaved, so both sizes see the same load on a shared machine.
  const smallRounds: number[] = [];
  const largeRounds: number[] = [];
  for (let r = 0; r < rounds; r++) {
    smallRounds.push(microsPerEvent([smallEvent!], sizeRepeat * 10, map));
    largeRounds.push(microsPerEvent([largeEvent!], sizeRepeat, map));
  }
  const smallMicros = median(smallRounds);
  const largeMicros = median(largeRounds);
  const [smallBytes, largeBytes] = [small, large].map((body) => JSON.stringify(body.data.transcript).length) as [number, number];

  const mappingMedian = median(mappingRounds);
  const parseMedian = median(parseRounds);
  const micros = (v: number) => `${v.toFixed(v >= 100 ? 0 : 1)} µs`;
  return {
    name: 'crm-record',
    rows: [
      {
        figure: `9. CRM record per event (${events.length} real-shaped events × ${repeat} × ${rounds})`,
        ours: `${micros(mappingMedian)}/event`,
        baseline: `parseEvent ${micros(parseMedian)}`,
        comparison: times(mappingMedian / parseMedian),
        target: '(info: issue 17)',
        verdict: 'reported',
      },
      {
        figure: `9b. every user message classified: ${Math.round(smallBytes / 1000)} KB → ${Math.round(largeBytes / 1000)} KB transcript`,
        ours: `${micros(smallMicros)} → ${micros(largeMicros)}`,
        baseline: `${times(largeBytes / smallBytes)} the text`,
        comparison: times(largeMicros / smallMicros),
        target: '(info: linear)',
        verdict: 'reported',
      },
    ],
    checks: [],
    data: {
      events: events.length,
      rounds,
      mappingMicros: { median: round(mappingMedian), rounds: mappingRounds.map((v) => round(v)) },
      parseMicros: { median: round(parseMedian), rounds: parseRounds.map((v) => round(v)) },
      worstCase: {
        smallBytes,
        largeBytes,
        smallMicros: round(smallMicros),
        largeMicros: round(largeMicros),
        ratio: round(largeMicros / smallMicros),
        sizeRatio: round(largeBytes / smallBytes),
      },
    },
    seconds: (performance.now() - started) / 1000,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const measurement = await benchCrmRecord(process.argv.includes('--quick'));
  console.log(renderTable(measurement.rows));
  console.log(JSON.stringify(measurement.data, null, 2));
}
