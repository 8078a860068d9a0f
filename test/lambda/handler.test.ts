import { generateKeyPairSync, randomBytes } from 'crypto';
import { DeleteImportedKeyMaterialCommand, DescribeKeyCommand, GetParametersForImportCommand, ImportKeyMaterialCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { describeKeyFollowsCalls } from './kms-state';
import { httpsServer, invoke, STACK_ID } from './handler-env';

const kms = mockClient(KMSClient);
const secrets = mockClient(SecretsManagerClient);
const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/k1';
const PRIMARY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab';
const wrappingKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const context = { getRemainingTimeInMillis: () => 60_000 };
let server: Awaited<ReturnType<typeof httpsServer>>;
let bodies: any[] = [];
let url = '';
let logs: any[] = [];
let requests: Array<{ method?: string; contentType?: string }> = [];

beforeAll(async () => {
  server = await httpsServer((req, res) => {
    let b = '';
    req.on('data', (d: Buffer) => { b += d; }).on('end', () => {
      requests.push({ method: req.method, contentType: req.headers['content-type'] });
      bodies.push(JSON.parse(b));
      res.end();
    });
  });
  url = server.url;
});
afterAll(() => server.close());
beforeEach(() => {
  bodies = [];
  logs = [];
  requests = [];
  kms.reset();
  secrets.reset();
  kms.on(GetParametersForImportCommand).resolves({ ImportToken: Buffer.from('token'), PublicKey: wrappingKey.publicKey.export({ type: 'spki', format: 'der' }) });
  kms.on(ImportKeyMaterialCommand).resolves({ KeyId: KEY_ARN, KeyMaterialId: 'a'.repeat(64) });
  describeKeyFollowsCalls(kms);
  secrets.on(GetSecretValueCommand).resolves({ SecretString: randomBytes(32).toString('base64') });
  jest.spyOn(console, 'log').mockImplementation((line: string) => { logs.push(JSON.parse(line)); });
});
afterEach(() => jest.restoreAllMocks());

const importProperties = (overrides: Record<string, unknown> = {}): any => ({
  ServiceToken: 'arn', KeyArn: KEY_ARN, KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT',
  WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048', Expiration: { Model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' },
  Material: { Type: 'SecretsManager', SecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:s-AbCdEf', Encoding: 'BASE64' },
  ...overrides,
});

const event = (overrides: Record<string, unknown> = {}): any => ({
  RequestType: 'Create', ResponseURL: url, StackId: STACK_ID, RequestId: 'req-1', LogicalResourceId: 'KeyImport', ResourceType: 'Custom::KmsKeyMaterialImport',
  ServiceToken: 'arn', ResourceProperties: importProperties(),
  ...overrides,
});

const lookupEvent = (overrides: Record<string, unknown> = {}): any => event({
  ResourceType: 'Custom::KmsPrimaryKeyLookup', LogicalResourceId: 'KeyPrimaryLookup',
  ResourceProperties: { ServiceToken: 'arn', PrimaryRegion: 'us-east-1', AliasName: 'alias/bluescape', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' },
  ...overrides,
});

const renewal = (properties: any): any => ({ source: 'cdk-kms-byok', action: 'renew', properties });

describe('custom resource events', () => {
  test('a successful Create answers SUCCESS with the key ARN as physical id and the import attributes', async () => {
    await invoke(event(), context);
    expect(bodies).toEqual([{
      Status: 'SUCCESS', PhysicalResourceId: KEY_ARN, StackId: STACK_ID, RequestId: 'req-1', LogicalResourceId: 'KeyImport',
      Data: { KeyArn: KEY_ARN, KeyId: 'k1', KeyMaterialId: 'a'.repeat(64), ValidTo: '' },
    }]);
    expect(logs.map((l) => l.message)).toEqual(['received', 'imported key material', 'succeeded']);
    expect(logs.find((l) => l.message === 'succeeded')).toMatchObject({ requestType: 'Create', logicalResourceId: 'KeyImport', keyArn: KEY_ARN, keyMaterialId: 'a'.repeat(64) });
  });

  test('an Update is dispatched to update: unchanged properties answer from DescribeKey without importing', async () => {
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k1', CurrentKeyMaterialId: 'b'.repeat(64) } });
    await invoke(event({ RequestType: 'Update', PhysicalResourceId: KEY_ARN, OldResourceProperties: importProperties() }), context);
    expect(bodies[0]).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: KEY_ARN, Data: { KeyMaterialId: 'b'.repeat(64) } });
    expect(kms).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
  });

  test('a failed Update keeps the resource\'s physical id', async () => {
    await invoke(event({
      RequestType: 'Update', PhysicalResourceId: KEY_ARN,
      ResourceProperties: importProperties({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }), OldResourceProperties: importProperties(),
    }), context);
    expect(bodies[0]).toMatchObject({ Status: 'FAILED', PhysicalResourceId: KEY_ARN, Reason: expect.stringMatching(/^\[UnsupportedUpdate\] the key spec or usage of .* cannot change .* \(resource KeyImport\)$/) });
  });

  test('a Delete that shreds the material calls DeleteImportedKeyMaterial and answers SUCCESS', async () => {
    kms.on(DeleteImportedKeyMaterialCommand).resolves({});
    await invoke(event({ RequestType: 'Delete', PhysicalResourceId: KEY_ARN, ResourceProperties: importProperties({ DeleteMaterialOnRemoval: 'true' }) }), context);
    expect(kms).toHaveReceivedCommandWith(DeleteImportedKeyMaterialCommand, { KeyId: KEY_ARN });
    expect(bodies[0]).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: KEY_ARN, Data: {} });
  });

  test('a Secrets Manager error with no meaning of its own is answered FAILED with the AwsError code, its name and message', async () => {
    secrets.on(GetSecretValueCommand).rejects(Object.assign(new Error('An error occurred on the server side.'), { name: 'InternalServiceError' }));
    await invoke(event(), context);
    expect(bodies[0]).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'import-failed-req-1' });
    expect(bodies[0].Reason).toMatch(/^\[AwsError\] InternalServiceError\b.*: An error occurred on the server side\. \(resource KeyImport\)$/);
  });

  test('an unexpected error (an Update without OldResourceProperties) is still answered, with its name and message', async () => {
    await invoke(event({ RequestType: 'Update', PhysicalResourceId: KEY_ARN }), context);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toMatchObject({ Status: 'FAILED', PhysicalResourceId: KEY_ARN });
    expect(bodies[0].Reason).toMatch(/^\[AwsError\] TypeError: .+ \(resource KeyImport\)$/);
    expect(logs.find((l) => l.message === 'failed')).toMatchObject({ requestType: 'Update', reason: expect.stringMatching(/^\[AwsError\] TypeError: /) });
  });

  test('a Create without Material is refused with InvalidProperty', async () => {
    await invoke(event({ ResourceProperties: importProperties({ Material: undefined }) }), context);
    expect(bodies[0]).toMatchObject({ Status: 'FAILED', Reason: '[InvalidProperty] property Material is missing (resource KeyImport)' });
    expect(kms).not.toHaveReceivedAnyCommand();
  });

  test('a Create without Expiration is refused with InvalidProperty', async () => {
    await invoke(event({ ResourceProperties: importProperties({ Expiration: {} }) }), context);
    expect(bodies[0]).toMatchObject({ Status: 'FAILED', Reason: '[InvalidProperty] property Expiration is missing (resource KeyImport)' });
  });

  test('a Create with an empty WrappingKeySpec is refused naming it', async () => {
    await invoke(event({ ResourceProperties: importProperties({ WrappingKeySpec: '' }) }), context);
    expect(bodies[0].Reason).toBe('[InvalidProperty] property WrappingKeySpec is missing (resource KeyImport)');
  });

  test('an event without ResourceProperties is answered FAILED, not dropped', async () => {
    await invoke(event({ ResourceProperties: undefined }), context);
    expect(bodies[0]).toMatchObject({ Status: 'FAILED', Reason: '[InvalidProperty] property KeyArn is missing (resource KeyImport)' });
  });
  test('answers a failure with the code, the reason and the resource, with a PUT and an empty content type', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'AAAA' });
    await invoke(event(), context);
    expect(bodies).toHaveLength(1);
    expect(requests[0].method).toBe('PUT');
    expect(requests[0].contentType).toBe('');
    expect(bodies[0]).toMatchObject({ Status: 'FAILED', RequestId: 'req-1', StackId: STACK_ID, LogicalResourceId: 'KeyImport', PhysicalResourceId: 'import-failed-req-1' });
    expect(bodies[0].Reason).toMatch(/^\[MaterialFormat\] the material in secret .* is 3 bytes; a SYMMETRIC_DEFAULT key needs exactly 32 bytes .* \(resource KeyImport\)$/);
  });

  test('answers a failure for missing properties', async () => {
    await invoke(event({ ResourceProperties: { ServiceToken: 'arn' } }), context);
    expect(bodies[0]).toMatchObject({ Status: 'FAILED', Reason: '[InvalidProperty] property KeyArn is missing (resource KeyImport)' });
  });

  test('answers a Timeout failure before the Lambda deadline when a call hangs', async () => {
    secrets.on(GetSecretValueCommand).callsFake(() => new Promise(() => undefined));
    kms.on(GetParametersForImportCommand).callsFake(() => new Promise(() => undefined));
    const started = Date.now();
    await invoke(event(), { getRemainingTimeInMillis: () => 16_000 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(bodies[0].Status).toBe('FAILED');
    expect(bodies[0].Reason).toMatch(/^\[Timeout\] the import did not finish within 1 s/);
  });

  test('a Delete of a resource whose Create failed succeeds without calls', async () => {
    await invoke(event({ RequestType: 'Delete', PhysicalResourceId: 'import-failed-req-0' }), context);
    expect(bodies[0]).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'import-failed-req-0' });
    expect(kms.calls()).toHaveLength(0);
  });

  test('an event of a resource type the handler does not serve is refused without a call; its Delete succeeds', async () => {
    await invoke(event({ ResourceType: 'Custom::Other' }), context);
    expect(bodies[0]).toMatchObject({ Status: 'FAILED', Reason: "[InvalidProperty] resource type 'Custom::Other' is not one this handler serves (Custom::KmsKeyMaterialImport, Custom::KmsPrimaryKeyLookup); nothing was changed (resource KeyImport)" });
    await invoke(event({ ResourceType: 'Custom::Other', RequestType: 'Delete', PhysicalResourceId: KEY_ARN, ResourceProperties: importProperties({ DeleteMaterialOnRemoval: 'true' }) }), context);
    expect(bodies[1]).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: KEY_ARN });
    expect(kms.calls()).toHaveLength(0);
    expect(secrets.calls()).toHaveLength(0);
  });
});

