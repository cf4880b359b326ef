/**
 * Setup file for every test file (vitest.config.ts). Test files share worker processes
 * (`isolate: false`): a fresh process per file cost ~1 s of CPU each, mostly loading the same
 * packages again (the AWS SDK, s3rver, dynalite, aws-cdk-lib). What a fresh process gave is
 * restored here instead, per file:
 * - our own modules (lambda/, support/, scripts/, infra/) are evaluated afresh, so module-scope
 *   state — the SDK clients a Lambda container keeps, caches — starts empty as in a new
 *   container; packages in node_modules stay loaded;
 * - process.env is put back as it was before the file (the fault tests point the SDK at
 *   stand-ins through it);
 * - a file that leaves fake timers on fails, by name.
 */
import { afterAll, expect, vi } from 'vitest';

vi.resetModules();
const environment = { ...process.env };

afterAll(() => {
  for (const name of Object.keys(process.env)) if (!(name in environment)) delete process.env[name];
  Object.assign(process.env, environment);
  const fakeTimers = vi.isFakeTimers();
  vi.useRealTimers();
  expect(fakeTimers, 'a test left fake timers on (call vi.useRealTimers() in afterEach)').toBe(false);
});
