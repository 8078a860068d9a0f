import { DescribeKeyCommand, EncryptCommand, GetKeyPolicyCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { KmsEmulator } from '../../testing/emulator';
import { createExternalKey, kmsClient, kmsError } from './helpers';

let emu: KmsEmulator;

beforeAll(async () => {
  emu = await KmsEmulator.start({ region: 'eu-central-1', accountId: '222233334444', accounts: { AKIDPARTNER: '999988887777' } });
});
afterAll(() => emu.stop());

/** A raw JSON 1.1 call, the way the SDKs put it on the wire. */
async function call(operation: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${emu.endpoint}/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `TrentService.${operation}`, ...headers },
    body,
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

const credentialFor = (region: string, akid = 'AKID') =>
  `AWS4-HMAC-SHA256 Credential=${akid}/20261123/${region}/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`;

describe('the wire protocol', () => {
  test('a success is 200 JSON 1.1 with a request id and epoch-second timestamps', async () => {
    const r = await call('CreateKey', '{"Origin":"EXTERNAL"}');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(r.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    const md = r.json.KeyMetadata as Record<string, unknown>;
    expect(typeof md.CreationDate).toBe('number');
    expect(Math.abs((md.CreationDate as number) * 1000 - Date.now())).toBeLessThan(60_000);
  });

  test('the Region comes from the SigV4 credential scope, else the default Region', async () => {
    const signed = await call('CreateKey', '{}', { Authorization: credentialFor('ap-southeast-2') });
    expect((signed.json.KeyMetadata as { Arn: string }).Arn).toMatch(/^arn:aws:kms:ap-southeast-2:222233334444:key\//);
    const unsigned = await call('CreateKey', '{}');
    expect((unsigned.json.KeyMetadata as { Arn: string }).Arn).toMatch(/^arn:aws:kms:eu-central-1:222233334444:key\//);
  });

  test('ARNs carry the partition of the Region', async () => {
    const gov = await call('CreateKey', '{}', { Authorization: credentialFor('us-gov-west-1') });
    expect((gov.json.KeyMetadata as { Arn: string }).Arn).toMatch(/^arn:aws-us-gov:kms:us-gov-west-1:/);
    const cn = await call('CreateKey', '{}', { Authorization: credentialFor('cn-northwest-1') });
    expect((cn.json.KeyMetadata as { Arn: string }).Arn).toMatch(/^arn:aws-cn:kms:cn-northwest-1:/);
  });

  test('an unknown operation is 400 UnknownOperationException', async () => {
    const r = await call('MakeCoffee', '{}');
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ __type: 'UnknownOperationException' });
  });

  test('malformed JSON is 400 SerializationException', async () => {
    const r = await call('CreateKey', '{"Origin":');
    expect(r.status).toBe(400);
    expect(r.json.__type).toBe('SerializationException');
  });

  test('a missing required member is reported in the AWS wording', async () => {
    const r = await call('DescribeKey', '{}');
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ __type: 'ValidationException', message: "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null" });
  });

  test('errors AWS sends without a message carry no message member', async () => {
    const r = await call('Decrypt', JSON.stringify({ CiphertextBlob: Buffer.from('not a ciphertext blob at all, not even close to one').toString('base64') }));
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ __type: 'InvalidCiphertextException' });
  });

  test('NotFoundException messages follow the recordings', async () => {
    expect((await call('DescribeKey', '{"KeyId":"fake-key-id"}')).json).toEqual({ __type: 'NotFoundException', message: "Invalid keyId 'fake-key-id'" });
    const id = '0b5b3c7e-8f4a-4f0e-9d6c-1a2b3c4d5e6f';
    expect((await call('DescribeKey', JSON.stringify({ KeyId: id }))).json.message).toBe(`Key 'arn:aws:kms:eu-central-1:222233334444:key/${id}' does not exist`);
    const created = (await call('CreateKey', '{}')).json.KeyMetadata as { Arn: string };
    const other = await call('DescribeKey', JSON.stringify({ KeyId: created.Arn }), { Authorization: credentialFor('us-west-2') });
    expect(other.json.message).toBe('Invalid arn eu-central-1');
  });

  test('every call is recorded with its operation, Region, account, status and error type', async () => {
    emu.clearCalls();
    await call('DescribeKey', '{"KeyId":"fake-key-id"}', { Authorization: credentialFor('us-west-2', 'AKIDPARTNER') });
    expect(emu.calls).toEqual([
      expect.objectContaining({ operation: 'DescribeKey', region: 'us-west-2', account: '999988887777', status: 400, errorType: 'NotFoundException' }),
    ]);
    expect(emu.calls[0].endedAt).toBeGreaterThanOrEqual(emu.calls[0].startedAt);
  });
});

describe('accounts', () => {
  let owner: KMSClient;
  let partner: KMSClient;
  beforeAll(() => {
    owner = kmsClient(emu, 'eu-central-1', 'AKIDOWNER');
    partner = kmsClient(emu, 'eu-central-1', 'AKIDPARTNER');
  });
  afterAll(() => {
    owner.destroy();
    partner.destroy();
  });

  test('access key ids map to accounts, and keys live per account', async () => {
    const md = await createExternalKey(owner);
    expect(md.AWSAccountId).toBe('222233334444');
    expect((await kmsError(partner.send(new DescribeKeyCommand({ KeyId: md.KeyId })))).name).toBe('NotFoundException');
    // By ARN another account's key can be named, and its key policy decides (the default one trusts only its own account).
    expect(await kmsError(partner.send(new DescribeKeyCommand({ KeyId: md.Arn })))).toMatchObject({
      name: 'AccessDeniedException',
      message: `User: arn:aws:iam::999988887777:root is not authorized to perform: kms:DescribeKey on resource: ${md.Arn} because no resource-based policy allows the kms:DescribeKey action`,
    });
    const partnerRoot = { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999988887777:root' }, Action: ['kms:DescribeKey', 'kms:Encrypt'], Resource: '*' };
    const policy = JSON.parse((await owner.send(new GetKeyPolicyCommand({ KeyId: md.KeyId }))).Policy!);
    policy.Statement.push(partnerRoot);
    await owner.send(new PutKeyPolicyCommand({ KeyId: md.KeyId, Policy: JSON.stringify(policy) }));
    const viaArn = await partner.send(new DescribeKeyCommand({ KeyId: md.Arn }));
    expect(viaArn.KeyMetadata!.AWSAccountId).toBe('222233334444');
    expect((await kmsError(partner.send(new EncryptCommand({ KeyId: md.Arn, Plaintext: Buffer.from('x') })))).message).toBe(`${md.Arn} is pending import.`);
  });
});
