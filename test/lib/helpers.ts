import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

export const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:byok/material-AbCdEf';

/** A stack in a known environment with a material secret, as most tests need. */
export function stackWithSecret(env: { account?: string; region?: string } = { account: '111122223333', region: 'us-east-1' }) {
  const app = new App();
  const stack = new Stack(app, 'TestStack', { env });
  const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Secret', SECRET_ARN);
  return { app, stack, secret };
}

/** Every statement of the stack's identity policies (the handler role's). */
export function roleStatements(stack: Stack): any[] {
  return Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}
