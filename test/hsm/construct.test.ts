import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ExternalKey, HsmConnection, ImportProvider, KeyMaterial, Pkcs11KeyMaterialProps, WrappingAlgorithm } from '../../lib';

const PIN_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:hsm/pin-AbCdEf';

function setup() {
  const app = new App({ context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'TestStack', { env: { account: '111122223333', region: 'us-east-1' } });
  const pinSecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Pin', PIN_ARN);
  const layer = lambda.LayerVersion.fromLayerVersionArn(stack, 'HsmClient', 'arn:aws:lambda:us-east-1:111122223333:layer:cloudhsm-pkcs11:3');
  const base: Pkcs11KeyMaterialProps = { modulePath: '/opt/cloudhsm/lib/libcloudhsm_pkcs11.so', moduleLayer: layer, tokenLabel: 'hsm1', pinSecret, keyLabel: 'partner-aes' };
  return { stack, pinSecret, layer, base };
}

/** The files of the code asset, in the cloud assembly, of the function under the construct `prefix`. */
function assetFiles(stack: Stack, prefix: string): string[] {
  const assembly = App.of(stack)!.synth();
  const template = assembly.getStackByName(stack.stackName).template;
  const [fn] = Object.entries(template.Resources).filter(([id, r]: [string, any]) => id.startsWith(prefix) && r.Type === 'AWS::Lambda::Function').map(([, r]) => r as any);
  return fs.readdirSync(path.join(assembly.directory, fn.Metadata['aws:asset:path']));
}

describe('KeyMaterial.fromPkcs11', () => {
  test('the custom resource carries references only (library path, token, key, PIN secret ARN), never a PIN', () => {
    const { stack, base } = setup();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromPkcs11({ ...base, keyId: '01A2', pinJsonField: 'pin' }), wrappingAlgorithm: WrappingAlgorithm.RSAES_OAEP_SHA_1 });
    Template.fromStack(stack).hasResourceProperties('Custom::KmsKeyMaterialImport', {
      WrappingAlgorithm: 'RSAES_OAEP_SHA_1',
      Material: {
        Type: 'Pkcs11',
        ModulePath: '/opt/cloudhsm/lib/libcloudhsm_pkcs11.so',
        TokenLabel: 'hsm1',
        PinSecretArn: PIN_ARN,
        PinJsonField: 'pin',
        KeyLabel: 'partner-aes',
        KeyId: '01a2',
      },
    });
  });

  test('the handler may read exactly the PIN secret, and nothing else of Secrets Manager', () => {
    const { stack, base } = setup();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromPkcs11(base) });
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .filter((s: any) => JSON.stringify(s.Action).includes('secretsmanager'));
    expect(statements).toEqual([{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: PIN_ARN }]);
  });

  test('a PIN secret of a stack in another region, without a usable ARN, is refused as a material secret is', () => {
    const { base } = setup();
    const app = new App();
    const secrets = new Stack(app, 'Secrets', { env: { account: '111122223333', region: 'us-east-1' } });
    const keys = new Stack(app, 'Keys', { env: { account: '111122223333', region: 'eu-west-1' } });
    const pinSecret = new secretsmanager.Secret(secrets, 'Pin');
    expect(() => new ExternalKey(keys, 'Key', { material: KeyMaterial.fromPkcs11({ ...base, pinSecret }) }))
      .toThrow(/\[MaterialSource\] secret Secrets\/Pin is in stack Secrets \(us-east-1, 111122223333\) and has no usable ARN in stack Keys \(eu-west-1, 111122223333\)/);
  });

  test('a PIN secret encrypted with a customer managed key adds kms:Decrypt on that key', () => {
    const { stack, base } = setup();
    const pinSecret = new secretsmanager.Secret(stack, 'OwnPin', { encryptionKey: new kms.Key(stack, 'PinKey') });
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromPkcs11({ ...base, pinSecret }) });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'kms:Decrypt', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('PinKey'), 'Arn'] } })]) },
    });
  });

  test('an HSM key gets its own handler with the PKCS#11 bindings; the stack\'s Secrets Manager keys keep the one without native code', () => {
    const { stack, base } = setup();
    new ExternalKey(stack, 'Hsm', { material: KeyMaterial.fromPkcs11(base) });
    new ExternalKey(stack, 'Plain', { material: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, 'S', 'arn:aws:secretsmanager:us-east-1:111122223333:secret:m-AbCdEf')) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 2);
    expect(assetFiles(stack, 'CdkKmsByokHsmImportProvider').some((f) => f.endsWith('.node'))).toBe(true);
    expect(assetFiles(stack, 'CdkKmsByokImportProvider')).toEqual(['index.js']);
    // Each import runs on its provider's function.
    const serviceTokens = Object.entries(template.findResources(ExternalKey.IMPORT_RESOURCE_TYPE)).map(([id, r]: [string, any]) => [id.replace(/Import.*$/, ''), r.Properties.ServiceToken['Fn::GetAtt'][0]]);
    expect(serviceTokens).toEqual([['Hsm', expect.stringMatching(/^CdkKmsByokHsmImportProviderHandler/)], ['Plain', expect.stringMatching(/^CdkKmsByokImportProviderHandler/)]]);
  });

  test('the layer is added once to the HSM handler, however many keys name it', () => {
    const { stack, base } = setup();
    new ExternalKey(stack, 'A', { material: KeyMaterial.fromPkcs11(base) });
    new ExternalKey(stack, 'B', { material: KeyMaterial.fromPkcs11({ ...base, keyLabel: 'other' }) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', { Layers: ['arn:aws:lambda:us-east-1:111122223333:layer:cloudhsm-pkcs11:3'] });
  });

  test('with an HSM connection in a VPC the provider\'s handler runs in its private subnets with the given security groups, and may manage its ENIs', () => {
    const { stack, base } = setup();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    const sg = new ec2.SecurityGroup(stack, 'HandlerSg', { vpc });
    const importProvider = new ImportProvider(stack, 'HsmImport', { hsm: HsmConnection.inVpc(vpc, { securityGroups: [sg] }) });
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromPkcs11(base), importProvider });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: {
        SubnetIds: [{ Ref: Match.stringLikeRegexp('VpcPrivateSubnet1') }, { Ref: Match.stringLikeRegexp('VpcPrivateSubnet2') }],
        SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('HandlerSg'), 'GroupId'] }],
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['ec2:CreateNetworkInterface']), Resource: '*' })]) },
    });
    // Lambda checks the ENI permissions when the function is created: the policy must exist first.
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function')) as any[];
    const [policyId] = Object.entries(template.findResources('AWS::IAM::Policy')).find(([, p]: any) => JSON.stringify(p).includes('ec2:CreateNetworkInterface'))!;
    expect(fn.DependsOn).toContain(policyId);
    expect(assetFiles(stack, 'HsmImport').some((f) => f.endsWith('.node'))).toBe(true);
  });

  test('the chosen subnets are the ones the handler runs in', () => {
    const { stack, base } = setup();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    const sg = new ec2.SecurityGroup(stack, 'HandlerSg', { vpc });
    const importProvider = new ImportProvider(stack, 'HsmImport', { hsm: HsmConnection.inVpc(vpc, { securityGroups: [sg], vpcSubnets: { availabilityZones: [vpc.availabilityZones[1]] } }) });
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromPkcs11(base), importProvider });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: [{ Ref: Match.stringLikeRegexp('VpcPrivateSubnet2') }] },
    });
  });

  test('an HSM connection in a VPC without security groups is refused', () => {
    const { stack } = setup();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1 });
    expect(() => HsmConnection.inVpc(vpc, { securityGroups: [] }))
      .toThrow('[InvalidProperty] HsmConnection.inVpc needs at least one security group');
  });

  test('an HSM key refuses a provider without an HSM connection, which has no PKCS#11 bindings', () => {
    const { stack, base } = setup();
    const importProvider = new ImportProvider(stack, 'Plain');
    expect(() => new ExternalKey(stack, 'Key', { material: KeyMaterial.fromPkcs11(base), importProvider }))
      .toThrow(/\[InvalidProperty\] KeyMaterial.fromPkcs11 needs an import provider with an HSM connection; TestStack\/Plain has none \(set its hsm property\) \(at TestStack\/Key\)/);
  });

  test.each([
    [{ modulePath: 'libsofthsm2.so' }, "modulePath 'libsofthsm2.so' is not an absolute path"],
    [{ tokenLabel: 'x'.repeat(33) }, 'is not a PKCS#11 token label (1 to 32 bytes, no trailing blanks)'],
    [{ keyLabel: undefined }, 'KeyMaterial.fromPkcs11 needs keyLabel or keyId'],
    [{ keyId: '0x1' }, "keyId '0x1' is not hexadecimal bytes (CKA_ID)"],
  ])('bad properties are refused with a message naming them: %j', (override, message) => {
    const { base } = setup();
    expect(() => KeyMaterial.fromPkcs11({ ...base, ...override } as Pkcs11KeyMaterialProps)).toThrow(message);
  });
});
