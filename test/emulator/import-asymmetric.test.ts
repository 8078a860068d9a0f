import * as crypto from 'crypto';
import {
  DecryptCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateMacCommand,
  GetPublicKeyCommand,
  KMSClient,
  RotateKeyOnDemandCommand,
  SignCommand,
  VerifyCommand,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import { KmsEmulator, keyMaterialFingerprint } from '../../testing/emulator';
import { createExternalKey, ecPrivateKey, importMaterial, importParameters, kmsClient, kmsError, pkcs8, rsaPrivateKey } from './helpers';

let emu: KmsEmulator;
let kms: KMSClient;

beforeAll(async () => {
  emu = await KmsEmulator.start();
  kms = kmsClient(emu);
});
afterAll(async () => {
  kms.destroy();
  await emu.stop();
});

const rsa2048 = rsaPrivateKey(2048);

describe('HMAC keys', () => {
  test.each([
    ['HMAC_224', 'HMAC_SHA_224', 28],
    ['HMAC_256', 'HMAC_SHA_256', 32],
    ['HMAC_384', 'HMAC_SHA_384', 48],
    ['HMAC_512', 'HMAC_SHA_512', 64],
  ] as const)('%s material imports and GenerateMac equals node HMAC over the same bytes', async (spec, algorithm, bytes) => {
    const md = await createExternalKey(kms, { KeySpec: spec, KeyUsage: 'GENERATE_VERIFY_MAC' });
    expect(md).toMatchObject({ KeyState: 'PendingImport', MacAlgorithms: [algorithm] });
    const material = crypto.randomBytes(bytes);
    const out = await importMaterial(kms, md.KeyId!, material);
    // KeyMaterialId is reported for symmetric encryption keys only.
    expect(out.KeyMaterialId).toBeUndefined();
    const after = (await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    expect(after).toMatchObject({ KeyState: 'Enabled', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    expect(after.CurrentKeyMaterialId).toBeUndefined();
    const message = Buffer.from('message to authenticate');
    const mac = await kms.send(new GenerateMacCommand({ KeyId: md.KeyId, Message: message, MacAlgorithm: algorithm }));
    expect(mac.KeyId).toBe(md.Arn);
    expect(Buffer.from(mac.Mac!)).toEqual(crypto.createHmac(`sha${spec.slice(5)}`, material).update(message).digest());
    const ok = await kms.send(new VerifyMacCommand({ KeyId: md.KeyId, Message: message, MacAlgorithm: algorithm, Mac: mac.Mac }));
    expect(ok.MacValid).toBe(true);
    const bad = await kmsError(kms.send(new VerifyMacCommand({ KeyId: md.KeyId, Message: Buffer.from('other'), MacAlgorithm: algorithm, Mac: mac.Mac })));
    expect(bad.name).toBe('KMSInvalidMacException');
  });

  test('material shorter than the spec or longer than 128 bytes is IncorrectKeyMaterialException; 128 bytes is fine', async () => {
    const md = await createExternalKey(kms, { KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC' });
    expect((await kmsError(importMaterial(kms, md.KeyId!, crypto.randomBytes(47)))).name).toBe('IncorrectKeyMaterialException');
    expect((await kmsError(importMaterial(kms, md.KeyId!, crypto.randomBytes(129), { algorithm: 'RSA_AES_KEY_WRAP_SHA_256' }))).name).toBe(
      'IncorrectKeyMaterialException',
    );
    await importMaterial(kms, md.KeyId!, crypto.randomBytes(128));
    expect(emu.inspectKey(md.KeyId!)!.keyState).toBe('Enabled');
  });

  test('a wrong MAC algorithm for the spec is the recorded InvalidKeyUsageException', async () => {
    const md = await createExternalKey(kms, { KeySpec: 'HMAC_224', KeyUsage: 'GENERATE_VERIFY_MAC' });
    await importMaterial(kms, md.KeyId!, crypto.randomBytes(28));
    const err = await kmsError(kms.send(new GenerateMacCommand({ KeyId: md.KeyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' })));
    expect(err).toEqual({ name: 'InvalidKeyUsageException', message: 'Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.', status: 400 });
  });

  test('ImportType is refused for non-symmetric keys', async () => {
    const md = await createExternalKey(kms, { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    const err = await kmsError(importMaterial(kms, md.KeyId!, crypto.randomBytes(32), { ImportType: 'NEW_KEY_MATERIAL' }));
    expect(err.name).toBe('UnsupportedOperationException');
  });
});

describe('ECC keys', () => {
  test.each([
    ['ECC_NIST_P256', 'prime256v1', 'sha256', 'ECDSA_SHA_256'],
    ['ECC_NIST_P384', 'secp384r1', 'sha384', 'ECDSA_SHA_384'],
    ['ECC_NIST_P521', 'secp521r1', 'sha512', 'ECDSA_SHA_512'],
    ['ECC_SECG_P256K1', 'secp256k1', 'sha256', 'ECDSA_SHA_256'],
  ] as const)('%s: imported key signs (RAW and DIGEST) verifiably with node and GetPublicKey returns its public key', async (spec, curve, hash, algorithm) => {
    const md = await createExternalKey(kms, { KeySpec: spec, KeyUsage: 'SIGN_VERIFY' });
    expect(md.SigningAlgorithms).toEqual([algorithm]);
    const key = ecPrivateKey(curve);
    // P-521 PKCS#8 does not fit RSA_2048 OAEP; RSA_AES wraps anything.
    await importMaterial(kms, md.KeyId!, pkcs8(key), { algorithm: spec === 'ECC_NIST_P521' ? 'RSA_AES_KEY_WRAP_SHA_256' : 'RSAES_OAEP_SHA_256' });
    const publicKey = crypto.createPublicKey(key);
    const pub = await kms.send(new GetPublicKeyCommand({ KeyId: md.KeyId }));
    expect(Buffer.from(pub.PublicKey!)).toEqual(publicKey.export({ format: 'der', type: 'spki' }));
    expect(pub).toMatchObject({ KeyId: md.Arn, KeySpec: spec, KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: [algorithm] });

    const message = Buffer.from('sign me');
    const raw = await kms.send(new SignCommand({ KeyId: md.KeyId, Message: message, MessageType: 'RAW', SigningAlgorithm: algorithm }));
    expect(crypto.verify(hash, message, publicKey, Buffer.from(raw.Signature!))).toBe(true);
    const digest = crypto.createHash(hash).update(message).digest();
    const pre = await kms.send(new SignCommand({ KeyId: md.KeyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: algorithm }));
    expect(crypto.verify(hash, message, publicKey, Buffer.from(pre.Signature!))).toBe(true);

    const ownSig = crypto.sign(hash, message, key);
    const v = await kms.send(new VerifyCommand({ KeyId: md.KeyId, Message: digest, MessageType: 'DIGEST', Signature: ownSig, SigningAlgorithm: algorithm }));
    expect(v.SignatureValid).toBe(true);
    const bad = await kmsError(
      kms.send(new VerifyCommand({ KeyId: md.KeyId, Message: Buffer.from('tampered'), MessageType: 'RAW', Signature: ownSig, SigningAlgorithm: algorithm })),
    );
    expect(bad).toEqual({ name: 'KMSInvalidSignatureException', message: 'UnknownError', status: 400 });
  });

  test('a P-521 key with RSAES_OAEP and an RSA_2048 wrapping key is refused at GetParametersForImport', async () => {
    const md = await createExternalKey(kms, { KeySpec: 'ECC_NIST_P521', KeyUsage: 'SIGN_VERIFY' });
    const err = await kmsError(importParameters(kms, md.KeyId, 'RSAES_OAEP_SHA_1', 'RSA_2048'));
    expect(err.name).toBe('UnsupportedOperationException');
    await importParameters(kms, md.KeyId, 'RSAES_OAEP_SHA_256', 'RSA_3072');
  });

  test('a key on the wrong curve is IncorrectKeyMaterialException', async () => {
    const md = await createExternalKey(kms, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    expect((await kmsError(importMaterial(kms, md.KeyId!, pkcs8(ecPrivateKey('secp256k1'))))).name).toBe('IncorrectKeyMaterialException');
    expect((await kmsError(importMaterial(kms, md.KeyId!, pkcs8(rsa2048), { algorithm: 'RSA_AES_KEY_WRAP_SHA_256' }))).name).toBe(
      'IncorrectKeyMaterialException',
    );
    expect(emu.inspectKey(md.KeyId!)!.keyState).toBe('PendingImport');
  });

  test('the same key re-imported in another encoding counts as the same material, another key does not', async () => {
    const md = await createExternalKey(kms, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const key = ecPrivateKey('prime256v1');
    await importMaterial(kms, md.KeyId!, pkcs8(key));
    // The same scalar without the optional public key in the ECPrivateKey: a different blob, the same key.
    const jwk = key.export({ format: 'jwk' });
    const withoutPublic = rebuildEcWithoutPublicKey(Buffer.from(jwk.d!, 'base64url'));
    expect(withoutPublic).not.toEqual(pkcs8(key));
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: md.KeyId }));
    await importMaterial(kms, md.KeyId!, withoutPublic);
    expect(emu.inspectKey(md.KeyId!)!.keyState).toBe('Enabled');
    expect((await kmsError(importMaterial(kms, md.KeyId!, pkcs8(ecPrivateKey('prime256v1'))))).name).toBe('IncorrectKeyMaterialException');
    expect(emu.inspectKey(md.KeyId!)!.materials[0].sha256).toBe(keyMaterialFingerprint('ECC_NIST_P256', pkcs8(key)));
  });
});

/** PKCS#8 { 0, {id-ecPublicKey, prime256v1}, OCTET STRING { ECPrivateKey { 1, d, [0] prime256v1 } } } with no public key. */
function rebuildEcWithoutPublicKey(d: Buffer): Buffer {
  const tlv = (tag: number, body: Buffer) => Buffer.concat([Buffer.from([tag, body.length]), body]);
  const curveOid = Buffer.from('06082a8648ce3d030107', 'hex');
  const ecPrivateKey = tlv(0x30, Buffer.concat([Buffer.from('020101', 'hex'), tlv(0x04, d), tlv(0xa0, curveOid)]));
  const algorithm = tlv(0x30, Buffer.concat([Buffer.from('06072a8648ce3d0201', 'hex'), curveOid]));
  return tlv(0x30, Buffer.concat([Buffer.from('020100', 'hex'), algorithm, tlv(0x04, ecPrivateKey)]));
}

describe('RSA keys', () => {
  test('RSA_2048 SIGN_VERIFY: PSS and PKCS#1 signatures, RAW and DIGEST, verify with node', async () => {
    const md = await createExternalKey(kms, { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    expect(md.SigningAlgorithms).toHaveLength(6);
    await importMaterial(kms, md.KeyId!, pkcs8(rsa2048), { algorithm: 'RSA_AES_KEY_WRAP_SHA_1' });
    const publicKey = crypto.createPublicKey(rsa2048);
    expect(Buffer.from((await kms.send(new GetPublicKeyCommand({ KeyId: md.KeyId }))).PublicKey!)).toEqual(publicKey.export({ format: 'der', type: 'spki' }));
    const message = Buffer.from('an RSA-signed message');
    for (const algorithm of ['RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384'] as const) {
      const hash = `sha${algorithm.slice(-3)}`;
      const pss = algorithm.startsWith('RSASSA_PSS');
      const options = pss
        ? { key: publicKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.createHash(hash).digest().length }
        : { key: publicKey, padding: crypto.constants.RSA_PKCS1_PADDING };
      for (const messageType of ['RAW', 'DIGEST'] as const) {
        const input = messageType === 'RAW' ? message : crypto.createHash(hash).update(message).digest();
        const sig = await kms.send(new SignCommand({ KeyId: md.KeyId, Message: input, MessageType: messageType, SigningAlgorithm: algorithm }));
        expect(crypto.verify(hash, message, options, Buffer.from(sig.Signature!))).toBe(true);
        const v = await kms.send(new VerifyCommand({ KeyId: md.KeyId, Message: input, MessageType: messageType, Signature: sig.Signature, SigningAlgorithm: algorithm }));
        expect(v.SignatureValid).toBe(true);
      }
    }
    const badDigest = await kmsError(kms.send(new SignCommand({ KeyId: md.KeyId, Message: message, MessageType: 'DIGEST', SigningAlgorithm: 'RSASSA_PSS_SHA_256' })));
    expect(badDigest).toEqual({ name: 'ValidationException', message: 'Digest is invalid length for algorithm RSASSA_PSS_SHA_256.', status: 400 });
  });

  test('RSA_3072 ENCRYPT_DECRYPT: KMS ciphertext decrypts with the imported private key and vice versa', async () => {
    const key = rsaPrivateKey(3072);
    const md = await createExternalKey(kms, { KeySpec: 'RSA_3072', KeyUsage: 'ENCRYPT_DECRYPT' });
    expect(md.EncryptionAlgorithms).toEqual(['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256']);
    await importMaterial(kms, md.KeyId!, pkcs8(key), { algorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappingKeySpec: 'RSA_3072' });
    const enc = await kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.from('to the key holder'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    const mine = crypto.privateDecrypt({ key, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(enc.CiphertextBlob!));
    expect(mine.toString()).toBe('to the key holder');
    const theirs = crypto.publicEncrypt({ key: crypto.createPublicKey(key), padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from('back'));
    const dec = await kms.send(new DecryptCommand({ KeyId: md.KeyId, CiphertextBlob: theirs, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' }));
    expect(Buffer.from(dec.Plaintext!).toString()).toBe('back');
    const tooLong = await kmsError(kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.alloc(319), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })));
    expect(tooLong.message).toBe('Algorithm RSAES_OAEP_SHA_256 and key spec RSA_3072 cannot encrypt data larger than 318 bytes.');
  });

  test('RSA material needs RSA_AES wrapping: RSAES_OAEP is refused at GetParametersForImport', async () => {
    const md = await createExternalKey(kms, { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    const err = await kmsError(importParameters(kms, md.KeyId, 'RSAES_OAEP_SHA_256', 'RSA_4096'));
    expect(err.name).toBe('UnsupportedOperationException');
  });

  test('a different RSA key after the first import is IncorrectKeyMaterialException and the first keeps signing', async () => {
    const md = await createExternalKey(kms, { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    const opts = { algorithm: 'RSA_AES_KEY_WRAP_SHA_256' } as const;
    await importMaterial(kms, md.KeyId!, pkcs8(rsa2048), opts);
    expect((await kmsError(importMaterial(kms, md.KeyId!, pkcs8(rsaPrivateKey(2048)), opts))).name).toBe('IncorrectKeyMaterialException');
    const sig = await kms.send(new SignCommand({ KeyId: md.KeyId, Message: Buffer.from('m'), SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' }));
    expect(crypto.verify('sha256', Buffer.from('m'), crypto.createPublicKey(rsa2048), Buffer.from(sig.Signature!))).toBe(true);
  });

  test('on-demand rotation of an asymmetric key is UnsupportedOperationException without a message', async () => {
    const md = await createExternalKey(kms, { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    await importMaterial(kms, md.KeyId!, pkcs8(rsa2048), { algorithm: 'RSA_AES_KEY_WRAP_SHA_256' });
    const err = await kmsError(kms.send(new RotateKeyOnDemandCommand({ KeyId: md.KeyId })));
    expect(err).toEqual({ name: 'UnsupportedOperationException', message: 'UnknownError', status: 400 });
  });
});

describe('key usage', () => {
  test('signing with an encryption key is the recorded InvalidKeyUsageException', async () => {
    const md = await createExternalKey(kms, { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    await importMaterial(kms, md.KeyId!, pkcs8(rsa2048), { algorithm: 'RSA_AES_KEY_WRAP_SHA_256' });
    const err = await kmsError(kms.send(new SignCommand({ KeyId: md.KeyId, Message: Buffer.from('m'), SigningAlgorithm: 'RSASSA_PSS_SHA_256' })));
    expect(err).toEqual({ name: 'InvalidKeyUsageException', message: `${md.Arn} key usage is ENCRYPT_DECRYPT which is not valid for Sign.`, status: 400 });
  });

  test('GetPublicKey on a key without material is pending import', async () => {
    const md = await createExternalKey(kms, { KeySpec: 'ECC_NIST_P384', KeyUsage: 'SIGN_VERIFY' });
    expect((await kmsError(kms.send(new GetPublicKeyCommand({ KeyId: md.KeyId })))).message).toBe(`${md.Arn} is pending import.`);
  });
});
