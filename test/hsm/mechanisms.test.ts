import { randomBytes } from 'crypto';
import { Pkcs11SourceProperties } from '../../lib/private/contract';
import { describePkcs11Source, preparePkcs11Source } from '../../lambda/sources/pkcs11';
import * as C from '../../lambda/sources/pkcs11/constants';
import { sourceContext } from './source-context';
import { FakeModule, FakeOptions } from './fake-module';
import { kmsUnwrap, wrappingKeyPair } from './kms-side';

/**
 * The exact PKCS#11 calls the source makes, against a module written in JavaScript (fake-module.ts).
 * This is where the SHA-256 algorithms and native CKM_RSA_AES_KEY_WRAP are covered: SoftHSM
 * refuses OAEP with SHA-256 and has no CKM_RSA_AES_KEY_WRAP (2.6.1), or silently uses SHA-1 for
 * it (2.7.0), so it cannot show that the right parameters are sent.
 */

const PIN = 'fake-pin-7f3a';
const SOURCE: Pkcs11SourceProperties = {
  Type: 'Pkcs11',
  ModulePath: '/opt/hsm/libpkcs11.so',
  TokenLabel: 'fake-token',
  PinSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:pin-AbCdEf',
  KeyLabel: 'partner-key',
};

/** An AES-256 key "in" a fake HSM, and the source prepared against it. */
async function setup(options: FakeOptions = {}, keySpec = 'SYMMETRIC_DEFAULT') {
  const hsm = new FakeModule(options);
  const value = randomBytes(keySpec === 'SYMMETRIC_DEFAULT' ? 32 : 64);
  const target = hsm.addKey({
    [C.CKA_CLASS]: C.CKO_SECRET_KEY, [C.CKA_KEY_TYPE]: keySpec === 'SYMMETRIC_DEFAULT' ? C.CKK_AES : C.CKK_GENERIC_SECRET,
    [C.CKA_LABEL]: 'partner-key', [C.CKA_VALUE_LEN]: value.length, [C.CKA_EXTRACTABLE]: true, [C.CKA_SENSITIVE]: true,
  }, value);
  const module = hsm.module();
  const prepared = await preparePkcs11Source(SOURCE, sourceContext(keySpec, 'aws'), { loadModule: () => module, readPin: async () => PIN });
  return { hsm, value, target, prepared };
}

const OAEP_SHA256 = { mechanism: C.CKM_RSA_PKCS_OAEP, parameter: { type: 4, hashAlg: 0x250, mgf: 0x2, source: 0x1 } };
const OAEP_SHA1 = { mechanism: C.CKM_RSA_PKCS_OAEP, parameter: { type: 4, hashAlg: 0x220, mgf: 0x1, source: 0x1 } };

