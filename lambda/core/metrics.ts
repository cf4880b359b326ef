/**
 * Metric names, namespace and dimensions (SPEC §7). The Lambda code emits with these and the
 * CDK stack builds its alarms from the same constants, so the two cannot drift apart.
 */
export const METRICS_NAMESPACE = 'ElevenLabsWebhook';

/** Every metric carries this dimension; `EventsReceived` is also split by `EventType`. */
export const SERVICE_DIMENSION = 'Service';
export const SERVICE_NAME = 'elevenlabs-webhook';
export const EVENT_TYPE_DIMENSION = 'EventType';

export const MetricName = {
  EventsReceived: 'EventsReceived',
  SignatureRejected: 'SignatureRejected',
  SignatureMismatchFromElevenLabs: 'SignatureMismatchFromElevenLabs',
  RequestRejected: 'RequestRejected',
  CrmForwardSucceeded: 'CrmForwardSucceeded',
  CrmForwardFailed: 'CrmForwardFailed',
  CrmForwardRetried: 'CrmForwardRetried',
  CrmForwardQueued: 'CrmForwardQueued',
  CrmForwardNotDurable: 'CrmForwardNotDurable',
  AudioStored: 'AudioStored',
  AudioBytes: 'AudioBytes',
  AudioStoreFailed: 'AudioStoreFailed',
  Deduplicated: 'Deduplicated',
  SecretUnavailable: 'SecretUnavailable',
  IdempotencyUnavailable: 'IdempotencyUnavailable',
  EventArchived: 'EventArchived',
  ArchiveFailed: 'ArchiveFailed',
  AudioCheckScheduled: 'AudioCheckScheduled',
  AudioCheckNotScheduled: 'AudioCheckNotScheduled',
  AudioAlreadyStored: 'AudioAlreadyStored',
  AudioRecovered: 'AudioRecovered',
  AudioRecoveredBytes: 'AudioRecoveredBytes',
  AudioMissing: 'AudioMissing',
  AudioUnavailable: 'AudioUnavailable',
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];

export const METRIC_UNITS: Record<MetricName, 'Count' | 'Bytes'> = {
  EventsReceived: 'Count',
  SignatureRejected: 'Count',
  SignatureMismatchFromElevenLabs: 'Count',
  RequestRejected: 'Count',
  CrmForwardSucceeded: 'Count',
  CrmForwardFailed: 'Count',
  CrmForwardRetried: 'Count',
  CrmForwardQueued: 'Count',
  CrmForwardNotDurable: 'Count',
  AudioStored: 'Count',
  AudioBytes: 'Bytes',
  AudioStoreFailed: 'Count',
  Deduplicated: 'Count',
  SecretUnavailable: 'Count',
  IdempotencyUnavailable: 'Count',
  EventArchived: 'Count',
  ArchiveFailed: 'Count',
  AudioCheckScheduled: 'Count',
  AudioCheckNotScheduled: 'Count',
  AudioAlreadyStored: 'Count',
  AudioRecovered: 'Count',
  AudioRecoveredBytes: 'Bytes',
  AudioMissing: 'Count',
  AudioUnavailable: 'Count',
};

export type MetricValues = Partial<Record<MetricName, number>>;
