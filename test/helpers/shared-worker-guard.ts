/**
 * Setup file of the `shared` vitest project (vitest.config.ts), whose test files share one
 * worker's modules and process: a file that leaves process.env or fake timers changed would
 * change the files after it, so it fails here instead, by name.
 */
import { afterAll, expect, vi } from 'vitest';

const environment = { ...process.env };

afterAll(() => {
  expect(vi.isFakeTimers(), 'a test left fake timers on (vi.useRealTimers() in afterEach)').toBe(false);
  expect({ ...process.env }, 'a test changed process.env: this project shares a process; use test/integration or restore it').toEqual(
    environment,
  );
});
