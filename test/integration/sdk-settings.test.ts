/**
 * The SDK settings every client is given (lambda/adapters/sdk-settings.ts): each is the SDK's own
 * default, as a bare client resolves it, and none is read from a profile any more. Real SDK
 * clients, no network: only their resolved configuration is read.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkClientOptions } from '../../lambda/adapters/deadline';
import { SDK_SETTINGS, SERVICE_SETTINGS } from '../../lambda/adapters/sdk-settings';
import type { SDK_ATTEMPTS } from '../../lambda/core/time-budget';

type Kind = keyof typeof SDK_ATTEMPTS;
type AnyClient = { config: object; destroy(): void };

/** The client each kind's adapter builds (secrets.ts, idempotency-store.ts, queue.ts, s3.ts, sms.ts). */
const CLIENT_OF: Record<Kind, new (options: object) => AnyClient> = {
  secret: SecretsManagerClient,
  idempotency: DynamoDBClient,
  queue: SQSClient,
  audio: S3Client,
  recording: S3Client,
  sms: PinpointSMSVoiceV2Client,
};

/** Settings where the SDK has no default or we chose otherwise, and what a bare client resolves instead. */
const NOT_THE_DEFAULT: Record<string, { bare: unknown; why: string }> = {
  userAgentAppId: { bare: undefined, why: 'unset by default; ours names the application in the user agent' },
  useArnRegion: { bare: undefined, why: "unset; S3's endpoint rules read it only for ARN bucket names, and we send plain names" },
  requestChecksumCalculation: { bare: 'WHEN_SUPPORTED', why: 'no CRC of every body: PutObject calls send their own SHA-256' },
};

const KINDS = Object.keys(CLIENT_OF) as Kind[];
const settingsOf = (kind: Kind) => Object.keys({ ...SDK_SETTINGS, ...SERVICE_SETTINGS[kind] });

async function resolved(client: AnyClient, key: string): Promise<unknown> {
  const value = (client.config as Record<string, unknown>)[key];
  return typeof value === 'function' ? await (value as () => unknown)() : value;
}

const dir = mkdtempSync(join(tmpdir(), 'sdk-settings-'));
const OVERRIDES = [
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_PROFILE',
  'AWS_DEFAULTS_MODE',
  'AWS_RETRY_MODE',
  'AWS_USE_FIPS_ENDPOINT',
  'AWS_USE_DUALSTACK_ENDPOINT',
  'AWS_AUTH_SCHEME_PREFERENCE',
  'AWS_SDK_UA_APP_ID',
  'AWS_S3_DISABLE_EXPRESS_SESSION_AUTH',
  'AWS_S3_USE_ARN_REGION',
  'AWS_RESPONSE_CHECKSUM_VALIDATION',
  'AWS_ACCOUNT_ID_ENDPOINT_MODE',
  'AWS_REQUEST_CHECKSUM_CALCULATION',
];
const saved = Object.fromEntries(OVERRIDES.map((name) => [name, process.env[name]]));
const built: AnyClient[] = [];
const build = (kind: Kind, options: object) => {
  const client = new CLIENT_OF[kind]({ region: 'ap-southeast-2', ...options });
  built.push(client);
  return client;
};

beforeAll(() => {
  for (const name of OVERRIDES) delete process.env[name];
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'no-credentials');
});
afterAll(() => {
  for (const client of built) client.destroy();
  rmSync(dir, { recursive: true, force: true });
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('the SDK settings every client is given', () => {
  it.each(KINDS)('%s: each is what a bare client resolves with no environment and no profile', async (kind) => {
    process.env.AWS_CONFIG_FILE = join(dir, 'no-config');
    const bare = build(kind, {});
    const ours = build(kind, sdkClientOptions(kind));
    const keys = settingsOf(kind);
    expect(keys.length).toBeGreaterThan(5);
    for (const key of keys) {
      const expected = key in NOT_THE_DEFAULT ? NOT_THE_DEFAULT[key]!.bare : await resolved(ours, key);
      expect({ key, value: await resolved(bare, key) }).toEqual({ key, value: expected });
    }
  });

  it.each(KINDS)('%s: a profile that says otherwise changes a bare client and not ours', async (kind) => {
    // One file per kind: the SDK caches each file it reads, by path, for the process.
    const file = join(dir, `config-${kind}`);
    writeFileSync(
      file,
      [
        '[default]',
        'defaults_mode = standard',
        'retry_mode = adaptive',
        'use_fips_endpoint = true',
        'use_dualstack_endpoint = true',
        'auth_scheme_preference = sigv4a',
        'sdk_ua_app_id = from-a-profile',
        's3_disable_express_session_auth = true',
        's3_use_arn_region = true',
        'response_checksum_validation = WHEN_REQUIRED',
        'account_id_endpoint_mode = disabled',
        'request_checksum_calculation = WHEN_SUPPORTED',
        '',
      ].join('\n'),
    );
    process.env.AWS_CONFIG_FILE = file;
    const bare = build(kind, {});
    const ours = build(kind, sdkClientOptions(kind));
    const settings: Record<string, unknown> = { ...SDK_SETTINGS, ...SERVICE_SETTINGS[kind] };
    for (const key of settingsOf(kind)) {
      expect({ key, value: await resolved(ours, key) }).toEqual({ key, value: settings[key] });
      expect({ key, value: await resolved(bare, key) }).not.toEqual({ key, value: settings[key] });
    }
  });
});
