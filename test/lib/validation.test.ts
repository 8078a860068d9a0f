import { Duration } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ExternalKey, ExternalKeyProps, KeyMaterial, KeyMaterialExpiration, WrappingAlgorithm, WrappingKeySpec } from '../../lib';
import { stackWithSecret } from './helpers';

function build(props: Omit<ExternalKeyProps, 'material'>, env?: { account?: string; region?: string }) {
  const { stack, secret } = stackWithSecret(env);
  return () => new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), ...props });
}

describe('synth-time validation', () => {
  test('automatic key rotation is refused on an EXTERNAL key', () => {
    expect(build({ enableKeyRotation: true })).toThrow(/\[RotationNotAllowed\] enableKeyRotation cannot be true/);
  });

  test('a key spec that cannot be imported is refused with the reason', () => {
    expect(build({ keySpec: kms.KeySpec.ML_DSA_65, keyUsage: kms.KeyUsage.SIGN_VERIFY })).toThrow(/\[KeySpecNotImportable\] key spec 'ML_DSA_65' cannot have imported key material: KMS cannot import ML-DSA/);
  });

  test('a key usage the key spec does not allow is refused', () => {
    expect(build({ keySpec: kms.KeySpec.HMAC_256, keyUsage: kms.KeyUsage.ENCRYPT_DECRYPT })).toThrow(/\[KeySpecUsage\] key spec 'HMAC_256' is not valid with usage 'ENCRYPT_DECRYPT'; use GENERATE_VERIFY_MAC/);
  });

  test('RSA material with an RSAES_OAEP wrapping algorithm is refused', () => {
    expect(build({ keySpec: kms.KeySpec.RSA_2048, wrappingAlgorithm: WrappingAlgorithm.RSAES_OAEP_SHA_256 })).toThrow(/\[WrappingCombination\] key spec 'RSA_2048' needs an RSA_AES_KEY_WRAP_\* wrapping algorithm/);
  });

  test('ECC_NIST_P521 with RSAES_OAEP under an RSA_2048 wrapping key is refused', () => {
    expect(build({ keySpec: kms.KeySpec.ECC_NIST_P521, wrappingAlgorithm: WrappingAlgorithm.RSAES_OAEP_SHA_1, wrappingKeySpec: WrappingKeySpec.RSA_2048 }))
      .toThrow(/\[WrappingCombination\] key spec 'ECC_NIST_P521' cannot be wrapped with 'RSAES_OAEP_SHA_1' under an RSA_2048 wrapping key/);
  });

  test('RSA_AES_KEY_WRAP in the China partition is refused', () => {
    expect(build({ wrappingAlgorithm: WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_256 }, { account: '111122223333', region: 'cn-north-1' }))
      .toThrow(/\[WrappingCombination\] wrapping algorithm 'RSA_AES_KEY_WRAP_SHA_256' is not available in the China partition/);
  });

  test('SM2 outside the China partition is refused', () => {
    expect(build({ keySpec: kms.KeySpec.SM2, keyUsage: kms.KeyUsage.SIGN_VERIFY })).toThrow(/\[KeySpecNotImportable\] key spec 'SM2' is only available in the China partition/);
  });

  test('a region that is not an AWS region name is refused', () => {
    expect(build({}, { account: '111122223333', region: 'moon-base-1x' })).toThrow(/\[Region\] region 'moon-base-1x' is not an AWS region name/);
  });

  test.each([6, 31])('a pending window of %p days is refused', (days) => {
    expect(build({ pendingWindow: Duration.days(days) })).toThrow(/\[PendingWindow\] pendingWindow of \d+ days is not valid: KMS accepts 7 to 30 days/);
  });

  test('an expiry more than 365 days after import is refused', () => {
    expect(build({ expiration: KeyMaterialExpiration.after(Duration.days(366)) })).toThrow(/\[Expiration\] expiration after 366 days is not valid/);
  });

  // An expiry date in the past or more than 365 days away only warns at synth (a synth must not
  // depend on the date): test/lib/hardening.test.ts; the import refuses it (test/e2e/hardening.test.ts).

  test('a secret of a stack in another region, without a usable ARN, is refused with what to do', () => {
    const app = new (require('aws-cdk-lib').App)();
    const { Stack } = require('aws-cdk-lib');
    const secrets = new Stack(app, 'Secrets', { env: { account: '111122223333', region: 'us-east-1' } });
    const keys = new Stack(app, 'Keys', { env: { account: '111122223333', region: 'eu-west-1' } });
    const secret = new (require('aws-cdk-lib/aws-secretsmanager').Secret)(secrets, 'Material');
    expect(() => new ExternalKey(keys, 'Key', { material: KeyMaterial.fromSecret(secret) }))
      .toThrow(/\[MaterialSource\] secret Secrets\/Material is in stack Secrets \(us-east-1, 111122223333\) and has no usable ARN in stack Keys \(eu-west-1, 111122223333\); .* pass its full ARN with Secret.fromSecretCompleteArn/);
  });

  test('a secret of another stack in the same account and region is referenced through an export', () => {
    const app = new (require('aws-cdk-lib').App)();
    const { Stack } = require('aws-cdk-lib');
    const env = { account: '111122223333', region: 'us-east-1' };
    const secrets = new Stack(app, 'Secrets', { env });
    const keys = new Stack(app, 'Keys', { env });
    const secret = new (require('aws-cdk-lib/aws-secretsmanager').Secret)(secrets, 'Material');
    expect(() => new ExternalKey(keys, 'Key', { material: KeyMaterial.fromSecret(secret) })).not.toThrow();
  });

  test('partition rules are left to the handler when the region is not known at synth time', () => {
    expect(build({ wrappingAlgorithm: WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_256 }, {})).not.toThrow();
  });

  test('an invalid date is refused at synth time', () => {
    const { stack, secret } = stackWithSecret();
    expect(() => new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), expiration: KeyMaterialExpiration.at(new Date('not a date')) }))
      .toThrow('[Expiration] expiration date is not a valid date (at TestStack/Key)');
  });

  test('a key spec KMS does not know is refused as not importable', () => {
    const { stack, secret } = stackWithSecret();
    expect(() => new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), keySpec: 'AES_512' as kms.KeySpec }))
      .toThrow(/^\[KeySpecNotImportable\] key spec 'AES_512' is not a KMS key spec that supports imported key material/);
  });
});
