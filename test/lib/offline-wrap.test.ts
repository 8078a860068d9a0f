import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ExternalKey, KeyMaterial } from '../../lib';
import { roleStatements, stackWithSecret } from './helpers';

const PARAMS = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:params-AbCdEf';
const WRAPPED = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:wrapped-AbCdEf';
const CMK_ARN = 'arn:aws:kms:us-east-1:111122223333:key/secret-cmk';

describe('KeyMaterial.fromOfflineWrap', () => {
  test('phase 1 names only the parameters secret, which the handler may read and write', () => {
    const { stack } = stackWithSecret();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromOfflineWrap({ parametersSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'P', PARAMS) }) });
    const t = Template.fromStack(stack);
    t.hasResourceProperties(ExternalKey.IMPORT_RESOURCE_TYPE, { Material: { Type: 'OfflineWrap', ParametersSecretArn: PARAMS } });
    t.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([{ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'], Effect: 'Allow', Resource: PARAMS }]) } });
  });

  test('phase 2 adds the wrapped material secret, read only, and its pinned version', () => {
    const { stack } = stackWithSecret();
    new ExternalKey(stack, 'Key', {
      material: KeyMaterial.fromOfflineWrap({
        parametersSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'P', PARAMS),
        wrappedMaterial: secretsmanager.Secret.fromSecretCompleteArn(stack, 'W', WRAPPED),
        wrappedMaterialVersionId: 'v2', parametersGeneration: 3,
      }),
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties(ExternalKey.IMPORT_RESOURCE_TYPE, { Material: { Type: 'OfflineWrap', ParametersSecretArn: PARAMS, WrappedSecretArn: WRAPPED, WrappedVersionId: 'v2', ParametersGeneration: '3' } });
    const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements.filter((s: any) => s.Resource === WRAPPED)).toEqual([{ Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: WRAPPED, Condition: { StringEquals: { 'secretsmanager:VersionId': 'v2' } } }]);
  });

  test('encrypted parameters and wrapped secrets let the handler use each secret\'s key, for reading and writing', () => {
    const { stack } = stackWithSecret();
    const params = secretsmanager.Secret.fromSecretAttributes(stack, 'P', { secretCompleteArn: PARAMS, encryptionKey: kms.Key.fromKeyArn(stack, 'PK', `${CMK_ARN}-p`) });
    const wrapped = secretsmanager.Secret.fromSecretAttributes(stack, 'W', { secretCompleteArn: WRAPPED, encryptionKey: kms.Key.fromKeyArn(stack, 'WK', `${CMK_ARN}-w`) });
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromOfflineWrap({ parametersSecret: params, wrappedMaterial: wrapped }) });
    const kmsStatements = roleStatements(stack).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('kms:')));
    expect(kmsStatements).toEqual([
      { Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], Effect: 'Allow', Resource: `${CMK_ARN}-p` },
      { Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], Effect: 'Allow', Resource: `${CMK_ARN}-w` },
    ]);
  });

  test('secrets without a customer managed key add no KMS permission', () => {
    const { stack } = stackWithSecret();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromOfflineWrap({ parametersSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'P', PARAMS) }) });
    expect(roleStatements(stack).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('kms:')))).toEqual([]);
  });
});
