import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ExternalKey, IMPORT_RESOURCE_TYPE, KeyMaterial } from '../../lib';
import { stackWithSecret } from './helpers';

const PARAMS = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:params-AbCdEf';
const WRAPPED = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:wrapped-AbCdEf';

describe('KeyMaterial.fromOfflineWrap', () => {
  test('phase 1 names only the parameters secret, which the handler may read and write', () => {
    const { stack } = stackWithSecret();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromOfflineWrap({ parametersSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'P', PARAMS) }) });
    const t = Template.fromStack(stack);
    t.hasResourceProperties(IMPORT_RESOURCE_TYPE, { Material: { Type: 'OfflineWrap', ParametersSecretArn: PARAMS } });
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
    t.hasResourceProperties(IMPORT_RESOURCE_TYPE, { Material: { Type: 'OfflineWrap', ParametersSecretArn: PARAMS, WrappedSecretArn: WRAPPED, WrappedVersionId: 'v2', ParametersGeneration: '3' } });
    const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements.filter((s: any) => s.Resource === WRAPPED)).toEqual([{ Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: WRAPPED, Condition: { StringEquals: { 'secretsmanager:VersionId': 'v2' } } }]);
  });
});
