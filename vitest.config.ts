import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Two cores here: a couple of workers keeps the local servers responsive.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // Tests talk only to 127.0.0.1; nothing may fall back to real AWS credentials or regions.
      AWS_REGION: 'ap-southeast-2',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    projects: [
      {
        // Pure tests and CDK assertions share a worker's modules (no fresh process per file):
        // loading vitest, zod and aws-cdk-lib once per worker instead of once per file halves
        // their CPU. test/helpers/shared-worker-guard.ts fails a file that leaves process.env or
        // fake timers changed; a test that needs either, or module state, goes in integration/faults.
        extends: true,
        test: {
          name: 'shared',
          include: ['test/unit/**/*.test.ts', 'test/infra/**/*.test.ts'],
          isolate: false,
          setupFiles: ['test/helpers/shared-worker-guard.ts'],
        },
      },
      {
        // A fresh process per file: these set AWS endpoints in process.env and the adapters keep
        // their SDK clients at module scope, as a Lambda container does. The CLIs they run as
        // child processes are bundled first (plain node, no tsx): test/helpers/cli-bundles.ts.
        extends: true,
        test: {
          name: 'isolated',
          include: ['test/integration/**/*.test.ts', 'test/faults/**/*.test.ts'],
          globalSetup: ['test/helpers/cli-bundles.ts'],
        },
      },
    ],
    coverage: {
      provider: 'v8',
      // The deployed code. The three entry files only call create*(process.env); the bundles
      // they become run in child processes (test/integration/bundle.test.ts), which v8
      // coverage of this process cannot see.
      include: ['lambda/**/*.ts'],
      exclude: ['lambda/receiver.ts', 'lambda/retry-worker.ts', 'lambda/audio-worker.ts'],
      reporter: ['text-summary', 'json-summary'],
      thresholds: { lines: 90, branches: 90 },
    },
  },
});