describe('C_WrapKey parameters', () => {
  test('RSAES_OAEP_SHA_256: CKM_RSA_PKCS_OAEP with CKM_SHA256, CKG_MGF1_SHA256, an empty label, under the KMS key imported as a session object', async () => {
    const { hsm, value, target, prepared } = await setup();
    const { publicKeyDer, privateKey } = wrappingKeyPair(2048);
    const wrapped = await prepared.wrap(publicKeyDer, 'RSAES_OAEP_SHA_256');
    await prepared.close();

    const [[, template]] = hsm.callsOf('C_CreateObject') as [unknown, { type: number; value: unknown }[]][];
    const jwk = privateKey.export({ format: 'jwk' });
    expect(template).toEqual(expect.arrayContaining([
      { type: C.CKA_CLASS, value: C.CKO_PUBLIC_KEY },
      { type: C.CKA_KEY_TYPE, value: C.CKK_RSA },
      { type: C.CKA_TOKEN, value: false },
      { type: C.CKA_WRAP, value: true },
      { type: C.CKA_MODULUS, value: Buffer.from(jwk.n!, 'base64url') },
      { type: C.CKA_PUBLIC_EXPONENT, value: Buffer.from(jwk.e!, 'base64url') },
    ]));
    const wraps = hsm.callsOf('C_WrapKey');
    expect(wraps).toHaveLength(1);
    const [, mechanism, wrappingKey, key, outLength] = wraps[0];
    expect(mechanism).toEqual(OAEP_SHA256);
    expect(key).toEqual(target);
    expect(wrappingKey).not.toEqual(target);
    expect(outLength).toBe(256);
    // KMS's unwrap with SHA-256 gives back the HSM's key.
    expect(kmsUnwrap(wrapped, privateKey, 'RSAES_OAEP_SHA_256')).toEqual(value);
  });

  test('RSAES_OAEP_SHA_1: the same with CKM_SHA_1 and CKG_MGF1_SHA1', async () => {
    const { hsm, value, prepared } = await setup();
    const wrapped = await prepared.wrap(wrappingKeyPair(2048).publicKeyDer, 'RSAES_OAEP_SHA_1');
    await prepared.close();
    expect(hsm.callsOf('C_WrapKey')[0][1]).toEqual(OAEP_SHA1);
    expect(kmsUnwrap(wrapped, wrappingKeyPair(2048).privateKey, 'RSAES_OAEP_SHA_1')).toEqual(value);
  });

  test('RSA_AES_KEY_WRAP_SHA_256, native: one CKM_RSA_AES_KEY_WRAP call with ulAESKeyBits 256, CKM_SHA256 and CKG_MGF1_SHA256', async () => {
    const { hsm, value, target, prepared } = await setup({ native: true, mechanisms: [C.CKM_RSA_PKCS_OAEP, C.CKM_RSA_AES_KEY_WRAP, C.CKM_AES_KEY_GEN, C.CKM_AES_KEY_WRAP_PAD] });
    const wrapped = await prepared.wrap(wrappingKeyPair(3072).publicKeyDer, 'RSA_AES_KEY_WRAP_SHA_256');
    await prepared.close();
    const native = hsm.callsOf('C_WrapKey(koffi)');
    expect(native).toHaveLength(1);
    expect(native[0][1]).toEqual({ aesKeyBits: 256, hashAlg: C.CKM_SHA256, mgf: C.CKG_MGF1_SHA256 });
    expect(native[0][3]).toEqual(target);
    // Nothing composed: no AES key generated, no other wrap.
    expect(hsm.callsOf('C_GenerateKey')).toHaveLength(0);
    expect(hsm.callsOf('C_WrapKey')).toHaveLength(0);
    expect(kmsUnwrap(wrapped, wrappingKeyPair(3072).privateKey, 'RSA_AES_KEY_WRAP_SHA_256')).toEqual(value);
  });

  test('RSA_AES_KEY_WRAP_SHA_256, composed: AES-256 session key generated in the HSM, KWP of the target, OAEP-SHA-256 of the AES key, AES key destroyed', async () => {
    const { hsm, value, target, prepared } = await setup();
    const wrapped = await prepared.wrap(wrappingKeyPair(2048).publicKeyDer, 'RSA_AES_KEY_WRAP_SHA_256');
    await prepared.close();

    const [[, generate, template]] = hsm.callsOf('C_GenerateKey') as [unknown, unknown, { type: number; value: unknown }[]][];
    expect(generate).toEqual({ mechanism: C.CKM_AES_KEY_GEN });
    expect(template).toEqual(expect.arrayContaining([
      { type: C.CKA_VALUE_LEN, value: 32 },
      { type: C.CKA_TOKEN, value: false },
      { type: C.CKA_SENSITIVE, value: true },
      { type: C.CKA_EXTRACTABLE, value: true },
      { type: C.CKA_WRAP, value: true },
    ]));
    const [kwpCall, oaepCall] = hsm.callsOf('C_WrapKey');
    const aesKey = kwpCall[2];
    expect(kwpCall[1]).toEqual({ mechanism: C.CKM_AES_KEY_WRAP_PAD });
    expect(kwpCall[3]).toEqual(target);
    expect(oaepCall[1]).toEqual(OAEP_SHA256);
    expect(oaepCall[3]).toEqual(aesKey);
    expect(hsm.callsOf('C_DestroyObject').map((c) => c[1])).toContainEqual(aesKey);
    expect(hsm.objects.size).toBe(1); // only the target key is left
    expect(kmsUnwrap(wrapped, wrappingKeyPair(2048).privateKey, 'RSA_AES_KEY_WRAP_SHA_256')).toEqual(value);
  });

  test('composed RSA-AES prefers PKCS#11 v3.0\'s CKM_AES_KEY_WRAP_KWP where the module offers it', async () => {
    const { hsm, prepared } = await setup({ mechanisms: [C.CKM_RSA_PKCS_OAEP, C.CKM_AES_KEY_GEN, C.CKM_AES_KEY_WRAP_PAD, C.CKM_AES_KEY_WRAP_KWP] });
    await prepared.wrap(wrappingKeyPair(2048).publicKeyDer, 'RSA_AES_KEY_WRAP_SHA_1');
    await prepared.close();
    expect(hsm.callsOf('C_WrapKey')[0][1]).toEqual({ mechanism: C.CKM_AES_KEY_WRAP_KWP });
  });

  test('a module that lists CKM_RSA_AES_KEY_WRAP but answers CKR_MECHANISM_INVALID falls back to the composed wrap', async () => {
    const { hsm, value, prepared } = await setup({
      native: true,
      mechanisms: [C.CKM_RSA_PKCS_OAEP, C.CKM_RSA_AES_KEY_WRAP, C.CKM_AES_KEY_GEN, C.CKM_AES_KEY_WRAP_PAD],
      failures: [{ fn: 'C_WrapKey(koffi)', code: C.CKR.MECHANISM_INVALID }],
    });
    const wrapped = await prepared.wrap(wrappingKeyPair(2048).publicKeyDer, 'RSA_AES_KEY_WRAP_SHA_1');
    await prepared.close();
    expect(hsm.callsOf('C_WrapKey(koffi)')).toHaveLength(1);
    expect(hsm.callsOf('C_WrapKey')).toHaveLength(2);
    expect(kmsUnwrap(wrapped, wrappingKeyPair(2048).privateKey, 'RSA_AES_KEY_WRAP_SHA_1')).toEqual(value);
  });

  test('without koffi in the asset, a module with CKM_RSA_AES_KEY_WRAP is still served, composed', async () => {
    const { hsm, prepared } = await setup({ native: false, mechanisms: [C.CKM_RSA_PKCS_OAEP, C.CKM_RSA_AES_KEY_WRAP, C.CKM_AES_KEY_GEN, C.CKM_AES_KEY_WRAP_PAD] });
    await prepared.wrap(wrappingKeyPair(2048).publicKeyDer, 'RSA_AES_KEY_WRAP_SHA_256');
    await prepared.close();
    expect(hsm.callsOf('C_GenerateKey')).toHaveLength(1);
  });

  test('native RSA-AES refused for SHA-256 says to use RSA_AES_KEY_WRAP_SHA_1', async () => {
    const { prepared } = await setup({ native: true, mechanisms: [C.CKM_RSA_AES_KEY_WRAP], failures: [{ fn: 'C_WrapKey(koffi)', code: C.CKR.MECHANISM_PARAM_INVALID }] });
    expect(() => prepared.wrap(wrappingKeyPair(2048).publicKeyDer, 'RSA_AES_KEY_WRAP_SHA_256')).toThrow(
      "RSA_AES_KEY_WRAP_SHA_256 failed for key 'partner-key' on token 'fake-token': the HSM answered CKR_MECHANISM_PARAM_INVALID (0x71) to RSA-OAEP with SHA-256. This HSM supports only RSA_AES_KEY_WRAP_SHA_1 for RSA-AES wrapping; set wrappingAlgorithm: WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_1");
    await prepared.close();
  });
});

