/**
 * The CDK app: `npx cdk synth|deploy` runs it through cdk.json (`npx tsx infra/app.ts`).
 * Options come as context: `npx cdk deploy -c alarmEmail=ops@example.com -c crmWebhookUrl=...`
 * (the README's "Deploy" section lists them all).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ContextError, settingsFromContext } from './context';
import { WebhookStack } from './webhook-stack';

const app = new App();
try {
  const { stackName, env, props } = settingsFromContext((key) => app.node.tryGetContext(key), process.env);
  new WebhookStack(app, stackName, {
    ...props,
    env,
    description: 'ElevenLabs post-call webhooks → CRM and S3 (receiver, workers, reconciler, alarms)',
  });
} catch (error) {
  // A bad -c value is the deployer's to fix: one line naming the option, not a stack trace.
  if (!(error instanceof ContextError)) throw error;
  process.stderr.write(`invalid context: ${error.message}\n`);
  process.exit(1);
}

// cdk-nag's AwsSolutions pack on every synth, not only in tests: an unacknowledged error
// stops `cdk synth`/`cdk deploy` (https://github.com/cdklabs/cdk-nag#readme).
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

app.synth();
