import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ExternalKey, KeyMaterial, OrganizationKeyStack, OrganizationMaterialSecret } from '../../lib';

const SECRET = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:byok/org-AbCdEf';
const KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

function keyStack(importRoleName = 'ByokImport'): Stack {
  const stack = new OrganizationKeyStack(new App(), 'OrgKeys', { assetBucketPrefix: 'example-byok-assets', importRoleName });
  const secret = secretsmanager.Secret.fromSecretAttributes(stack, 'M', { secretCompleteArn: SECRET, encryptionKey: kms.Key.fromKeyArn(stack, 'K', KEY) });
  new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret) });
  return stack;
}

describe('OrganizationKeyStack', () => {
  test('its template stands alone: no bootstrap parameter or rule, the handler from the organization bucket of the Region, the role named per Region', () => {
    const template = Template.fromStack(keyStack()).toJSON();
    expect(template.Parameters ?? {}).toEqual({});
    expect(template.Rules ?? {}).toEqual({});
    const fns = Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(fns).toHaveLength(1);
    expect(fns[0].Properties.Code.S3Bucket).toEqual({ 'Fn::Sub': 'example-byok-assets-${AWS::Region}' });
    const roles = Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::IAM::Role');
    expect(roles.map((r) => r.Properties.RoleName)).toEqual([{ 'Fn::Join': ['-', ['ByokImport', { Ref: 'AWS::Region' }]] }]);
    expect(JSON.stringify(template)).not.toMatch(/cdk-hnb659fds|BootstrapVersion/);
  });

  test.each(['', 'has space', 'a'.repeat(50), 'slash/name'])('refuses the import role name %p', (name) => {
    expect(() => keyStack(name)).toThrow(/importRoleName/);
  });

  test('accepts a 49-character name (64 with the longest Region)', () => {
    expect(() => keyStack('a'.repeat(49))).not.toThrow();
  });
});

describe('OrganizationMaterialSecret', () => {
  const build = (regions = ['us-east-1', 'eu-west-1']) => {
    const stack = new Stack(new App(), 'Security', { env: { account: '111122223333', region: 'us-east-1' } });
    new OrganizationMaterialSecret(stack, 'Material', { organizationId: 'o-a1b2c3d4e5', importRoleName: 'ByokImport', regions });
    return Template.fromStack(stack);
  };
  const roles = ['us-east-1', 'eu-west-1'].map((r) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::*:role/ByokImport-${r}`]] }));

  test('the secret is encrypted with its own key; its resource policy lets only the organization\'s import roles read it', () => {
    const template = build();
    const key = Object.keys(template.findResources('AWS::KMS::Key'))[0];
    template.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: { 'Fn::GetAtt': [key, 'Arn'] } });
    const policies = Object.values<any>(template.findResources('AWS::SecretsManager::ResourcePolicy'));
    expect(policies).toHaveLength(1);
    expect(policies[0].Properties.ResourcePolicy.Statement).toEqual([{
      Sid: 'OrganizationImportRolesReadTheMaterial',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: 'secretsmanager:GetSecretValue',
      Resource: '*',
      Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' }, ArnLike: { 'aws:PrincipalArn': roles } },
    }]);
  });

  test('the key lets the same roles decrypt, through Secrets Manager in its Region only', () => {
    const key = Object.values<any>(build().findResources('AWS::KMS::Key'))[0];
    const statement = key.Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'OrganizationImportRolesDecryptThroughSecretsManager');
    expect(statement).toEqual({
      Sid: 'OrganizationImportRolesDecryptThroughSecretsManager',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: {
        StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5', 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' },
        ArnLike: { 'aws:PrincipalArn': roles },
      },
    });
  });

  test('needs at least one Region', () => {
    expect(() => build([])).toThrow(/regions must name at least one Region/);
  });
});
