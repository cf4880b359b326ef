/** Local settings: `.env` under the environment, parsed once, one line naming a bad variable. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_DATA_DIR, LocalConfigError, loadLocalConfig, loadLocalEnv, mergeDotEnv, ROOT } from '../../scripts/lib/local-config';

const dir = mkdtempSync(join(tmpdir(), 'local-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mergeDotEnv', () => {
  it('fills only what the environment leaves unset, and says which values came from .env', () => {
    const { env, fromDotEnv } = mergeDotEnv({ PORT: '4000', HOST: '' }, { PORT: '5000', HOST: '0.0.0.0', LOCAL_DATA_DIR: '/tmp/x' });
    expect(env).toEqual({ PORT: '4000', HOST: '', LOCAL_DATA_DIR: '/tmp/x' });
    expect([...fromDotEnv]).toEqual(['LOCAL_DATA_DIR']);
  });
});

describe('loadLocalEnv', () => {
  it('reads the file LOCAL_ENV_FILE names, under the environment', () => {
    const file = join(dir, 'a.env');
    writeFileSync(file, 'LOCAL_DATA_DIR=data\nPORT=4100\nELEVENLABS_WEBHOOK_SECRET="wsec_from_file"\n');
    const loaded = loadLocalEnv({ LOCAL_ENV_FILE: file, PORT: '4200' });
    expect(loaded.env).toMatchObject({ LOCAL_DATA_DIR: 'data', PORT: '4200', ELEVENLABS_WEBHOOK_SECRET: 'wsec_from_file' });
    expect(loaded.fromDotEnv.has('PORT')).toBe(false);
    expect(loaded.fromDotEnv.has('ELEVENLABS_WEBHOOK_SECRET')).toBe(true);
  });

  it('refuses a LOCAL_ENV_FILE that does not exist, in one line', () => {
    expect(() => loadLocalEnv({ LOCAL_ENV_FILE: join(dir, 'missing.env') })).toThrow(
      /^LOCAL_ENV_FILE names .*missing\.env, which does not exist$/,
    );
  });
});

describe('loadLocalConfig', () => {
  it('has defaults for everything', () => {
    expect(loadLocalConfig({})).toEqual({
      dataDir: DEFAULT_DATA_DIR,
      port: 3000,
      host: '127.0.0.1',
      retryDrainIntervalMs: 15_000,
      logFormat: 'short',
    });
    expect(loadLocalConfig({ PORT: '', LOG_FORMAT: ' ' }).port).toBe(3000);
  });

  it('reads every local setting; a relative LOCAL_DATA_DIR starts at the repository', () => {
    expect(
      loadLocalConfig({ LOCAL_DATA_DIR: 'tmp/data', PORT: '0', HOST: '::1', RETRY_DRAIN_INTERVAL_MS: '250', LOG_FORMAT: 'json' }),
    ).toEqual({
      dataDir: join(ROOT, 'tmp/data'),
      port: 0,
      host: '::1',
      retryDrainIntervalMs: 250,
      logFormat: 'json',
    });
  });

  it.each([
    ['PORT', 'abc', /^PORT must be a port number from 0 to 65535 .*\(got "abc"\)$/],
    ['PORT', '70000', /^PORT must be/],
    ['PORT', '3000.5', /^PORT must be/],
    ['RETRY_DRAIN_INTERVAL_MS', 'abc', /^RETRY_DRAIN_INTERVAL_MS must be a whole number of milliseconds from 100 .*\(got "abc"\)$/],
    ['RETRY_DRAIN_INTERVAL_MS', '0', /^RETRY_DRAIN_INTERVAL_MS must be/],
    ['LOG_FORMAT', 'xml', /^LOG_FORMAT must be "short" .* or "json"/],
    ['HOST', 'not a host', /^HOST must be an IP address or a host name/],
  ])('refuses %s=%s with one line naming it', (name, value, message) => {
    let error: unknown;
    try {
      loadLocalConfig({ [name]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LocalConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });
});
