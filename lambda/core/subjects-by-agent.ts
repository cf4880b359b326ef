/**
 * CRM_SUBJECTS_BY_AGENT (contract §5 `subject`): a JSON object mapping an agent id to the CRM
 * subject of its calls. One parser for the receiver's environment and the CDK stack's context
 * (a string on the command line, an object in cdk.json), so both accept exactly the same.
 * Errors say what is wrong, never echo the value.
 */
import * as z from 'zod/mini';
import './zod-messages';

const SubjectsSchema = z.record(z.string(), z.string());

export function parseSubjectsByAgent(value: unknown): Record<string, string> {
  let json = value;
  if (typeof value === 'string') {
    try {
      json = JSON.parse(value);
    } catch {
      throw new Error('must be a JSON object of agent id → subject');
    }
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('must be a JSON object of agent id → subject');
  const parsed = SubjectsSchema.safeParse(json);
  if (!parsed.success) throw new Error('must be a JSON object whose values are strings');
  return parsed.data;
}
