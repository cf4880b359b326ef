import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Test files share worker processes instead of one fresh process each (about half the
    // suite's CPU); test/helpers/shared-worker.ts gives each file fresh modules of our own and
    // its own process.env.
    isolate: false,
    setupFiles: ['test/helpers/shared-worker.ts'],
    // Bundles the CLIs the tests run as child processes (plain node, no tsx): test/helpers/cli-bundles.ts.
    globalSetup: ['test/helpers/cli-bundles.ts'],
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
    coverage: {
      provider: 'v8',
      // The deployed code. The three entry files only call create*(process.env); the bundles
      // they become run in child processes (test/integration/bundle.test.ts), which v8
      // coverage of this process cannot see.
      include: ['lambda/**/*.ts'],
      exclude: [
        'lambda/receiver.ts',
        'lambda/retry-worker.ts',
        'lambda/audio-worker.ts',
        'lambda/sms-worker.ts',
        'lambda/layer-builder.ts',
      ],
      reporter: ['text-summary', 'json-summary'],
      thresholds: { lines: 90, branches: 90 },
    },
  },
});