describe('HSMs that cannot do RSA-AES', () => {
  test('neither CKM_RSA_AES_KEY_WRAP nor AES key wrap with padding: a clear error, nothing generated', async () => {
    const { hsm, prepared } = await setup({ mechanisms: [C.CKM_RSA_PKCS_OAEP, C.CKM_AES_KEY_GEN] });
    const error = await Promise.resolve().then(() => prepared.wrap(wrappingKeyPair(2048).publicKeyDer, 'RSA_AES_KEY_WRAP_SHA_1')).catch((e) => e);
    await prepared.close();
    expect(error.code).toBe('WrappingCombination');
    expect(error.message).toContain('this HSM offers neither CKM_RSA_AES_KEY_WRAP nor AES key wrap with padding');
    expect(hsm.callsOf('C_GenerateKey')).toHaveLength(0);
  });

  test('a CKM_AES_KEY_WRAP_PAD that is RFC 3394 + PKCS#7 (48 bytes for a 32-byte key) is caught before KMS sees it', async () => {
    const { hsm, prepared } = await setup({ pkcs7Pad: true });
    const error = await Promise.resolve().then(() => prepared.wrap(wrappingKeyPair(2048).publicKeyDer, 'RSA_AES_KEY_WRAP_SHA_1')).catch((e) => e);
    await prepared.close();
    expect(error.message).toContain('this HSM\'s CKM_AES_KEY_WRAP_PAD is not RFC 5649 AES key wrap with padding (it made 48 bytes from a 32-byte key)');
    expect(hsm.objects.size).toBe(1); // the AES key and the wrapping key are gone
  });
});

