#!/usr/bin/env node
/**
 * The sample consumer app: `npx cdk synth -c materialSecretArn=arn:aws:secretsmanager:...`
 * (cdk.json runs it with ts-node). test/testing-kit/consumer-app.test.ts deploys it offline.
 */
import { App } from 'aws-cdk-lib';
import { ConsumerStack } from './consumer-stack';

const app = new App();
new ConsumerStack(app, 'Consumer', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  materialSecretArn: app.node.tryGetContext('materialSecretArn') ?? 'arn:aws:secretsmanager:us-east-1:111122223333:secret:byok/key-material-AbCdEf',
});
