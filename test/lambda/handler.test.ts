import { GetParametersForImportCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { httpsServer, invoke, STACK_ID } from './handler-env';

const kms = mockClient(KMSClient);
const secrets = mockClient(SecretsManagerClient);
let server: Awaited<ReturnType<typeof httpsServer>>;
let bodies: any[] = [];
let url = '';

beforeAll(async () => {
  server = await httpsServer((req, res) => {
    let b = '';
    req.on('data', (d) => { b += d; }).on('end', () => { bodies.push({ method: req.method, contentType: req.headers['content-type'], body: JSON.parse(b) }); res.end(); });
  });
  url = server.url;
});
afterAll(() => server.close());
beforeEach(() => { bodies = []; kms.reset(); secrets.reset(); jest.spyOn(console, 'log').mockImplementation(() => undefined); });
afterEach(() => jest.restoreAllMocks());

const event = (overrides: Record<string, unknown> = {}): any => ({
  RequestType: 'Create', ResponseURL: url, StackId: STACK_ID, RequestId: 'req-1', LogicalResourceId: 'KeyImport', ResourceType: 'Custom::KmsKeyMaterialImport',
  ServiceToken: 'arn', ResourceProperties: {
    ServiceToken: 'arn', KeyArn: 'arn:aws:kms:us-east-1:111122223333:key/k1', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT',
    WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_4096', Expiration: { Model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' },
    Material: { Type: 'SecretsManager', SecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:s-AbCdEf', Encoding: 'BASE64' },
  },
  ...overrides,
});

describe('handler', () => {
  test('answers a failure with the code, the reason and the resource, with a PUT and an empty content type', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'AAAA' });
    kms.on(GetParametersForImportCommand).resolves({ ImportToken: Buffer.from('t'), PublicKey: Buffer.from('x') });
    await invoke(event(), { getRemainingTimeInMillis: () => 60_000 });
    expect(bodies).toHaveLength(1);
    expect(bodies[0].method).toBe('PUT');
    expect(bodies[0].contentType).toBe('');
    expect(bodies[0].body).toMatchObject({ Status: 'FAILED', RequestId: 'req-1', StackId: STACK_ID, LogicalResourceId: 'KeyImport', PhysicalResourceId: 'import-failed-req-1' });
    expect(bodies[0].body.Reason).toMatch(/^\[MaterialFormat\] the material in secret .* is 3 bytes; a SYMMETRIC_DEFAULT key needs exactly 32 bytes .* \(resource KeyImport\)$/);
  });

  test('answers a failure for missing properties', async () => {
    await invoke(event({ ResourceProperties: { ServiceToken: 'arn' } }), { getRemainingTimeInMillis: () => 60_000 });
    expect(bodies[0].body).toMatchObject({ Status: 'FAILED', Reason: '[InvalidProperty] property KeyArn is missing (resource KeyImport)' });
  });

  test('answers a Timeout failure before the Lambda deadline when a call hangs', async () => {
    secrets.on(GetSecretValueCommand).callsFake(() => new Promise(() => undefined));
    kms.on(GetParametersForImportCommand).callsFake(() => new Promise(() => undefined));
    const started = Date.now();
    await invoke(event(), { getRemainingTimeInMillis: () => 16_000 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(bodies[0].body.Status).toBe('FAILED');
    expect(bodies[0].body.Reason).toMatch(/^\[Timeout\] the import did not finish within 1 s/);
  });

  test('a Delete of a resource whose Create failed succeeds without calls', async () => {
    await invoke(event({ RequestType: 'Delete', PhysicalResourceId: 'import-failed-req-0' }), { getRemainingTimeInMillis: () => 60_000 });
    expect(bodies[0].body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'import-failed-req-0' });
    expect(kms.calls()).toHaveLength(0);
  });
});