describe('cleanup and secrecy', () => {
  test('a failing C_WrapKey (CKR_DEVICE_ERROR) is reported by name; the session objects are destroyed, the user logged out, the session closed', async () => {
    const { hsm, prepared } = await setup({ failures: [{ fn: 'C_WrapKey', code: C.CKR.DEVICE_ERROR }] });
    const error = await Promise.resolve().then(() => prepared.wrap(wrappingKeyPair(2048).publicKeyDer, 'RSAES_OAEP_SHA_1')).catch((e) => e);
    await prepared.close();
    expect(error.message).toBe('the HSM could not wrap key \'partner-key\' on token \'fake-token\' with RSAES_OAEP_SHA_1 (C_WrapKey CKM_RSA_PKCS_OAEP, SHA-1): the HSM answered CKR_DEVICE_ERROR (0x30)');
    expect(hsm.objects.size).toBe(1);
    expect(hsm.loggedIn).toBe(false);
    expect(hsm.openSessions.size).toBe(0);
  });

  test('close still closes the session when C_Logout fails, and a second close does nothing', async () => {
    const { hsm, prepared } = await setup({ failures: [{ fn: 'C_Logout', code: C.CKR.DEVICE_ERROR }] });
    await prepared.close();
    await prepared.close();
    expect(hsm.callsOf('C_CloseSession')).toHaveLength(1);
    expect(hsm.openSessions.size).toBe(0);
  });

  test('the session is closed when preparing fails after it opened (no such key)', async () => {
    const hsm = new FakeModule();
    const module = hsm.module();
    await expect(preparePkcs11Source(SOURCE, sourceContext('SYMMETRIC_DEFAULT', 'aws'), { loadModule: () => module, readPin: async () => PIN }))
      .rejects.toThrow("no secret key matches key 'partner-key' on token 'fake-token'");
    expect(hsm.openSessions.size).toBe(0);
    expect(hsm.callsOf('C_Logout')).toHaveLength(1);
  });

  test('a process already logged in (CKR_USER_ALREADY_LOGGED_IN) is used, and not logged out by the source', async () => {
    const hsm = new FakeModule({ failures: [{ fn: 'C_Login', code: C.CKR.USER_ALREADY_LOGGED_IN }] });
    hsm.addKey({ [C.CKA_CLASS]: C.CKO_SECRET_KEY, [C.CKA_KEY_TYPE]: C.CKK_AES, [C.CKA_LABEL]: 'partner-key', [C.CKA_VALUE_LEN]: 32 }, randomBytes(32));
    const module = hsm.module();
    const prepared = await preparePkcs11Source(SOURCE, sourceContext('SYMMETRIC_DEFAULT', 'aws'), { loadModule: () => module, readPin: async () => PIN });
    await prepared.close();
    expect(hsm.callsOf('C_Logout')).toHaveLength(0);
    expect(hsm.openSessions.size).toBe(0);
  });

  test('the PIN goes to C_Login only, and into no error message', async () => {
    const hsm = new FakeModule({ failures: [{ fn: 'C_Login', code: C.CKR.PIN_INCORRECT }] });
    const module = hsm.module();
    const error = await preparePkcs11Source(SOURCE, sourceContext('SYMMETRIC_DEFAULT', 'aws'), { loadModule: () => module, readPin: async () => PIN }).catch((e) => e);
    expect(error.code).toBe('AccessDenied');
    expect(error.message).not.toContain(PIN);
    expect(hsm.calls.filter((c) => JSON.stringify(c.args).includes(PIN)).map((c) => c.fn)).toEqual(['C_Login']);
    expect(hsm.openSessions.size).toBe(0);
  });

  test('properties without a key name or with a non-hex KeyId are refused before anything is loaded', async () => {
    const loadModule = jest.fn();
    const deps = { loadModule, readPin: async () => PIN };
    await expect(preparePkcs11Source({ ...SOURCE, KeyLabel: undefined }, sourceContext('SYMMETRIC_DEFAULT', 'aws'), deps)).rejects.toThrow('neither KeyLabel nor KeyId');
    await expect(preparePkcs11Source({ ...SOURCE, KeyId: 'xyz' }, sourceContext('SYMMETRIC_DEFAULT', 'aws'), deps)).rejects.toThrow("KeyId 'xyz' is not hexadecimal");
    expect(loadModule).not.toHaveBeenCalled();
  });
});