describe('primary key lookup events', () => {
  test('a Create of Custom::KmsPrimaryKeyLookup looks the primary up and answers its ARN', async () => {
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: {
      KeyId: 'mrk', Arn: PRIMARY_ARN, MultiRegion: true, MultiRegionConfiguration: { MultiRegionKeyType: 'PRIMARY' }, Origin: 'EXTERNAL', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT',
    } });
    await invoke(lookupEvent(), context);
    expect(kms).toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: 'alias/bluescape' });
    expect(kms).not.toHaveReceivedCommand(GetParametersForImportCommand);
    expect(bodies[0]).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: PRIMARY_ARN, LogicalResourceId: 'KeyPrimaryLookup', Data: { Arn: PRIMARY_ARN } });
  });

  test('a failed lookup is answered FAILED with the lookup\'s code', async () => {
    kms.on(DescribeKeyCommand).rejects(Object.assign(new Error('Alias is not found.'), { name: 'NotFoundException' }));
    await invoke(lookupEvent(), context);
    expect(bodies[0]).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'import-failed-req-1', Reason: expect.stringMatching(/^\[KeyState\] primary key alias\/bluescape in us-east-1 was not found/) });
  });

  test('an Update of the lookup looks the primary up again', async () => {
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: {
      KeyId: 'mrk', Arn: PRIMARY_ARN, MultiRegion: true, MultiRegionConfiguration: { MultiRegionKeyType: 'PRIMARY' }, Origin: 'EXTERNAL', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT',
    } });
    await invoke(lookupEvent({ RequestType: 'Update', PhysicalResourceId: PRIMARY_ARN, OldResourceProperties: {} }), context);
    expect(kms).toHaveReceivedCommandTimes(DescribeKeyCommand, 1);
    expect(bodies[0]).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: PRIMARY_ARN });
  });

  test('a Delete of the lookup succeeds with its physical id and makes no call', async () => {
    await invoke(lookupEvent({ RequestType: 'Delete', PhysicalResourceId: PRIMARY_ARN }), context);
    expect(kms).not.toHaveReceivedAnyCommand();
    expect(bodies[0]).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: PRIMARY_ARN, Data: {} });
  });
});

