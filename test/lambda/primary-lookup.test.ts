import { DescribeKeyCommand, KMSClient, NotFoundException } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { PrimaryLookupProperties } from '../../lib/private/contract';
import { ImportError } from '../../lambda/errors';
import { lookUpPrimary } from '../../lambda/primary-lookup';

const kms = mockClient(KMSClient);
const PRIMARY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab';

const props = (overrides: Partial<PrimaryLookupProperties> = {}): PrimaryLookupProperties => ({
  ServiceToken: 'arn:aws:lambda:eu-west-1:111122223333:function:f',
  PrimaryRegion: 'us-east-1', AliasName: 'alias/bluescape', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT',
  ...overrides,
});

const primary = (overrides: Record<string, unknown> = {}) => ({
  KeyMetadata: {
    KeyId: 'mrk-1234abcd12ab34cd56ef1234567890ab', Arn: PRIMARY_ARN, MultiRegion: true,
    MultiRegionConfiguration: { MultiRegionKeyType: 'PRIMARY' as const }, Origin: 'EXTERNAL' as const,
    KeySpec: 'SYMMETRIC_DEFAULT' as const, KeyUsage: 'ENCRYPT_DECRYPT' as const,
    ...overrides,
  },
});

async function failure(p: PrimaryLookupProperties = props()): Promise<ImportError> {
  const e = await lookUpPrimary(p).then(() => undefined, (err) => err);
  expect(e).toBeInstanceOf(ImportError);
  return e as ImportError;
}

beforeEach(() => kms.reset());

describe('lookUpPrimary', () => {
  test('a multi-Region EXTERNAL primary with the declared spec and usage answers with its ARN as id and Arn attribute', async () => {
    kms.on(DescribeKeyCommand).resolves(primary());
    await expect(lookUpPrimary(props())).resolves.toEqual({ physicalResourceId: PRIMARY_ARN, data: { Arn: PRIMARY_ARN } });
    expect(kms).toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: 'alias/bluescape' });
  });

  test('the lookup asks KMS in the primary\'s region, not the handler\'s', async () => {
    kms.on(DescribeKeyCommand).resolves(primary());
    await lookUpPrimary(props());
    const client = kms.commandCalls(DescribeKeyCommand)[0].thisValue as KMSClient;
    await expect(client.config.region()).resolves.toBe('us-east-1');
  });

  test('an alias that does not exist is a KeyState error that says to deploy the primary first', async () => {
    kms.on(DescribeKeyCommand).rejects(new NotFoundException({ message: 'Alias alias/bluescape is not found.', $metadata: {} }));
    const e = await failure();
    expect(e.code).toBe('KeyState');
    expect(e.message).toBe('primary key alias/bluescape in us-east-1 was not found; deploy the primary key\'s stack first (replicaStack.addStackDependency(primaryStack))');
  });

  test('any other DescribeKey error is an AwsError naming the error and the primary', async () => {
    kms.on(DescribeKeyCommand).rejects(Object.assign(new Error('not authorized to perform kms:DescribeKey'), { name: 'AccessDeniedException' }));
    const e = await failure();
    expect(e.code).toBe('AwsError');
    expect(e.message).toBe('AccessDeniedException looking up primary key alias/bluescape in us-east-1: not authorized to perform kms:DescribeKey');
  });

  test('a single-Region key is refused as not a multi-Region primary', async () => {
    kms.on(DescribeKeyCommand).resolves(primary({ MultiRegion: false, MultiRegionConfiguration: undefined }));
    const e = await failure();
    expect(e.code).toBe('InvalidProperty');
    expect(e.message).toBe(`primary key alias/bluescape in us-east-1 (${PRIMARY_ARN}) is not a multi-Region primary key; create it with multiRegion: true`);
  });

  test('a multi-Region replica named by the alias is refused as not a primary', async () => {
    kms.on(DescribeKeyCommand).resolves(primary({ MultiRegionConfiguration: { MultiRegionKeyType: 'REPLICA' } }));
    await expect(failure()).resolves.toMatchObject({ code: 'InvalidProperty', message: expect.stringMatching(/is not a multi-Region primary key/) });
  });

  test('an answer without key metadata is refused as not a multi-Region primary', async () => {
    kms.on(DescribeKeyCommand).resolves({});
    await expect(failure()).resolves.toMatchObject({ code: 'InvalidProperty', message: 'primary key alias/bluescape in us-east-1 (undefined) is not a multi-Region primary key; create it with multiRegion: true' });
  });

  test('a primary whose material KMS generated (origin AWS_KMS) is refused with its origin', async () => {
    kms.on(DescribeKeyCommand).resolves(primary({ Origin: 'AWS_KMS' }));
    const e = await failure();
    expect(e.code).toBe('InvalidProperty');
    expect(e.message).toBe(`primary key alias/bluescape in us-east-1 (${PRIMARY_ARN}) has origin AWS_KMS, not EXTERNAL`);
  });

  test('a primary with another key spec is a KeySpecUsage error naming both', async () => {
    kms.on(DescribeKeyCommand).resolves(primary({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }));
    const e = await failure();
    expect(e.code).toBe('KeySpecUsage');
    expect(e.message).toBe('primary key alias/bluescape in us-east-1 is HMAC_256/GENERATE_VERIFY_MAC but the replica was declared SYMMETRIC_DEFAULT/ENCRYPT_DECRYPT; declare the replica with the primary\'s keySpec and keyUsage');
  });

  test('a primary with the same spec but another usage is refused too', async () => {
    kms.on(DescribeKeyCommand).resolves(primary({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }));
    const e = await failure(props({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }));
    expect(e.code).toBe('KeySpecUsage');
    expect(e.message).toMatch(/is RSA_2048\/SIGN_VERIFY but the replica was declared RSA_2048\/ENCRYPT_DECRYPT/);
  });
});
