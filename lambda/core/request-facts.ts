/**
 * What happened to one request, collected by the pipeline and turned into the one log
 * line and the metrics of contract §7. Holds no personal data: the contact number is masked
 * before it gets here.
 */
import type { CrmStatus } from './crm-payload-schema';
import { isEventType } from './events';
import type { OutcomeKind } from './outcome';
import type { TextBackQueued } from './text-back/queue-text-back';

export interface RequestFacts {
  /** How the request ended (core/outcome.ts): decides its status, log level and metrics. */
  outcome: OutcomeKind;
  type?: string;
  conversationId?: string;
  agentId?: string;
  authenticatedBy?: 'hmac' | 'bearer';
  crmStatus?: CrmStatus;
  /** The contact number, masked (contract §7). */
  crmTo?: string;
  crmAttempts?: number;
  audioKey?: string;
  audioBytes?: number;
  skipReason?: string;
  /** Set when deduplication was wanted but its table could not be reached. */
  idempotencyError?: string;
  /** A signature mismatch from one of ElevenLabs' published egress IPs (contract §3). */
  mismatchFromElevenLabs?: boolean;
  /** Why the secret cache could not be refreshed while the last verified secret is in use. */
  secretStale?: string;
  /** contract §10: the event archive and the audio check, and why one failed or was skipped. */
  /** `withdrawn`: archived, then deleted because the forward was not durable (the archive is the §12 ledger). */
  archive?: 'archived' | 'failed' | 'skipped' | 'withdrawn' | 'withdraw_failed';
  archiveError?: string;
  audioCheck?: 'scheduled' | 'not_scheduled' | 'skipped';
  audioCheckError?: string;
  /** contract §13: the call's text-back: queued, not queued (SQS refused), or the rule that skipped it. */
  textBack?: TextBackQueued['textBack'];
  textBackError?: string;
  /** Log-safe description of the failure, when there was one. */
  error?: string;
}

/** The `EventType` dimension value: a known type, or `other` so a sender cannot mint dimensions. */
export function eventTypeDimension(type: string | undefined): string {
  return type !== undefined && isEventType(type) ? type : 'other';
}