describe('the constants', () => {
  test('match pkcs11js\'s, where pkcs11js has them', () => {
    const pkcs11js = require('pkcs11js') as Record<string, number>;
    const mine = Object.entries(C).filter(([, v]) => typeof v === 'number') as [string, number][];
    const ckr = Object.entries(C.CKR).map(([k, v]) => [`CKR_${k}`, v] as [string, number]);
    const compared = [...mine, ...ckr].filter(([k]) => pkcs11js[k] !== undefined);
    expect(compared.length).toBeGreaterThan(60);
    expect(Object.fromEntries(compared)).toEqual(Object.fromEntries(compared.map(([k]) => [k, pkcs11js[k]])));
  });
});

describe('what the HSM\'s refusals become', () => {
  test.each([
    [C.CKR.KEY_UNEXTRACTABLE, 'MaterialSource', "key 'partner-key' on token 'fake-token' is not extractable (CKA_EXTRACTABLE=false)"],
    [C.CKR.KEY_NOT_WRAPPABLE, 'MaterialSource', 'CKA_WRAP_WITH_TRUSTED=true'],
    [C.CKR.MECHANISM_INVALID, 'WrappingCombination', 'this HSM does not offer RSA-OAEP (CKM_RSA_PKCS_OAEP) for C_WrapKey'],
  ])('C_WrapKey answering 0x%s gives a %s error', async (code, errorCode, message) => {
    const { prepared } = await setup({ failures: [{ fn: 'C_WrapKey', code }] });
    const error = await Promise.resolve().then(() => prepared.wrap(wrappingKeyPair(2048).publicKeyDer, 'RSAES_OAEP_SHA_1')).catch((e) => e);
    await prepared.close();
    expect(error.code).toBe(errorCode);
    expect(error.message).toContain(message);
    expect(error.message).toContain(C.ckrName(code));
  });

  test('a locked PIN says the security officer must act', async () => {
    const hsm = new FakeModule({ failures: [{ fn: 'C_Login', code: C.CKR.PIN_LOCKED }] });
    const module = hsm.module();
    await expect(preparePkcs11Source(SOURCE, sourceContext('SYMMETRIC_DEFAULT', 'aws'), { loadModule: () => module, readPin: async () => PIN }))
      .rejects.toThrow("the user PIN of token 'fake-token' cannot be used; the token's security officer must reset or initialise it: the HSM answered CKR_PIN_LOCKED (0xa4)");
  });

  test('a write-protected token is used through a read-only session', async () => {
    const { hsm, prepared } = await setup({ failures: [{ fn: 'C_OpenSession', code: C.CKR.TOKEN_WRITE_PROTECTED, mechanism: C.CKF_SERIAL_SESSION | C.CKF_RW_SESSION }] });
    await prepared.wrap(wrappingKeyPair(2048).publicKeyDer, 'RSAES_OAEP_SHA_1');
    await prepared.close();
    expect(hsm.callsOf('C_OpenSession').map((c) => c[1])).toEqual([C.CKF_SERIAL_SESSION | C.CKF_RW_SESSION, C.CKF_SERIAL_SESSION]);
  });

  test('an AES key named for an HMAC key spec is refused with both key types', async () => {
    const hsm = new FakeModule();
    hsm.addKey({ [C.CKA_CLASS]: C.CKO_SECRET_KEY, [C.CKA_KEY_TYPE]: C.CKK_AES, [C.CKA_LABEL]: 'partner-key', [C.CKA_VALUE_LEN]: 32 }, randomBytes(32));
    const module = hsm.module();
    await expect(preparePkcs11Source(SOURCE, sourceContext('HMAC_256', 'aws'), { loadModule: () => module, readPin: async () => PIN }))
      .rejects.toThrow("key 'partner-key' on token 'fake-token' is a CKK_AES secret key; a HMAC_256 key needs a generic secret or HMAC key (CKK_GENERIC_SECRET, CKK_SHA*_HMAC)");
  });

  test('in China (aws-cn) SYMMETRIC_DEFAULT is SM4: any 16-byte secret key type is accepted', async () => {
    const hsm = new FakeModule();
    const CKK_VENDOR_SM4 = 0x80000001;
    const value = randomBytes(16);
    hsm.addKey({ [C.CKA_CLASS]: C.CKO_SECRET_KEY, [C.CKA_KEY_TYPE]: CKK_VENDOR_SM4, [C.CKA_LABEL]: 'partner-key', [C.CKA_VALUE_LEN]: 16 }, value);
    const module = hsm.module();
    const prepared = await preparePkcs11Source(SOURCE, sourceContext('SYMMETRIC_DEFAULT', 'aws-cn'), { loadModule: () => module, readPin: async () => PIN });
    const { publicKeyDer, privateKey } = wrappingKeyPair(2048);
    const wrapped = await prepared.wrap(publicKeyDer, 'RSAES_OAEP_SHA_256');
    await prepared.close();
    expect(kmsUnwrap(wrapped, privateKey, 'RSAES_OAEP_SHA_256')).toEqual(value);
    expect(hsm.openSessions.size).toBe(0);
    // The same key outside China is refused: 16 bytes are not a 256-bit AES key.
    await expect(preparePkcs11Source(SOURCE, sourceContext('SYMMETRIC_DEFAULT', 'aws'), { loadModule: () => module, readPin: async () => PIN }))
      .rejects.toThrow(/key 'partner-key' on token 'fake-token' is a/);
  });

  test('wrap after close is refused, and the source names itself by token and key', async () => {
    const { prepared } = await setup();
    await prepared.close();
    expect(() => prepared.wrap(wrappingKeyPair(2048).publicKeyDer, 'RSAES_OAEP_SHA_1')).toThrow("the HSM session for key 'partner-key' on token 'fake-token' is already closed");
    expect(describePkcs11Source({ ...SOURCE, KeyId: '0a01' })).toBe("HSM key 'partner-key' (CKA_ID 0a01) on token 'fake-token'");
  });

  test('an unknown wrapping algorithm is refused', async () => {
    const { prepared } = await setup();
    expect(() => prepared.wrap(wrappingKeyPair(2048).publicKeyDer, 'RSAES_PKCS1_V1_5')).toThrow("wrapping algorithm 'RSAES_PKCS1_V1_5' is not supported");
    await prepared.close();
  });
});