describe('scheduled renewal', () => {
  test('a renewal re-imports, logs the new ValidTo and answers no ResponseURL', async () => {
    const properties = importProperties({ Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ValidForSeconds: '86400' } });
    const before = Date.now();
    await expect(invoke(renewal(properties), context)).resolves.toBeUndefined();
    expect(kms).toHaveReceivedCommandWith(ImportKeyMaterialCommand, { KeyId: KEY_ARN, ExpirationModel: 'KEY_MATERIAL_EXPIRES' });
    const line = logs.find((l) => l.message === 'renewed key material');
    expect(line).toMatchObject({ keyArn: KEY_ARN, keyMaterialId: 'a'.repeat(64) });
    expect(new Date(line.validTo).getTime()).toBeGreaterThanOrEqual(before + 86_400_000);
    expect(bodies).toHaveLength(0);
  });

  test('a failed renewal logs the reason and throws it, so that Lambda counts an error and EventBridge retries', async () => {
    kms.on(ImportKeyMaterialCommand).rejects(Object.assign(new Error('key is disabled'), { name: 'DisabledException' }));
    await expect(invoke(renewal(importProperties()), context)).rejects.toThrow(`[KeyState] key ${KEY_ARN} is disabled: key is disabled; enable it first`);
    expect(logs.find((l) => l.message === 'renewal failed')).toEqual({ message: 'renewal failed', keyArn: KEY_ARN, reason: `[KeyState] key ${KEY_ARN} is disabled: key is disabled; enable it first` });
    expect(bodies).toHaveLength(0);
  });

  test('a renewal with incomplete properties fails before any call', async () => {
    await expect(invoke(renewal(importProperties({ Material: {} })), context)).rejects.toThrow('[InvalidProperty] property Material is missing');
    expect(kms).not.toHaveReceivedAnyCommand();
  });

  test('a renewal without properties fails and logs no key', async () => {
    await expect(invoke(renewal(undefined), context)).rejects.toThrow('[InvalidProperty] property KeyArn is missing');
    expect(logs.find((l) => l.message === 'renewal failed')).toEqual({ message: 'renewal failed', reason: '[InvalidProperty] property KeyArn is missing' });
  });
});
