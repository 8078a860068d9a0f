#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { EmbeddedStack } from './embedded-stack';
import { HmacSigningStack, RsaSigningStack } from './signing-stacks';

/** The examples as one app: `npx cdk synth -a "npx ts-node examples/stacks/app.ts" -c secretArn=...`. */
const app = new App();
const materialSecretArn = app.node.tryGetContext('secretArn') ?? 'arn:aws:secretsmanager:us-east-1:111122223333:secret:byok/key-material-AbCdEf';
const partnerAccountId = app.node.tryGetContext('partnerAccountId') ?? '123456789012';
new EmbeddedStack(app, 'ByokEmbedded', { materialSecretArn, env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1' } });
new HmacSigningStack(app, 'ByokHmacSigning', { materialSecretArn, partnerAccountId });
new RsaSigningStack(app, 'ByokRsaSigning', { materialSecretArn, partnerAccountId });
