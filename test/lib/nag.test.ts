import { App, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ExternalKey, KeyMaterial, PartnerAccess } from '../../lib';
import { PartnerKeyStack } from '../../bin/partner-key-stack';

function violations(stack: Stack) {
  return new AwsSolutionsChecks().validateScope(stack).violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
}

describe('cdk-nag AwsSolutions', () => {
  test('a stack with keys of several specs has no unacknowledged finding', () => {
    const app = new App();
    const stack = new Stack(app, 'Nag', { env: { account: '111122223333', region: 'us-east-1' } });
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'S', 'arn:aws:secretsmanager:us-east-1:111122223333:secret:m-AbCdEf');
    new ExternalKey(stack, 'Sym', { material: KeyMaterial.fromSecret(secret), partners: [PartnerAccess.account('123456789012')] });
    new ExternalKey(stack, 'Hmac', { material: KeyMaterial.fromSecret(secret), keySpec: kms.KeySpec.HMAC_256 });
    new ExternalKey(stack, 'Rsa', { material: KeyMaterial.fromSecret(secret), keySpec: kms.KeySpec.RSA_4096, keyUsage: kms.KeyUsage.SIGN_VERIFY });
    expect(violations(stack)).toEqual([]);
  });

  test('the example app has no unacknowledged finding', () => {
    const app = new App();
    const stack = new PartnerKeyStack(app, 'Example', { partnerAccountIds: ['123456789012'], alias: 'alias/partner-byok', secretName: 'byok/key-material', env: { account: '111122223333', region: 'eu-west-1' } });
    expect(violations(stack)).toEqual([]);
  });
});
