import { CloudFormationClient, DescribeStackResourceCommand, DescribeStackResourceCommandOutput, ResourceStatus } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { checkResponseUrl, verifyEventOrigin } from '../../lambda/event-origin';
import { STACK_ID_ENV } from '../../lib/private/contract';

const cfn = mockClient(CloudFormationClient);
const STACK_ID = 'arn:aws:cloudformation:eu-west-1:111122223333:stack/Own/11111111-2222-4333-8444-555555555555';
const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/k1';
const event = (overrides: Record<string, unknown> = {}): any => ({
  RequestType: 'Delete', StackId: STACK_ID, LogicalResourceId: 'KeyImport', PhysicalResourceId: KEY_ARN, ResourceType: 'Custom::KmsKeyMaterialImport', ...overrides,
});
const detail = (overrides: Record<string, unknown> = {}): Omit<DescribeStackResourceCommandOutput, '$metadata'> => ({
  StackResourceDetail: { StackId: STACK_ID, LogicalResourceId: 'KeyImport', PhysicalResourceId: KEY_ARN, ResourceType: 'Custom::KmsKeyMaterialImport', ResourceStatus: 'DELETE_IN_PROGRESS' as ResourceStatus, LastUpdatedTimestamp: new Date(), ...overrides },
});

beforeEach(() => {
  cfn.reset();
  process.env[STACK_ID_ENV] = STACK_ID;
});
afterAll(() => { delete process.env[STACK_ID_ENV]; });

describe('checkResponseUrl', () => {
  test.each([
    ['https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/x?X-Amz-Signature=1', undefined],
    ['http://127.0.0.1/x', 'the event\'s ResponseURL is not HTTPS (http:); CloudFormation always sends a pre-signed HTTPS URL'],
    ['file:///etc/passwd', 'the event\'s ResponseURL is not HTTPS (file:); CloudFormation always sends a pre-signed HTTPS URL'],
    ['not a url', 'the event\'s ResponseURL is not a URL'],
    [undefined, 'the event has no ResponseURL'],
  ])('%p → %p', (url, problem) => {
    expect(checkResponseUrl(url)).toBe(problem);
  });
});

describe('verifyEventOrigin', () => {
  test('a Delete CloudFormation confirms (its stack, type, DELETE_IN_PROGRESS, the same physical id) passes, asking about that stack and resource', async () => {
    cfn.on(DescribeStackResourceCommand).resolves(detail());
    await verifyEventOrigin(event(), true);
    expect(cfn).toHaveReceivedCommandWith(DescribeStackResourceCommand, { StackName: STACK_ID, LogicalResourceId: 'KeyImport' });
  });

  test('an event that changes nothing is not checked with CloudFormation, but must still be for this stack', async () => {
    await verifyEventOrigin(event(), false);
    expect(cfn).not.toHaveReceivedAnyCommand();
    await expect(verifyEventOrigin(event({ StackId: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/Other/x' }), false)).rejects.toMatchObject({ code: 'UntrustedEvent' });
  });

  test('without the stack id variable nothing is trusted', async () => {
    delete process.env[STACK_ID_ENV];
    await expect(verifyEventOrigin(event(), true)).rejects.toMatchObject({ code: 'UntrustedEvent', message: expect.stringContaining(`no ${STACK_ID_ENV} environment variable`) });
  });

  test.each([
    ['a status other than the request implies', { ResourceStatus: 'CREATE_COMPLETE' }, 'its status is CREATE_COMPLETE, not DELETE_IN_PROGRESS'],
    ['another resource type', { ResourceType: 'AWS::KMS::Key' }, 'its type is AWS::KMS::Key'],
  ])('%s is refused, saying what CloudFormation reported', async (_name, overrides, problem) => {
    cfn.on(DescribeStackResourceCommand).resolves(detail(overrides));
    await expect(verifyEventOrigin(event(), true)).rejects.toMatchObject({ code: 'UntrustedEvent', message: `CloudFormation does not confirm this Delete of resource KeyImport: ${problem}; nothing was changed` });
  });

  test('a Delete of another physical id (a forged one, or the clean-up after a replacement) is refused with what to do after a replacement', async () => {
    cfn.on(DescribeStackResourceCommand).resolves(detail({ PhysicalResourceId: 'arn:aws:kms:eu-west-1:111122223333:key/k2', ResourceStatus: 'UPDATE_COMPLETE' }));
    const e = await verifyEventOrigin(event(), true).catch((err) => err);
    expect(e.message).toContain(`its physical id is arn:aws:kms:eu-west-1:111122223333:key/k2, not ${KEY_ARN}`);
    expect(e.message).toContain('the replaced key keeps its material: delete it with `aws kms delete-imported-key-material` if wanted');
  });

  test('a Create is confirmed by CREATE_IN_PROGRESS alone (no physical id yet)', async () => {
    cfn.on(DescribeStackResourceCommand).resolves(detail({ ResourceStatus: 'CREATE_IN_PROGRESS', PhysicalResourceId: undefined }));
    await expect(verifyEventOrigin(event({ RequestType: 'Create', PhysicalResourceId: undefined }), true)).resolves.toBeUndefined();
  });

  test('CloudFormation\'s own refusal (unknown resource, access denied) is an UntrustedEvent failure with its reason', async () => {
    cfn.on(DescribeStackResourceCommand).rejects(Object.assign(new Error('Resource KeyImport does not exist for stack Own'), { name: 'ValidationError' }));
    await expect(verifyEventOrigin(event(), true)).rejects.toMatchObject({ code: 'UntrustedEvent', message: `CloudFormation does not confirm resource KeyImport of stack ${STACK_ID} (ValidationError: Resource KeyImport does not exist for stack Own); nothing was changed` });
  });
});
