/**
 * Builds the stack the fast way for unit tests: bundling skipped,
 * asset staging off (the dist folders are fingerprinted in place, not copied) and the
 * built-in CloudFormation validation off. The real synth test keeps validation on.
 * The feature flags are cdk.json's, so the template is the one `cdk synth` would write.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { WebhookStack, type WebhookStackProps } from '../../infra/webhook-stack';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

// Test files share this module (vitest.config.ts: the shared project), so nothing here is per
// file: each App gets a scratch folder of its own, removed as soon as it is no longer needed.
let apps = 0;
const scratchDir = () => join(tmpdir(), `infra-test-${process.pid}-${apps++}`);

function newStack(props: WebhookStackProps, outdir: string): WebhookStack {
  const app = new App({
    outdir,
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], 'aws:cdk:disable-asset-staging': true },
    builtinCloudFormationValidation: false,
  });
  return new WebhookStack(app, 'TestWebhook', { env: { account: '123456789012', region: 'ap-southeast-2' }, ...props });
}

/** A stack to inspect (constructs, cdk-nag), never synthesized: its App's empty folder is removed at once. */
export function buildStack(props: WebhookStackProps = {}): WebhookStack {
  const outdir = scratchDir();
  const stack = newStack(props, outdir);
  rmSync(outdir, { recursive: true, force: true });
  return stack;
}

/** The synthesized template; what synth wrote is removed once it is read. */
export function templateOf(props: WebhookStackProps = {}): Template {
  const outdir = scratchDir();
  try {
    return Template.fromStack(newStack(props, outdir));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** The resources of one type, keyed by logical id. */
export function resourcesOf(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/** The logical id of the only resource of `type` whose id starts with `prefix`. */
export function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} starting with ${prefix}, found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
}

/** contract §13: the options that turn the missed-call text-back on (a fictional phone number id). */
export const TEXTING_ON: WebhookStackProps = {
  smsOriginationIdentity: 'phone-0123456789abcdef0123456789abcdef',
  smsTemplate: 'Hi {name}, Coastal Dental tried to call you about {subject}. Reply STOP to opt out.',
};
