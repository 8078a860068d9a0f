/**
 * Integration test against a real AWS account, run with integ-runner (README, "Integration tests
 * against a real account"); `npm test` only checks that its synthesized templates match the
 * committed snapshot (test/package/integ-snapshot.test.ts).
 *
 * Two stacks that integ-runner deploys together, asserts on and destroys:
 *
 * 1. ByokIntegSymmetric: a SYMMETRIC_DEFAULT key whose material is a secret the stack creates.
 *    Secrets Manager generates it as 64 lowercase hexadecimal characters (32 random bytes), read
 *    with `KeyMaterialEncoding.HEX`, so the test needs nothing prepared in the account and the
 *    material never leaves Secrets Manager and the import handler. Asserts: DescribeKey says
 *    Enabled / EXTERNAL, and an Encrypt -> Decrypt round trip with the key succeeds (a small
 *    function granted `grantEncryptDecrypt` does it: the assertion provider can only pass text
 *    between API calls, and a ciphertext is binary).
 * 2. ByokIntegEccSign: an ECC_NIST_P256 SIGN_VERIFY key whose PKCS#8 PEM private key is in a
 *    secret you create once (Secrets Manager cannot generate a private key):
 *
 *      aws secretsmanager create-secret --name cdk-kms-byok/integ/ecc-nist-p256 \
 *        --secret-string "$(openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256)"
 *
 *    Asserts: DescribeKey Enabled / EXTERNAL, and GetPublicKey returns a P-256 signing key.
 *
 * Everything is destroyed afterwards: the keys are scheduled for deletion after the shortest
 * waiting period KMS allows (7 days).
 */
import { App, Duration, RemovalPolicies, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { Construct } from 'constructs';
import { ExternalKey, KeyMaterial, KeyMaterialEncoding, PartnerAccess } from '../lib';

/** The secret holding the ECC private key; create it once per account and region (see above). */
export const ECC_SECRET_NAME = 'cdk-kms-byok/integ/ecc-nist-p256';

/** Settings that let integ-runner clean up after itself. */
const DISPOSABLE = { removalPolicy: RemovalPolicy.DESTROY, pendingWindow: Duration.days(7) } as const;

class SymmetricKeyStack extends Stack {
  public readonly key: ExternalKey;
  public readonly roundTrip: lambda.Function;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    // 32 random bytes as hex: Secrets Manager picks each character from 0-9a-f only.
    const secret = new secretsmanager.Secret(this, 'Material', {
      description: 'cdk-kms-byok integration test: 32 random bytes of key material, hex',
      generateSecretString: {
        passwordLength: 64,
        excludePunctuation: true,
        excludeUppercase: true,
        includeSpace: false,
        excludeCharacters: 'ghijklmnopqrstuvwxyz',
      },
    });
    this.key = new ExternalKey(this, 'Key', {
      material: KeyMaterial.fromSecret(secret, { encoding: KeyMaterialEncoding.HEX }),
      description: 'cdk-kms-byok integration test (symmetric)',
      // The deploying account itself, so that KMS validates the partner statements for real.
      partners: [PartnerAccess.account(this.account)],
      ...DISPOSABLE,
    });

    this.roundTrip = new lambda.Function(this, 'RoundTrip', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      timeout: Duration.seconds(30),
      environment: { KEY_ARN: this.key.keyArn },
      logGroup: new logs.LogGroup(this, 'RoundTripLogs', { retention: logs.RetentionDays.ONE_DAY }),
      code: lambda.Code.fromInline([
        "const { KMSClient, EncryptCommand, DecryptCommand } = require('@aws-sdk/client-kms');",
        'const kms = new KMSClient({});',
        'exports.handler = async () => {',
        "  const plaintext = Buffer.from('cdk-kms-byok integration test round trip');",
        '  const encrypted = await kms.send(new EncryptCommand({ KeyId: process.env.KEY_ARN, Plaintext: plaintext }));',
        '  const decrypted = await kms.send(new DecryptCommand({ KeyId: process.env.KEY_ARN, CiphertextBlob: encrypted.CiphertextBlob }));',
        '  console.log(JSON.stringify({ encryptedBy: encrypted.KeyId, decryptedBy: decrypted.KeyId }));',
        "  return { roundTrip: Buffer.from(decrypted.Plaintext).equals(plaintext) ? 'OK' : 'MISMATCH' };",
        '};',
      ].join('\n')),
    });
    this.key.grantEncryptDecrypt(this.roundTrip);
    RemovalPolicies.of(this).destroy();
  }
}

class EccSigningKeyStack extends Stack {
  public readonly key: ExternalKey;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const secret = secretsmanager.Secret.fromSecretNameV2(this, 'Material', ECC_SECRET_NAME);
    this.key = new ExternalKey(this, 'Key', {
      material: KeyMaterial.fromSecret(secret), // PEM is the default for ECC keys
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      description: 'cdk-kms-byok integration test (ECC_NIST_P256 signing)',
      ...DISPOSABLE,
    });
    RemovalPolicies.of(this).destroy();
  }
}

const app = new App();
const symmetric = new SymmetricKeyStack(app, 'ByokIntegSymmetric');
const ecc = new EccSigningKeyStack(app, 'ByokIntegEccSign');

// One IntegTest per file (integ-tests-alpha writes one manifest): both stacks are deployed, then
// the assertions run from its assertion stack.
const integ = new IntegTest(app, 'ExternalKeyInteg', {
  testCases: [symmetric, ecc],
  diffAssets: false,
});

integ.assertions
  .awsApiCall('KMS', 'describeKey', { KeyId: symmetric.key.keyArn })
  .expect(ExpectedResult.objectLike({
    KeyMetadata: { KeyState: 'Enabled', Origin: 'EXTERNAL', KeySpec: 'SYMMETRIC_DEFAULT', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' },
  }));
integ.assertions
  .invokeFunction({ functionName: symmetric.roundTrip.functionName })
  .expect(ExpectedResult.objectLike({ Payload: Match.serializedJson({ roundTrip: 'OK' }) }));

integ.assertions
  .awsApiCall('KMS', 'describeKey', { KeyId: ecc.key.keyArn })
  .expect(ExpectedResult.objectLike({
    KeyMetadata: { KeyState: 'Enabled', Origin: 'EXTERNAL', KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' },
  }));
integ.assertions
  .awsApiCall('KMS', 'getPublicKey', { KeyId: ecc.key.keyArn })
  .expect(ExpectedResult.objectLike({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: ['ECDSA_SHA_256'] }));

app.synth();
