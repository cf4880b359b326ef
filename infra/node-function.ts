/**
 * A Lambda function from a folder that `npm run build` wrote (contract §9), with its own role and
 * log group. The role is ours rather than the default one so that it carries no managed
 * policy: AWSLambdaBasicExecutionRole lets a function create any log group in the account,
 * while a function with an explicit log group only needs to write streams into that group
 * (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Left out of every function's code asset (see `code` below). */
export const CODE_EXCLUDE = ['**/*.map'];

export interface NodeFunctionProps {
  /** A folder holding `index.mjs` (and its lazy chunks) that exports `handler`. */
  readonly codePath: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logRetention: RetentionDays;
  readonly reservedConcurrentExecutions?: number;
  /** The module and export Lambda calls. Default `index.handler`. */
  readonly handler?: string;
}

export class NodeFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
    super(scope, id);
    const handler = props.handler ?? 'index.handler';
    const entry = `${handler.slice(0, handler.lastIndexOf('.'))}.mjs`;
    if (!existsSync(join(props.codePath, entry))) {
      throw new Error(`${props.codePath}/${entry} does not exist: run \`npm run build\` before synthesising the stack`);
    }

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      // Logs are the audit trail of what was received; they outlive a torn-down stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (execution role)`,
    });
    // Writing log streams into its own group is all the logging the function needs.
    this.logGroup.grantWrite(this.role);

    this.function = new LambdaFunction(this, 'Function', {
      description: props.description,
      // contract §9: Node.js 24, the current Lambda runtime (nodejs22.x is deprecated in April
      // 2027); the bundle targets node24 and CI runs the bundles' tests on Node 24.
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      handler,
      // The whole folder: index.mjs loads its chunks/ lazily. Source maps are left out: no
      // stack trace is logged (describeError keeps name and message) and Node reads maps only
      // with --enable-source-maps, which we do not set; they would double the package size.
      code: Code.fromAsset(props.codePath, { exclude: [...CODE_EXCLUDE] }),
      timeout: props.timeout,
      memorySize: props.memorySize,
      role: this.role,
      logGroup: this.logGroup,
      ...(props.reservedConcurrentExecutions === undefined ? {} : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
    });
  }
}
