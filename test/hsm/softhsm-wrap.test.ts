import { createCipheriv, createHash, createHmac, createPrivateKey, createPublicKey, randomBytes, verify } from 'crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { Pkcs11SourceProperties } from '../../lib/private/contract';
import { ImportError } from '../../lambda/errors';
import { preparePkcs11Source } from '../../lambda/sources/pkcs11';
import { loadModule, ModuleLoader } from '../../lambda/sources/pkcs11/binding';
import * as C from '../../lambda/sources/pkcs11/constants';
import { sourceContext } from './source-context';
import { readPin } from '../../lambda/sources/pkcs11/pin';
import { prepareSource } from '../../lambda/sources/source';
import { kmsUnwrap, stripSoftHsm261Padding, wrappingKeyPair } from './kms-side';
import { describeWithSoftHsm, HsmAdmin, softHsmVersion } from './softhsm';

/**
 * The PKCS#11 source against a real HSM: Debian's SoftHSM 2.6.1, set up by
 * scripts/setup-softhsm.sh. Keys are generated inside the HSM as CKA_SENSITIVE (their value cannot
 * be read) and CKA_EXTRACTABLE (they can be wrapped); the source wraps them under a KMS-style
 * wrapping key; the test unwraps with node's crypto exactly as KMS does and proves, with a
 * computation made inside the HSM, that the unwrapped bytes are the HSM's key.
 */

const secrets = mockClient(SecretsManagerClient);
const PIN_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:hsm-pin-AbCdEf';

