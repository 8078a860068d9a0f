import { App, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

export const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:byok/material-AbCdEf';

/** A stack in a known environment with a material secret, as most tests need. */
export function stackWithSecret(env: { account?: string; region?: string } = { account: '111122223333', region: 'us-east-1' }) {
  const app = new App();
  const stack = new Stack(app, 'TestStack', { env });
  const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Secret', SECRET_ARN);
  return { app, stack, secret };
}
