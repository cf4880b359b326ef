/**
 * The wiring of lambda/create-receiver.ts: the environment's CRM mapping settings (contract §8)
 * reach the pure mapping, end to end through the handler, with in-memory ports.
 */
import { describe, expect, it } from 'vitest';
import { formatSignatureHeader } from '../../lambda/core/verify-signature';
import { createReceiver, initReceiver } from '../../lambda/create-receiver';
import { apiGatewayEvent } from '../../support/api-gateway-event';
import { collected, realCall } from '../../support/fixtures/real-calls';
import { memoryWorld, TEST_SECRET } from '../helpers/memory-ports';

async function forwardedPayload(env: Record<string, string>, body: object) {
  const world = memoryWorld({ now: Date.now });
  const handler = createReceiver(
    { CRM_WEBHOOK_URL: 'http://127.0.0.1:9/crm', ELEVENLABS_WEBHOOK_SECRET: TEST_SECRET, ...env },
    { write: () => undefined, deps: { crm: world.deps.crm, retryQueue: world.deps.retryQueue } },
  );
  const raw = JSON.stringify(body);
  const response = await handler(
    apiGatewayEvent(raw, { 'ElevenLabs-Signature': formatSignatureHeader(TEST_SECRET, Math.floor(Date.now() / 1000), raw) }),
  );
  expect(response.statusCode).toBe(200);
  expect(world.crmCalls).toHaveLength(1);
  return world.crmCalls[0]!;
}

describe('createReceiver: CRM mapping settings', () => {
  // An account that uses user_name for the agent's persona ("Ava"), not the contact.
  const persona = realCall({ dataCollection: { user_name: collected('user_name', 'Ava'), 'Last Name': collected('Last Name', 'Raman') } });

  it.each<[string, Record<string, string>, string]>([
    ['the contract §5 list by default: user_name counts', {}, 'Ava'],
    ['CRM_NAME_FIELDS without user_name: the last name instead', { CRM_NAME_FIELDS: 'name, contact_name, customer_name' }, 'Raman'],
  ])('%s', async (_case, env, expected) => {
    expect((await forwardedPayload(env, persona)).name).toBe(expected);
  });

  it.each<[string, Record<string, string>, string]>([
    ['AU by default', {}, '+61491570157'],
    ['CRM_DEFAULT_COUNTRY=US reads the same digits as another country', { CRM_DEFAULT_COUNTRY: 'us' }, 'Unknown'],
  ])('national numbers: %s', async (_case, env, expected) => {
    expect((await forwardedPayload(env, realCall({ contactNumber: '0491 570 157' }))).to).toBe(expected);
  });

  it('answers 500 naming the variable when CRM_DEFAULT_COUNTRY is invalid', async () => {
    const lines: string[] = [];
    const handler = createReceiver(
      { CRM_WEBHOOK_URL: 'http://127.0.0.1:9/crm', ELEVENLABS_WEBHOOK_SECRET: TEST_SECRET, CRM_DEFAULT_COUNTRY: 'Australia' },
      { write: (line) => lines.push(line) },
    );
    expect(JSON.parse(lines[0]!)).toMatchObject({
      message: 'invalid configuration',
      error: expect.stringContaining('CRM_DEFAULT_COUNTRY'),
    });
    expect(lines[0]).not.toContain('Australia');
    const raw = JSON.stringify(realCall());
    expect((await handler(apiGatewayEvent(raw, {}))).statusCode).toBe(500);
  });
});

describe('initReceiver: the compile cache (SPEC §14)', () => {
  const env = { CRM_WEBHOOK_URL: 'http://127.0.0.1:9/crm', ELEVENLABS_WEBHOOK_SECRET: TEST_SECRET };
  const linesOf = async (extraEnv: Record<string, string>, compileCacheDir?: string) => {
    const lines: string[] = [];
    await initReceiver({ ...env, ...extraEnv }, { write: (line) => lines.push(line), compileCacheDir });
    return lines.map((line) => JSON.parse(line) as { level: string; message: string });
  };

  it.each<[string, Record<string, string>, string | undefined, string[]]>([
    [
      'asked for and not in use (another runtime build): said once, as a warning',
      { NODE_COMPILE_CACHE: '/opt/compile-cache' },
      undefined,
      ['compile cache not in use'],
    ],
    [
      'asked for and in use: nothing said',
      { NODE_COMPILE_CACHE: '/opt/compile-cache' },
      '/opt/compile-cache/v24.1.0-arm64-1a2b3c4d-993',
      [],
    ],
    ['not asked for (tests, npm start): nothing said', {}, undefined, []],
  ])('%s', async (_case, extraEnv, dir, messages) => {
    const lines = await linesOf(extraEnv, dir);
    expect(lines.map((l) => l.message)).toEqual(messages);
    for (const line of lines) expect(line.level).toBe('warn');
  });
});
