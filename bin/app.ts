#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { PartnerKeyStack } from './partner-key-stack';

/**
 * Example app, configured by context (cdk.json or `-c name=value`):
 *   partnerAccountId  the partner's 12-digit AWS account id
 *   secretArn         full ARN of the secret holding the key material (or secretName)
 *   secretName        name of that secret in the stack's region (default byok/key-material)
 *   alias             alias for the key (default alias/partner-byok)
 *   region, account   where to deploy (default: the CLI's environment)
 */
const app = new App();
const ctx = (name: string): string | undefined => app.node.tryGetContext(name) || undefined;

new PartnerKeyStack(app, 'PartnerKeyStack', {
  env: {
    account: ctx('account') ?? process.env.CDK_DEFAULT_ACCOUNT,
    region: ctx('region') ?? process.env.CDK_DEFAULT_REGION,
  },
  partnerAccountId: ctx('partnerAccountId') ?? '123456789012',
  secretArn: ctx('secretArn'),
  secretName: ctx('secretName'),
  alias: ctx('alias') ?? 'alias/partner-byok',
});
