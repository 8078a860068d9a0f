import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ExternalKey, KeyMaterial, Pkcs11KeyMaterialProps, WrappingAlgorithm } from '../../lib';

const PIN_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:hsm/pin-AbCdEf';

function setup() {
  const app = new App();
  const stack = new Stack(app, 'TestStack', { env: { account: '111122223333', region: 'us-east-1' } });
  const pinSecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Pin', PIN_ARN);
  const layer = lambda.LayerVersion.fromLayerVersionArn(stack, 'HsmClient', 'arn:aws:lambda:us-east-1:111122223333:layer:cloudhsm-pkcs11:3');
  const base: Pkcs11KeyMaterialProps = { modulePath: '/opt/cloudhsm/lib/libcloudhsm_pkcs11.so', moduleLayer: layer, tokenLabel: 'hsm1', pinSecret, keyLabel: 'partner-aes' };
  return { stack, pinSecret, layer, base };
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

  test('the layer is added once to the stack\'s one handler, however many keys name it', () => {
    const { stack, base } = setup();
    new ExternalKey(stack, 'A', { material: KeyMaterial.fromPkcs11(base) });
    new ExternalKey(stack, 'B', { material: KeyMaterial.fromPkcs11({ ...base, keyLabel: 'other' }) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', { Layers: ['arn:aws:lambda:us-east-1:111122223333:layer:cloudhsm-pkcs11:3'] });
  });

  test('with a VPC the handler runs in its private subnets with the given security groups, and may manage its ENIs', () => {
    const { stack, base } = setup();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    const sg = new ec2.SecurityGroup(stack, 'HandlerSg', { vpc });
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromPkcs11({ ...base, vpc, securityGroups: [sg] }) });
    const template = Template.fromStack(stack);
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
  });

  test('two keys naming different VPCs are refused: the stack has one handler', () => {
    const { stack, base } = setup();
    const vpc1 = new ec2.Vpc(stack, 'Vpc1', { maxAzs: 1 });
    const vpc2 = new ec2.Vpc(stack, 'Vpc2', { maxAzs: 1 });
    new ExternalKey(stack, 'A', { material: KeyMaterial.fromPkcs11({ ...base, vpc: vpc1, securityGroups: [new ec2.SecurityGroup(stack, 'Sg1', { vpc: vpc1 })] }) });
    expect(() => new ExternalKey(stack, 'B', { material: KeyMaterial.fromPkcs11({ ...base, vpc: vpc2, securityGroups: [new ec2.SecurityGroup(stack, 'Sg2', { vpc: vpc2 })] }) }))
      .toThrow(/\[InvalidProperty\] every KeyMaterial.fromPkcs11 in a stack must name the same vpc and securityGroups: the stack has one import handler \(at TestStack\/B\)/);
  });

  test.each([
    [{ modulePath: 'libsofthsm2.so' }, "modulePath 'libsofthsm2.so' is not an absolute path"],
    [{ tokenLabel: 'x'.repeat(33) }, 'is not a PKCS#11 token label (1 to 32 bytes, no trailing blanks)'],
    [{ keyLabel: undefined }, 'KeyMaterial.fromPkcs11 needs keyLabel or keyId'],
    [{ keyId: '0x1' }, "keyId '0x1' is not hexadecimal bytes (CKA_ID)"],
    [{ securityGroups: [] }, 'vpcSubnets and securityGroups need vpc'],
  ])('bad properties are refused with a message naming them: %j', (override, message) => {
    const { base } = setup();
    expect(() => KeyMaterial.fromPkcs11({ ...base, ...override } as Pkcs11KeyMaterialProps)).toThrow(message);
  });

  test('a VPC without security groups is refused', () => {
    const { stack, base } = setup();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1 });
    expect(() => KeyMaterial.fromPkcs11({ ...base, vpc })).toThrow('securityGroups is required with vpc');
  });
});