describeWithSoftHsm('the PKCS#11 source wrapping keys held in SoftHSM', (env) => {
  let admin: HsmAdmin;

  beforeAll(() => {
    admin = HsmAdmin.open(env());
  });
  afterAll(() => {
    admin?.close();
  });
  beforeEach(() => {
    secrets.reset();
    secrets.on(GetSecretValueCommand, { SecretId: PIN_SECRET_ARN }).resolves({ SecretString: env().PKCS11_PIN });
  });

  const source = (overrides: Partial<Pkcs11SourceProperties>): Pkcs11SourceProperties => ({
    Type: 'Pkcs11',
    ModulePath: env().PKCS11_MODULE,
    TokenLabel: env().PKCS11_TOKEN_LABEL,
    PinSecretArn: PIN_SECRET_ARN,
    ...overrides,
  });

  /** The whole source cycle, through the same dispatch the importer uses: prepare, wrap, close. */
  async function wrapWithSource(props: Pkcs11SourceProperties, keySpec: string, wrappingAlgorithm: string, bits = 2048): Promise<Buffer> {
    const prepared = await prepareSource(props, sourceContext(keySpec, 'aws'));
    try {
      return await prepared.wrap(wrappingKeyPair(bits).publicKeyDer, wrappingAlgorithm);
    } finally {
      await prepared.close();
    }
  }

  /** A loader that records the sessions the source opens, to check they are closed. */
  function recordingLoader(): { loader: ModuleLoader; sessions: Buffer[] } {
    const sessions: Buffer[] = [];
    const loader: ModuleLoader = (modulePath) => {
      const module = loadModule(modulePath);
      // pkcs11js methods are native: call them on the real object.
      const api = new Proxy(module.api, {
        get: (target, name) => {
          if (name === 'C_OpenSession') {
            return (slot: Buffer, flags: number) => {
              const session = target.C_OpenSession(slot, flags);
              sessions.push(session);
              return session;
            };
          }
          const value = (target as any)[name];
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      return { ...module, api };
    };
    return { loader, sessions };
  }

  test('the test keys really are sensitive: the HSM refuses to reveal their value', () => {
    const key = admin.generateAes(HsmAdmin.label('aes-sensitive'));
    const CKA_VALUE = 0x11;
    expect(() => admin.attribute(key, CKA_VALUE)).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
  });

  describe('RSAES_OAEP_SHA_1 (one C_WrapKey with CKM_RSA_PKCS_OAEP)', () => {
    test.each([2048, 3072, 4096])('an AES-256 key unwraps to bytes whose KCV equals the HSM\'s, under an RSA-%i wrapping key', async (bits) => {
      const label = HsmAdmin.label('aes');
      const key = admin.generateAes(label);
      const wrapped = await wrapWithSource(source({ KeyLabel: label }), 'SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', bits);
      expect(wrapped).toHaveLength(bits / 8);
      const material = kmsUnwrap(wrapped, wrappingKeyPair(bits).privateKey, 'RSAES_OAEP_SHA_1');
      expect(material).toHaveLength(32);
      expect(aesKcv(material).toString('hex')).toBe(admin.aesKcv(key).toString('hex'));
    });

    test.each([['HMAC_224', 28], ['HMAC_256', 32], ['HMAC_256', 33], ['HMAC_384', 48], ['HMAC_512', 64]] as const)('a %s key of %i bytes unwraps to bytes whose HMAC equals the HSM\'s', async (keySpec, bytes) => {
      const label = HsmAdmin.label('hmac');
      const key = admin.generateHmac(label, bytes);
      const wrapped = await wrapWithSource(source({ KeyLabel: label }), keySpec, 'RSAES_OAEP_SHA_1');
      const material = kmsUnwrap(wrapped, wrappingKeyPair(2048).privateKey, 'RSAES_OAEP_SHA_1');
      expect(material).toHaveLength(bytes);
      const data = randomBytes(100);
      const hash = ({ HMAC_224: 'sha224', HMAC_256: 'sha256', HMAC_384: 'sha384', HMAC_512: 'sha512' } as const)[keySpec];
      expect(createHmac(hash, material).update(data).digest('hex')).toBe(admin.hmac(key, hash, data).toString('hex'));
    });

    test('a key is found by CKA_ID as well as by label', async () => {
      const label = HsmAdmin.label('aes-id');
      const id = randomBytes(8);
      const key = admin.generateAes(label, 32, [{ type: C.CKA_ID, value: id }]);
      const wrapped = await wrapWithSource(source({ KeyId: id.toString('hex') }), 'SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1');
      expect(aesKcv(kmsUnwrap(wrapped, wrappingKeyPair(2048).privateKey, 'RSAES_OAEP_SHA_1'))).toEqual(admin.aesKcv(key));
    });
  });

  describe('RSA_AES_KEY_WRAP_SHA_1 composed in the HSM (SoftHSM has no CKM_RSA_AES_KEY_WRAP)', () => {
    test('an AES-256 key unwraps to exactly 32 bytes whose KCV equals the HSM\'s', async () => {
      const label = HsmAdmin.label('aes-rsaaes');
      const key = admin.generateAes(label);
      const wrapped = await wrapWithSource(source({ KeyLabel: label }), 'SYMMETRIC_DEFAULT', 'RSA_AES_KEY_WRAP_SHA_1');
      // RSA part (modulus length) || RFC 5649 part (8 + 32).
      expect(wrapped).toHaveLength(256 + 40);
      const material = kmsUnwrap(wrapped, wrappingKeyPair(2048).privateKey, 'RSA_AES_KEY_WRAP_SHA_1');
      expect(material).toHaveLength(32);
      expect(aesKcv(material)).toEqual(admin.aesKcv(key));
    });

    test(softHsmVersion() === '2.6'
      ? 'an HMAC key of 33 bytes: SoftHSM 2.6.1 pads it to 40 with zeros, which leaves the HMAC unchanged'
      : `an HMAC key of 33 bytes: SoftHSM ${softHsmVersion()} wraps exactly its 33 bytes, and the HMAC matches`, async () => {
      const label = HsmAdmin.label('hmac-rsaaes');
      const key = admin.generateHmac(label, 33);
      const wrapped = await wrapWithSource(source({ KeyLabel: label }), 'HMAC_256', 'RSA_AES_KEY_WRAP_SHA_1');
      const material = kmsUnwrap(wrapped, wrappingKeyPair(2048).privateKey, 'RSA_AES_KEY_WRAP_SHA_1');
      // 2.6.1's WrapKeySym zero-pads to a multiple of 8 before KWP; 2.7.0 does not.
      expect(material).toHaveLength(admin.libraryVersion() === '2.6' ? 40 : 33);
      expect(material.subarray(33).every((b) => b === 0)).toBe(true);
      // HMAC zero-pads a key shorter than the hash block (64 bytes for SHA-256) anyway.
      const data = randomBytes(64);
      expect(createHmac('sha256', material).update(data).digest()).toEqual(admin.hmac(key, 'sha256', data));
    });

    test('an RSA-2048 private key unwraps to its PKCS#8, and a signature made by the HSM verifies with it', async () => {
      const label = HsmAdmin.label('rsa');
      const { privateKey, publicKey } = admin.generateRsa(label, 2048);
      const wrapped = await wrapWithSource(source({ KeyLabel: label }), 'RSA_2048', 'RSA_AES_KEY_WRAP_SHA_1');
      const plain = kmsUnwrap(wrapped, wrappingKeyPair(2048).privateKey, 'RSA_AES_KEY_WRAP_SHA_1');
      const { der } = expectExactOrSoftHsm261Padded(plain);
      const unwrapped = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      expect(unwrapped.asymmetricKeyDetails?.modulusLength).toBe(2048);
      // The same key: same modulus as the HSM's public key, and the HSM's signature verifies.
      const modulus = Buffer.from(createPublicKey(unwrapped).export({ format: 'jwk' }).n!, 'base64url');
      expect(modulus).toEqual(admin.attribute(publicKey, C.CKA_MODULUS));
      const CKM_SHA256_RSA_PKCS = 0x40;
      const data = randomBytes(200);
      const signature = admin.sign(privateKey, CKM_SHA256_RSA_PKCS, data);
      expect(verify('sha256', data, createPublicKey(unwrapped), signature)).toBe(true);
    });

    test('an EC P-256 private key unwraps to its PKCS#8, and an ECDSA signature made by the HSM verifies with it', async () => {
      const label = HsmAdmin.label('ec');
      const { privateKey } = admin.generateEc(label, C.EC_PARAMS_BY_KEY_SPEC.ECC_NIST_P256);
      const wrapped = await wrapWithSource(source({ KeyLabel: label }), 'ECC_NIST_P256', 'RSA_AES_KEY_WRAP_SHA_1');
      const plain = kmsUnwrap(wrapped, wrappingKeyPair(2048).privateKey, 'RSA_AES_KEY_WRAP_SHA_1');
      const { der } = expectExactOrSoftHsm261Padded(plain);
      const unwrapped = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      expect(unwrapped.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
      const CKM_ECDSA = 0x1041;
      const data = randomBytes(200);
      const signature = admin.sign(privateKey, CKM_ECDSA, createHash('sha256').update(data).digest());
      expect(verify('sha256', data, { key: createPublicKey(unwrapped), dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
    });
  });

  describe('what SoftHSM cannot do, with the message that says what to set instead', () => {
    test('RSAES_OAEP_SHA_256: SoftHSM refuses OAEP with SHA-256 (CKR_ARGUMENTS_BAD)', async () => {
      const label = HsmAdmin.label('aes-sha256');
      admin.generateAes(label);
      const error = await wrapWithSource(source({ KeyLabel: label }), 'SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_256').catch((e) => e);
      expect(error).toBeInstanceOf(ImportError);
      expect(error.code).toBe('WrappingCombination');
      expect(error.message).toBe(`RSAES_OAEP_SHA_256 failed for key '${label}' on token '${env().PKCS11_TOKEN_LABEL}': the HSM answered CKR_ARGUMENTS_BAD (0x7) to RSA-OAEP with SHA-256. `
        + 'This HSM supports only RSAES_OAEP_SHA_1 for OAEP wrapping; set wrappingAlgorithm: WrappingAlgorithm.RSAES_OAEP_SHA_1');
    });

    test('RSA_AES_KEY_WRAP_SHA_256: the composed OAEP step is refused the same way', async () => {
      const label = HsmAdmin.label('rsa-sha256');
      admin.generateRsa(label, 2048);
      const error = await wrapWithSource(source({ KeyLabel: label }), 'RSA_2048', 'RSA_AES_KEY_WRAP_SHA_256').catch((e) => e);
      expect(error.code).toBe('WrappingCombination');
      expect(error.message).toContain('set wrappingAlgorithm: WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_1');
    });

    test('a private key with RSAES_OAEP_SHA_1: SoftHSM will not OAEP-wrap private keys (CKR_KEY_NOT_WRAPPABLE)', async () => {
      const label = HsmAdmin.label('ec-oaep');
      admin.generateEc(label, C.EC_PARAMS_BY_KEY_SPEC.ECC_NIST_P256);
      const error = await wrapWithSource(source({ KeyLabel: label }), 'ECC_NIST_P256', 'RSAES_OAEP_SHA_1').catch((e) => e);
      expect(error.code).toBe('WrappingCombination');
      expect(error.message).toContain('a private key, with RSA-OAEP directly: the HSM answered CKR_KEY_NOT_WRAPPABLE (0x69); set wrappingAlgorithm: WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_1');
    });
  });

  describe('the session is always closed', () => {
    test('after a successful wrap: the session handle is gone, and no session object is left on the token', async () => {
      const label = HsmAdmin.label('aes-close');
      admin.generateAes(label);
      const { loader, sessions } = recordingLoader();
      const prepared = await preparePkcs11Source(source({ KeyLabel: label }), sourceContext('SYMMETRIC_DEFAULT', 'aws'), { loadModule: loader, readPin });
      expect(admin.sessionIsOpen(sessions[0])).toBe(true);
      await prepared.wrap(wrappingKeyPair(2048).publicKeyDer, 'RSA_AES_KEY_WRAP_SHA_1');
      await prepared.close();
      expect(sessions).toHaveLength(1);
      expect(admin.sessionIsOpen(sessions[0])).toBe(false);
      expect(admin.findByLabel('kms-wrapping-public-key')).toHaveLength(0);
      expect(admin.findByLabel('kms-import-one-time-aes')).toHaveLength(0);
    });

    test('after a failed wrap (SHA-256 refused), the one-time AES key and the wrapping key are destroyed and the session closed', async () => {
      const label = HsmAdmin.label('aes-fail');
      admin.generateAes(label);
      const { loader, sessions } = recordingLoader();
      const prepared = await preparePkcs11Source(source({ KeyLabel: label }), sourceContext('SYMMETRIC_DEFAULT', 'aws'), { loadModule: loader, readPin });
      // The importer's pattern: wrap in try, close in finally.
      await expect((async () => { try { return prepared.wrap(wrappingKeyPair(2048).publicKeyDer, 'RSA_AES_KEY_WRAP_SHA_256'); } finally { await prepared.close(); } })()).rejects.toThrow(/RSA_AES_KEY_WRAP_SHA_1/);
      expect(admin.sessionIsOpen(sessions[0])).toBe(false);
      expect(admin.findByLabel('kms-import-one-time-aes')).toHaveLength(0);
    });

    test('when preparing fails after the session opened (wrong PIN), the source closes it itself', async () => {
      secrets.on(GetSecretValueCommand, { SecretId: PIN_SECRET_ARN }).resolves({ SecretString: '99999999' });
      const label = HsmAdmin.label('aes-pin');
      admin.generateAes(label);
      const { loader, sessions } = recordingLoader();
      const error = await preparePkcs11Source(source({ KeyLabel: label }), sourceContext('SYMMETRIC_DEFAULT', 'aws'), { loadModule: loader, readPin }).catch((e) => e);
      expect(error.code).toBe('AccessDenied');
      expect(error.message).toContain(`token '${env().PKCS11_TOKEN_LABEL}' refused the PIN in secret ${PIN_SECRET_ARN}`);
      expect(error.message).toContain('CKR_PIN_INCORRECT');
      expect(error.message).not.toContain('99999999');
      expect(sessions).toHaveLength(1);
      expect(admin.sessionIsOpen(sessions[0])).toBe(false);
    });

    test('when the key is not extractable, preparing fails with why, and closes the session', async () => {
      const label = HsmAdmin.label('aes-unextractable');
      admin.generateAes(label, 32, [{ type: C.CKA_EXTRACTABLE, value: false }]);
      const { loader, sessions } = recordingLoader();
      const error = await preparePkcs11Source(source({ KeyLabel: label }), sourceContext('SYMMETRIC_DEFAULT', 'aws'), { loadModule: loader, readPin }).catch((e) => e);
      expect(error.code).toBe('MaterialSource');
      expect(error.message).toContain(`key '${label}' on token '${env().PKCS11_TOKEN_LABEL}' has CKA_EXTRACTABLE=false`);
      expect(admin.sessionIsOpen(sessions[0])).toBe(false);
    });
  });

  describe('finding the token and the key', () => {
    test('an unknown token label names the tokens there are', async () => {
      await expect(prepareSource(source({ TokenLabel: 'no-such-token', KeyLabel: 'x' }), sourceContext('SYMMETRIC_DEFAULT', 'aws')))
        .rejects.toThrow(`no token labelled 'no-such-token' in PKCS#11 module '${env().PKCS11_MODULE}' (tokens: '${env().PKCS11_TOKEN_LABEL}'`);
    });

    test('an unknown key label says so', async () => {
      await expect(prepareSource(source({ KeyLabel: 'no-such-key' }), sourceContext('SYMMETRIC_DEFAULT', 'aws')))
        .rejects.toThrow(`no secret key matches key 'no-such-key' on token '${env().PKCS11_TOKEN_LABEL}'`);
    });

    test('a private key named for a symmetric key spec: the message says what is there', async () => {
      const label = HsmAdmin.label('ec-wrong-class');
      admin.generateEc(label, C.EC_PARAMS_BY_KEY_SPEC.ECC_NIST_P256);
      await expect(prepareSource(source({ KeyLabel: label }), sourceContext('SYMMETRIC_DEFAULT', 'aws')))
        .rejects.toThrow(/needs a secret key\); the token has only (a public key, a private key|a private key, a public key) under that name/);
    });

    test('an AES-128 key for SYMMETRIC_DEFAULT fails before any wrap, naming both sizes', async () => {
      const label = HsmAdmin.label('aes128');
      admin.generateAes(label, 16);
      await expect(prepareSource(source({ KeyLabel: label }), sourceContext('SYMMETRIC_DEFAULT', 'aws')))
        .rejects.toThrow(`key '${label}' on token '${env().PKCS11_TOKEN_LABEL}' is 16 bytes long; a SYMMETRIC_DEFAULT key needs exactly 32 bytes (256-bit)`);
    });

    test('an RSA-2048 key for RSA_3072 and a P-256 key for ECC_NIST_P384 fail with the sizes and curves', async () => {
      const rsa = HsmAdmin.label('rsa-size');
      admin.generateRsa(rsa, 2048);
      await expect(prepareSource(source({ KeyLabel: rsa }), sourceContext('RSA_3072', 'aws'))).rejects.toThrow('is a 2048-bit RSA private key; a RSA_3072 key needs 3072 bits');
      const ec = HsmAdmin.label('ec-curve');
      admin.generateEc(ec, C.EC_PARAMS_BY_KEY_SPEC.ECC_NIST_P256);
      await expect(prepareSource(source({ KeyLabel: ec }), sourceContext('ECC_NIST_P384', 'aws'))).rejects.toThrow('is an EC key with CKA_EC_PARAMS 06082a8648ce3d030107; a ECC_NIST_P384 key needs the curve OID 06052b81040022');
    });

    test('two keys with one label are refused as ambiguous', async () => {
      const label = HsmAdmin.label('aes-twice');
      admin.generateAes(label);
      admin.generateAes(label);
      await expect(prepareSource(source({ KeyLabel: label }), sourceContext('SYMMETRIC_DEFAULT', 'aws'))).rejects.toThrow('2 secret keys match');
    });

    test('a module path that does not load says to ship the library in a layer', async () => {
      await expect(prepareSource(source({ ModulePath: '/opt/no-such/libpkcs11.so', KeyLabel: 'x' }), sourceContext('SYMMETRIC_DEFAULT', 'aws')))
        .rejects.toThrow(/the PKCS#11 module '\/opt\/no-such\/libpkcs11.so' could not be loaded .*put the HSM vendor's PKCS#11 library in a Lambda layer/);
    });
  });

  describe('the PIN from Secrets Manager', () => {
    test('a JSON field holds the PIN, and a trailing newline is dropped', async () => {
      secrets.on(GetSecretValueCommand, { SecretId: PIN_SECRET_ARN }).resolves({ SecretString: JSON.stringify({ pin: `${env().PKCS11_PIN}\n` }) });
      expect(await readPin(source({ PinJsonField: 'pin', KeyLabel: 'x' }))).toBe(env().PKCS11_PIN);
    });

    test('a missing secret is named in the error', async () => {
      secrets.on(GetSecretValueCommand).rejects(Object.assign(new Error('nope'), { name: 'ResourceNotFoundException' }));
      await expect(readPin(source({ KeyLabel: 'x' }))).rejects.toThrow(`the HSM PIN secret ${PIN_SECRET_ARN} was not found`);
    });
  });

  describe('the koffi binding of C_WrapKey (the one call pkcs11js cannot make)', () => {
    test(`reaches SoftHSM with pkcs11js's session and key handles: ${softHsmVersion() === '2.6' ? '2.6.1 answers CKR_MECHANISM_INVALID' : `${softHsmVersion()} gets past the session check`}, a bogus session CKR_SESSION_HANDLE_INVALID`, () => {
      const module = loadModule(env().PKCS11_MODULE);
      expect(module.rsaAesKeyWrap).toBeDefined();
      const label = HsmAdmin.label('aes-koffi');
      const key = admin.generateAes(label);
      const wrappingKey = admin.generateAes(HsmAdmin.label('aes-koffi-wrapper'));
      const params = { aesKeyBits: 256, hashAlg: C.CKM_SHA_1, mgf: C.CKG_MGF1_SHA1 };
      // SoftHSM checks the session first, then the mechanism: reaching the mechanism check proves
      // koffi passed the real session handle through the same loaded library.
      const call = (session: Buffer) => admin.run(() => {
        try {
          module.rsaAesKeyWrap!(session, params, admin.handle(wrappingKey), admin.handle(key), 4096);
          return 0;
        } catch (e) {
          return (e as { code: number }).code;
        }
      });
      if (admin.libraryVersion() === '2.6') expect(call(admin.session)).toBe(C.CKR.MECHANISM_INVALID);
      else expect(call(admin.session)).not.toBe(C.CKR.SESSION_HANDLE_INVALID);
      const bogus = Buffer.alloc(admin.session.length);
      bogus.writeUInt32LE(0x7ffffff0, 0);
      expect(call(bogus)).toBe(C.CKR.SESSION_HANDLE_INVALID);
    });
  });
});

/** AES-256-ECB of one zero block: the usual key check value. */
function aesKcv(key: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  return Buffer.concat([cipher.update(Buffer.alloc(16)), cipher.final()]);
}

/**
 * A real HSM's RSA_AES_KEY_WRAP of a private key carries exactly its PKCS#8 DER. SoftHSM 2.6.1's
 * carries the DER plus 0-7 zero bytes of its own padding (see kms-side.ts): accept exactly that,
 * and only on 2.6.
 */
function expectExactOrSoftHsm261Padded(plain: Buffer): { der: Buffer; padding: number } {
  const result = stripSoftHsm261Padding(plain);
  if (softHsmVersion() !== '2.6') expect(result.padding).toBe(0);
  if (result.padding > 0) {
    expect(plain.length % 8).toBe(0);
    expect(result.padding).toBeLessThan(8);
  }
  return result;
}
