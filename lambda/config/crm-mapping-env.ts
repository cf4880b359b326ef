/**
 * The CRM mapping settings of contract §5 and §8, parsed alike wherever a CRM record is built:
 * the receiver, the audio worker's call check (contract §12) and `npm run replay`. Its own module
 * so that the retry worker, which forwards records it never builds, bundles none of it.
 */
import * as z from 'zod/mini';
import { parseNameFields } from '../core/contact-name';
import { parseNumberFields } from '../core/contact-number';
import type { CrmMappingConfig } from '../core/crm-payload';
import { CRM_FIELD_DEFAULTS } from '../core/crm-payload-schema';
import { DEFAULT_COUNTRY, parseDefaultCountry } from '../core/phone-number';
import { parseVoicemailPhrases } from '../core/speech-phrases';
import { parseSubjectsByAgent } from '../core/subjects-by-agent';
import { optionalParsed, optionalText } from './env-fields';

export const DEFAULT_CRM_SUBJECT: string = CRM_FIELD_DEFAULTS.subject;

export const CrmMappingEnvShape = {
  CRM_DEFAULT_SUBJECT: z.pipe(
    optionalText,
    z.transform((v: string | undefined) => v ?? DEFAULT_CRM_SUBJECT),
  ),
  CRM_SUBJECTS_BY_AGENT: optionalParsed(parseSubjectsByAgent),
  // contract §5 name, number and voicemail rules; the parsers name no value in their errors.
  CRM_NAME_FIELDS: optionalParsed(parseNameFields),
  CRM_NUMBER_FIELDS: optionalParsed(parseNumberFields),
  CRM_VOICEMAIL_PHRASES: optionalParsed(parseVoicemailPhrases),
  CRM_DEFAULT_COUNTRY: optionalParsed(parseDefaultCountry),
};

type CrmMappingEnv = z.output<z.ZodMiniObject<typeof CrmMappingEnvShape>>;

export function crmMapping(e: CrmMappingEnv): CrmMappingConfig {
  return {
    defaultSubject: e.CRM_DEFAULT_SUBJECT,
    subjectsByAgent: e.CRM_SUBJECTS_BY_AGENT ?? {},
    nameFields: e.CRM_NAME_FIELDS,
    numberFields: e.CRM_NUMBER_FIELDS,
    voicemailPhrases: e.CRM_VOICEMAIL_PHRASES,
    defaultCountry: e.CRM_DEFAULT_COUNTRY ?? DEFAULT_COUNTRY,
  };
}
