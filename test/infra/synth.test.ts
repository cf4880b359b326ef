/**
 * The real thing, once: `npx cdk synth` through cdk.json, with CloudFormation validation and
 * the cdk-nag plugin on (an unacknowledged finding makes it exit non-zero), offline.
 * It needs dist/ (`npm test` runs `npm run build` first).
 *
 * Offline means: no credentials or AWS config for the CLI to use (so it never calls STS to
 * find the account), no instance metadata, no version check, notices or telemetry, and every
 * HTTP(S) request routed to a closed port on 127.0.0.1 so a stray call fails here instead of
 * reaching the internet.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_STACK_NAME } from '../../infra/context';
import { REPO_ROOT } from './stack-fixture';

const run = promisify(execFile);
const workdir = mkdtempSync(join(tmpdir(), 'cdk-synth-test-'));
afterAll(() => rmSync(workdir, { recursive: true, force: true }));

function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
    'AWS_DEFAULT_PROFILE',
    'CDK_DEPLOY_REGION',
    'NO_PROXY',
    'no_proxy',
  ]) {
    delete env[name];
  }
  return {
    ...env,
    AWS_CONFIG_FILE: join(workdir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(workdir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    // A profile region the app must not follow: the stack's region is ap-southeast-2.
    AWS_REGION: 'us-east-1',
    CDK_DISABLE_VERSION_CHECK: '1',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    HTTPS_PROXY: 'http://127.0.0.1:9',
    HTTP_PROXY: 'http://127.0.0.1:9',
    npm_config_update_notifier: 'false',
  };
}

describe('npx cdk synth', () => {
  it('synthesises the stack offline with the route, the context options and the region', async () => {
    const outdir = join(workdir, 'cdk.out');
    await run(
      'npx',
      [
        '--no',
        'cdk',
        'synth',
        '--no-notices',
        '--quiet',
        '--output',
        outdir,
        '-c',
        'alarmEmail=ops@example.com',
        '-c',
        'audioRetentionDays=60',
        '-c',
        'noTrafficHours=12',
      ],
      { cwd: REPO_ROOT, env: offlineEnv(), timeout: 110_000, maxBuffer: 16 * 1024 * 1024 },
    );

    const templatePath = join(outdir, `${DEFAULT_STACK_NAME}.template.json`);
    expect(existsSync(templatePath)).toBe(true);
    const template = JSON.parse(readFileSync(templatePath, 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
      Outputs: Record<string, { Value: unknown }>;
    };
    const resources = Object.values(template.Resources);
    expect(resources.filter((r) => r.Type === 'AWS::ApiGatewayV2::Route').map((r) => r.Properties.RouteKey)).toEqual([
      'POST /webhooks/elevenlabs',
    ]);
    expect(resources.find((r) => r.Type === 'AWS::SNS::Subscription')?.Properties).toMatchObject({
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    expect(JSON.stringify(template.Outputs.WebhookUrl!.Value)).toContain('.execute-api.ap-southeast-2.');
    // -c noTrafficHours=12 turns the no-traffic alarm on, with a 12-hour period.
    expect(
      resources.find((r) => r.Type === 'AWS::CloudWatch::Alarm' && String(r.Properties.AlarmName).endsWith('-NoTraffic'))?.Properties,
    ).toMatchObject({
      Period: 12 * 3600,
      TreatMissingData: 'breaching',
    });

    // The four Lambdas' code (receiver, retry worker, audio worker, reconciler) staged from dist/, without source maps.
    const assets = JSON.parse(readFileSync(join(outdir, `${DEFAULT_STACK_NAME}.assets.json`), 'utf8')) as {
      files: Record<string, { source: { path: string; packaging: string } }>;
    };
    const zips = Object.values(assets.files).filter((f) => f.source.packaging === 'zip');
    expect(zips).toHaveLength(4);
    for (const zip of zips) {
      expect(existsSync(join(outdir, zip.source.path, 'index.mjs'))).toBe(true);
      expect(existsSync(join(outdir, zip.source.path, 'index.mjs.map'))).toBe(false);
    }
  }, 120_000);
});
