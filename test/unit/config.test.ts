import { describe, expect, it } from 'vitest';
import { loadAudioWorkerConfig } from '../../lambda/config/audio-worker-config';
import { DEFAULT_CRM_SUBJECT } from '../../lambda/config/crm-mapping-env';
import { loadConfig } from '../../lambda/config/receiver-config';
import { loadWorkerConfig } from '../../lambda/config/retry-worker-config';
import { ConfigurationError } from '../../lambda/core/errors';
import { isSourceAllowed } from '../../lambda/core/source-ip';

const minimal = { CRM_WEBHOOK_URL: 'https://crm.example/calls' };

describe('loadConfig (contract §8)', () => {
  it('applies the documented defaults', () => {
    expect(loadConfig(minimal)).toEqual({
      pipeline: {
        signatureToleranceSeconds: 1800,
        sourceAllowlist: undefined,
        allowedAgentIds: undefined,
        crmMapping: { defaultSubject: DEFAULT_CRM_SUBJECT, subjectsByAgent: {}, nameFields: undefined, defaultCountry: 'AU' },
        audioCheckDelaySeconds: 600,
      },
      secret: { secretArn: undefined, plainSecret: undefined, cacheSeconds: 300 },
      crm: { url: 'https://crm.example/calls', timeoutMs: 5000, maxAttempts: 3 },
      retryQueueUrl: undefined,
      audioBucket: undefined,
      s3: { forcePathStyle: false },
      idempotencyTable: undefined,
      archiveEvents: false,
      audioCheckQueueUrl: undefined,
      onLambda: false,
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      ...minimal,
      WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:x',
      ELEVENLABS_WEBHOOK_SECRET: 'wsec_x',
      SECRET_CACHE_SECONDS: '60',
      CRM_TIMEOUT_MS: '2500',
      CRM_MAX_ATTEMPTS: '5',
      CRM_RETRY_QUEUE_URL: 'https://sqs.ap-southeast-2.amazonaws.com/123456789012/retry',
      AUDIO_BUCKET: 'bucket',
      SIGNATURE_TOLERANCE_SECONDS: '300',
      ALLOWED_SOURCE_IPS: 'elevenlabs,10.0.0.0/8',
      ALLOWED_AGENT_IDS: 'a1, a2,',
      CRM_DEFAULT_SUBJECT: 'Outbound call',
      CRM_SUBJECTS_BY_AGENT: '{"a1":"Renewals"}',
      CRM_NAME_FIELDS: 'contact_name, Patient Name,',
      CRM_DEFAULT_COUNTRY: 'nz',
      IDEMPOTENCY_TABLE: 'table',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569',
      ARCHIVE_EVENTS: 'true',
      AUDIO_CHECK_QUEUE_URL: 'https://sqs.ap-southeast-2.amazonaws.com/123456789012/audio-check',
      AUDIO_CHECK_DELAY_SECONDS: '120',
      AWS_LAMBDA_FUNCTION_NAME: 'receiver',
    });
    expect(config).toMatchObject({
      pipeline: {
        signatureToleranceSeconds: 300,
        crmMapping: {
          defaultSubject: 'Outbound call',
          subjectsByAgent: { a1: 'Renewals' },
          nameFields: ['contact_name', 'Patient Name'],
          defaultCountry: 'NZ',
        },
        audioCheckDelaySeconds: 120,
      },
      secret: { secretArn: 'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:x', plainSecret: 'wsec_x', cacheSeconds: 60 },
      crm: { url: 'https://crm.example/calls', timeoutMs: 2500, maxAttempts: 5 },
      retryQueueUrl: 'https://sqs.ap-southeast-2.amazonaws.com/123456789012/retry',
      audioBucket: 'bucket',
      s3: { forcePathStyle: true, endpoint: 'http://127.0.0.1:4569' },
      idempotencyTable: 'table',
      archiveEvents: true,
      audioCheckQueueUrl: 'https://sqs.ap-southeast-2.amazonaws.com/123456789012/audio-check',
      onLambda: true,
    });
    expect([...config.pipeline.allowedAgentIds!]).toEqual(['a1', 'a2']);
    expect(isSourceAllowed(config.pipeline.sourceAllowlist!, '10.1.2.3')).toBe(true);
    expect(isSourceAllowed(config.pipeline.sourceAllowlist!, '34.59.11.47')).toBe(true);
  });

  it('treats empty values as unset', () => {
    expect(
      loadConfig({
        ...minimal,
        AUDIO_BUCKET: '',
        CRM_TIMEOUT_MS: ' ',
        ALLOWED_AGENT_IDS: ',',
        CRM_NAME_FIELDS: ' ',
        CRM_DEFAULT_COUNTRY: '',
      }),
    ).toMatchObject({
      audioBucket: undefined,
      crm: { timeoutMs: 5000 },
      pipeline: { allowedAgentIds: undefined, crmMapping: { nameFields: undefined, defaultCountry: 'AU' } },
    });
  });

  it.each([
    ['CRM_WEBHOOK_URL missing', {}, 'CRM_WEBHOOK_URL is required'],
    ['CRM_WEBHOOK_URL not http(s)', { CRM_WEBHOOK_URL: 'ftp://x' }, 'CRM_WEBHOOK_URL must be an http(s) URL'],
    ['CRM_TIMEOUT_MS not a number', { ...minimal, CRM_TIMEOUT_MS: '5s' }, 'CRM_TIMEOUT_MS must be a whole number'],
    ['CRM_TIMEOUT_MS over the 12 s budget', { ...minimal, CRM_TIMEOUT_MS: '20000' }, 'CRM_TIMEOUT_MS must be at most 12000'],
    ['CRM_MAX_ATTEMPTS zero', { ...minimal, CRM_MAX_ATTEMPTS: '0' }, 'CRM_MAX_ATTEMPTS must be at least 1'],
    ['SIGNATURE_TOLERANCE_SECONDS negative', { ...minimal, SIGNATURE_TOLERANCE_SECONDS: '-1' }, 'SIGNATURE_TOLERANCE_SECONDS'],
    ['SECRET_CACHE_SECONDS fractional', { ...minimal, SECRET_CACHE_SECONDS: '1.5' }, 'SECRET_CACHE_SECONDS'],
    ['ALLOWED_SOURCE_IPS with a hostname', { ...minimal, ALLOWED_SOURCE_IPS: 'elevenlabs.io' }, 'ALLOWED_SOURCE_IPS'],
    ['CRM_SUBJECTS_BY_AGENT not JSON', { ...minimal, CRM_SUBJECTS_BY_AGENT: '{a:1}' }, 'CRM_SUBJECTS_BY_AGENT must be a JSON object'],
    [
      'CRM_SUBJECTS_BY_AGENT with a number',
      { ...minimal, CRM_SUBJECTS_BY_AGENT: '{"a":1}' },
      'CRM_SUBJECTS_BY_AGENT must be a JSON object whose values are strings',
    ],
    ['CRM_RETRY_QUEUE_URL not a URL', { ...minimal, CRM_RETRY_QUEUE_URL: 'retry-queue' }, 'CRM_RETRY_QUEUE_URL'],
    ['no retry queue on Lambda', { ...minimal, AWS_LAMBDA_FUNCTION_NAME: 'receiver' }, 'CRM_RETRY_QUEUE_URL is required on Lambda'],
    [
      'a file: retry queue on Lambda',
      { ...minimal, AWS_LAMBDA_FUNCTION_NAME: 'receiver', CRM_RETRY_QUEUE_URL: 'file:///tmp/retry' },
      'CRM_RETRY_QUEUE_URL is a file: folder queue, which nothing reads on Lambda',
    ],
    ['CRM_NAME_FIELDS only commas', { ...minimal, CRM_NAME_FIELDS: ',,' }, 'CRM_NAME_FIELDS must name at least one field'],
    [
      'CRM_NAME_FIELDS with a dot path',
      { ...minimal, CRM_NAME_FIELDS: 'name,contact.name' },
      'CRM_NAME_FIELDS must be a comma list of field names',
    ],
    [
      'CRM_NAME_FIELDS with markup',
      { ...minimal, CRM_NAME_FIELDS: '<script>alert(1)</script>' },
      'CRM_NAME_FIELDS must be a comma list of field names',
    ],
    ['CRM_NAME_FIELDS of separators only', { ...minimal, CRM_NAME_FIELDS: '_, -' }, 'CRM_NAME_FIELDS must be a comma list of field names'],
    [
      'CRM_NAME_FIELDS with a 65-character name',
      { ...minimal, CRM_NAME_FIELDS: 'n'.repeat(65) },
      'CRM_NAME_FIELDS must be a comma list of field names',
    ],
    [
      'CRM_NAME_FIELDS with 33 names',
      { ...minimal, CRM_NAME_FIELDS: Array.from({ length: 33 }, (_, i) => `f${i}`).join(',') },
      'CRM_NAME_FIELDS must name at most 32 fields',
    ],
    [
      'CRM_DEFAULT_COUNTRY a name',
      { ...minimal, CRM_DEFAULT_COUNTRY: 'Australia' },
      'CRM_DEFAULT_COUNTRY must be an ISO 3166 alpha-2 country code',
    ],
    [
      'CRM_DEFAULT_COUNTRY alpha-3',
      { ...minimal, CRM_DEFAULT_COUNTRY: 'AUS' },
      'CRM_DEFAULT_COUNTRY must be an ISO 3166 alpha-2 country code',
    ],
    [
      'CRM_DEFAULT_COUNTRY a calling code',
      { ...minimal, CRM_DEFAULT_COUNTRY: '+61' },
      'CRM_DEFAULT_COUNTRY must be an ISO 3166 alpha-2 country code',
    ],
    [
      'CRM_DEFAULT_COUNTRY unknown to the numbering plans',
      { ...minimal, CRM_DEFAULT_COUNTRY: 'ZZ' },
      'CRM_DEFAULT_COUNTRY must be an ISO 3166 alpha-2 country code',
    ],
    ['ARCHIVE_EVENTS not a boolean', { ...minimal, ARCHIVE_EVENTS: 'yes', AUDIO_BUCKET: 'b' }, 'ARCHIVE_EVENTS must be true or false'],
    ['ARCHIVE_EVENTS without a bucket', { ...minimal, ARCHIVE_EVENTS: 'TRUE' }, 'ARCHIVE_EVENTS needs AUDIO_BUCKET'],
    [
      'AUDIO_CHECK_DELAY_SECONDS over the SQS limit',
      { ...minimal, AUDIO_CHECK_DELAY_SECONDS: '901' },
      'AUDIO_CHECK_DELAY_SECONDS must be at most 900',
    ],
    [
      'AUDIO_CHECK_QUEUE_URL not a URL',
      { ...minimal, AUDIO_CHECK_QUEUE_URL: 'audio' },
      'AUDIO_CHECK_QUEUE_URL must be an SQS queue URL or a file: URL',
    ],
    [
      'CRM_DEFAULT_COUNTRY "__proto__"',
      { ...minimal, CRM_DEFAULT_COUNTRY: '__proto__' },
      'CRM_DEFAULT_COUNTRY must be an ISO 3166 alpha-2 country code',
    ],
  ])('names the variable: %s', (_name, env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigurationError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('reports every bad variable at once', () => {
    expect(() => loadConfig({ CRM_TIMEOUT_MS: 'x', CRM_MAX_ATTEMPTS: 'y' })).toThrow(/CRM_WEBHOOK_URL.*CRM_TIMEOUT_MS.*CRM_MAX_ATTEMPTS/);
  });

  it('never echoes a value in its errors', () => {
    expect(() => loadConfig({ ...minimal, CRM_TIMEOUT_MS: 'wsec_leaky_value' })).not.toThrow(/wsec_leaky_value/);
  });

  it.each([
    ['CRM_NAME_FIELDS', 'name,wsec_leaky.value'],
    ['CRM_DEFAULT_COUNTRY', 'wsec_leaky_value'],
  ])('never echoes %s in its error', (variable, value) => {
    expect(() => loadConfig({ ...minimal, [variable]: value })).toThrow(variable);
    expect(() => loadConfig({ ...minimal, [variable]: value })).not.toThrow(/leaky/);
  });

  it('accepts every country the numbering plans know, in any case', () => {
    for (const code of ['AU', 'nz', ' Gb ', 'US', 'SG', 'IN']) {
      expect(loadConfig({ ...minimal, CRM_DEFAULT_COUNTRY: code }).pipeline.crmMapping.defaultCountry).toBe(code.trim().toUpperCase());
    }
  });

  it('accepts name fields in any spelling the payloads use', () => {
    expect(loadConfig({ ...minimal, CRM_NAME_FIELDS: 'First Name,user-name,名前' }).pipeline.crmMapping.nameFields).toEqual([
      'First Name',
      'user-name',
      '名前',
    ]);
  });
});

describe('loadWorkerConfig', () => {
  it('reads the CRM settings and the dead-letter queue', () => {
    expect(loadWorkerConfig({ ...minimal, CRM_MAX_ATTEMPTS: '2', CRM_DEAD_LETTER_QUEUE_URL: 'https://sqs.x/1/dlq' })).toEqual({
      crm: { url: 'https://crm.example/calls', timeoutMs: 5000, maxAttempts: 2 },
      retryQueueUrl: undefined,
      deadLetterQueueUrl: 'https://sqs.x/1/dlq',
    });
  });

  it('does not need the receiver-only variables on Lambda, only the queue it drains', () => {
    const sqs = 'https://sqs.ap-southeast-2.amazonaws.com/123456789012/crm-retry';
    expect(loadWorkerConfig({ ...minimal, AWS_LAMBDA_FUNCTION_NAME: 'worker', CRM_RETRY_QUEUE_URL: sqs }).retryQueueUrl).toBe(sqs);
    expect(() => loadWorkerConfig({ ...minimal, AWS_LAMBDA_FUNCTION_NAME: 'worker' })).toThrow(
      'CRM_RETRY_QUEUE_URL is required on Lambda (the queue this worker drains)',
    );
  });

  it.each(['CRM_RETRY_QUEUE_URL', 'CRM_DEAD_LETTER_QUEUE_URL'])('refuses a file: %s on Lambda, where nothing reads a folder', (name) => {
    const sqs = 'https://sqs.ap-southeast-2.amazonaws.com/123456789012/q';
    const env = { ...minimal, AWS_LAMBDA_FUNCTION_NAME: 'worker', CRM_RETRY_QUEUE_URL: sqs, [name]: 'file:///tmp/queue' };
    expect(() => loadWorkerConfig(env)).toThrow(`${name} is a file: folder queue, which nothing reads on Lambda; use the SQS queue URL`);
    expect(() => loadWorkerConfig({ ...env, AWS_LAMBDA_FUNCTION_NAME: '' })).not.toThrow();
  });

  it('names a missing CRM_WEBHOOK_URL', () => {
    expect(() => loadWorkerConfig({})).toThrow('CRM_WEBHOOK_URL is required');
  });
});

describe('loadAudioWorkerConfig (contract §10)', () => {
  const bucket = { AUDIO_BUCKET: 'calls' };

  it('applies the defaults: AWS S3, the public API, no key', () => {
    expect(loadAudioWorkerConfig(bucket)).toEqual({
      audioBucket: 'calls',
      s3: { forcePathStyle: false },
      audioCheckQueueUrl: undefined,
      apiKey: { secretArn: undefined, plainKey: undefined, cacheSeconds: 300 },
      elevenLabsApiBaseUrl: 'https://api.elevenlabs.io',
    });
  });

  it('reads every variable, dropping a trailing slash from the API URL', () => {
    expect(
      loadAudioWorkerConfig({
        ...bucket,
        AWS_ENDPOINT_URL: 'http://127.0.0.1:4569',
        AUDIO_CHECK_QUEUE_URL: 'https://sqs.x/1/audio',
        ELEVENLABS_API_KEY_SECRET_ARN: 'arn:aws:secretsmanager:ap-southeast-2:1:secret:k',
        ELEVENLABS_API_KEY: 'sk_x',
        ELEVENLABS_API_BASE_URL: 'http://127.0.0.1:9/',
        SECRET_CACHE_SECONDS: '30',
        AWS_LAMBDA_FUNCTION_NAME: 'audio-worker',
      }),
    ).toEqual({
      audioBucket: 'calls',
      s3: { forcePathStyle: true, endpoint: 'http://127.0.0.1:4569' },
      audioCheckQueueUrl: 'https://sqs.x/1/audio',
      apiKey: { secretArn: 'arn:aws:secretsmanager:ap-southeast-2:1:secret:k', plainKey: 'sk_x', cacheSeconds: 30 },
      elevenLabsApiBaseUrl: 'http://127.0.0.1:9',
    });
  });

  it.each([
    ['no bucket', {}, 'AUDIO_BUCKET is required'],
    [
      'an API URL that is not http(s)',
      { ...bucket, ELEVENLABS_API_BASE_URL: 'javascript:alert(1)' },
      'ELEVENLABS_API_BASE_URL must be an http(s) URL',
    ],
    ['no queue on Lambda', { ...bucket, AWS_LAMBDA_FUNCTION_NAME: 'w' }, 'AUDIO_CHECK_QUEUE_URL is required on Lambda'],
    [
      'a folder queue on Lambda',
      { ...bucket, AWS_LAMBDA_FUNCTION_NAME: 'w', AUDIO_CHECK_QUEUE_URL: 'file:///tmp/q' },
      'AUDIO_CHECK_QUEUE_URL is a file: folder queue',
    ],
  ])('names the variable: %s', (_name, env, message) => {
    expect(() => loadAudioWorkerConfig(env)).toThrow(ConfigurationError);
    expect(() => loadAudioWorkerConfig(env)).toThrow(message);
  });

  it('never echoes the API key', () => {
    expect(() => loadAudioWorkerConfig({ ELEVENLABS_API_KEY: 'sk_leaky' })).not.toThrow(/sk_leaky/);
  });
});
