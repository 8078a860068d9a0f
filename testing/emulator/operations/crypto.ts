/**
 * Cryptographic operations computed with the key's (imported) material, so a test can prove that
 * the material that arrived is the material that was sent: Encrypt, Decrypt, ReEncrypt,
 * GenerateDataKey(WithoutPlaintext), GenerateMac/VerifyMac, Sign/Verify, GetPublicKey.
 *
 * Every one needs an Enabled key: PendingImport → KMSInvalidStateException `<arn> is pending
 * import.`, Disabled → DisabledException `<arn> is disabled.` (AWS-rec; "Key states of AWS KMS keys", AWS KMS Developer Guide).
 */
import * as crypto from 'crypto';
import { keyArn } from '../arn';
import { openSymmetric, parseSymmetric, sealSymmetric } from '../ciphertext';
import { Handler, RequestContext } from '../context';
import { KmsError, incorrectKey, invalidCiphertext, invalidKeyUsage, notFound, unsupported, validation } from '../errors';
import { currentMaterial } from '../lifecycle';
import { privateKeyOf } from '../material';
import { requireEnabled, resolveKey } from '../resolve';
import { digestLength, sign, verify } from '../signing';
import { ENCRYPTION_ALGORITHMS, EncryptionAlgorithm, KeyUsage, MAC_ALGORITHMS, SIGNING_ALGORITHMS, SigningAlgorithm, algorithmsFor, hmacBits, keyFamily } from '../specs';
import type { KmsKey } from '../state';
import { KEY_ID, type Input } from '../validation';

/** Resolves a key (aliases allowed) that must be Enabled and have `usage`. */
function usableKey(ctx: RequestContext, keyId: string, usage: KeyUsage, operation: string, action?: string): KmsKey {
  const key = resolveKey(ctx, keyId, { aliases: true, action });
  requireEnabled(key);
  // AWS-rec: "<arn> key usage is SIGN_VERIFY which is not valid for Encrypt."
  if (key.keyUsage !== usage) throw invalidKeyUsage(`${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`);
  return key;
}

/** AWS-rec: "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224." */
function incompatible(algorithm: string, key: KmsKey): KmsError {
  return invalidKeyUsage(`Algorithm ${algorithm} is incompatible with key spec ${key.keySpec}.`);
}

function supports(key: KmsKey, algorithm: string): boolean {
  const lists = algorithmsFor(key.keySpec, key.keyUsage);
  return [lists.EncryptionAlgorithms, lists.SigningAlgorithms, lists.MacAlgorithms].some((l) => l?.includes(algorithm));
}

/** The bytes of the CURRENT material (an Enabled key always has them). */
function currentBytes(key: KmsKey): { material: Buffer; keyMaterialId: string } {
  const m = currentMaterial(key);
  if (!m?.material) throw unsupported(`The KMS emulator does not implement cryptography with ${key.keySpec} keys.`);
  return { material: m.material, keyMaterialId: m.keyMaterialId };
}

function asymmetricKey(key: KmsKey): crypto.KeyObject {
  if (['SM2', 'ED25519', 'ML_DSA', 'ML_KEM'].includes(keyFamily(key.keySpec))) {
    throw unsupported(`The KMS emulator does not implement cryptography with ${key.keySpec} keys.`);
  }
  return privateKeyOf(currentBytes(key).material);
}

/** DryRun: every check ran; the call would have succeeded (AWS-rec message). */
function dryRun(input: Input): void {
  if (input.boolean('DryRun')) throw new KmsError('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.');
}

function oaepHashOf(algorithm: EncryptionAlgorithm): 'sha1' | 'sha256' {
  return algorithm === 'RSAES_OAEP_SHA_1' ? 'sha1' : 'sha256';
}

interface Encrypted {
  blob: Buffer;
  keyMaterialId?: string;
}

function encryptWith(key: KmsKey, plaintext: Buffer, context: Record<string, string> | undefined, algorithm: EncryptionAlgorithm): Encrypted {
  if (!supports(key, algorithm)) throw incompatible(algorithm, key);
  if (keyFamily(key.keySpec) === 'SYMMETRIC') {
    const { material, keyMaterialId } = currentBytes(key);
    return { blob: sealSymmetric({ account: key.account, keyId: key.keyId, keyMaterialId }, material, plaintext, context), keyMaterialId };
  }
  const privateKey = asymmetricKey(key);
  const k = privateKey.asymmetricKeyDetails!.modulusLength! / 8;
  const hLen = algorithm === 'RSAES_OAEP_SHA_1' ? 20 : 32;
  const max = k - 2 * hLen - 2;
  // AWS-rec: "Algorithm RSAES_OAEP_SHA_256 and key spec RSA_2048 cannot encrypt data larger than 190 bytes."
  if (plaintext.length > max) throw validation(`Algorithm ${algorithm} and key spec ${key.keySpec} cannot encrypt data larger than ${max} bytes.`);
  const blob = crypto.publicEncrypt(
    { key: crypto.createPublicKey(privateKey), padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHashOf(algorithm) },
    plaintext,
  );
  return { blob };
}

interface Decrypted {
  key: KmsKey;
  plaintext: Buffer;
  keyMaterialId?: string;
}

/**
 * Symmetric blobs name their key and material (see ciphertext.ts), so KeyId is optional and a
 * NON_CURRENT material still decrypts. Asymmetric ciphertext needs the KeyId and algorithm.
 */
function decryptWith(
  ctx: RequestContext,
  keyId: string | undefined,
  blob: Buffer,
  context: Record<string, string> | undefined,
  algorithm: EncryptionAlgorithm,
  operation: string,
): Decrypted {
  // ReEncrypt is authorized as kms:ReEncryptFrom on the source key and kms:ReEncryptTo on the destination.
  const action = operation === 'ReEncrypt' ? 'kms:ReEncryptFrom' : undefined;
  if (algorithm === 'SYMMETRIC_DEFAULT') {
    const parsed = parseSymmetric(blob);
    if (!parsed) throw invalidCiphertext();
    let key: KmsKey;
    if (keyId !== undefined) {
      key = resolveKey(ctx, keyId, { aliases: true, action });
      // AWS-rec: IncorrectKeyException when KeyId names another key than the ciphertext's.
      if (key.keyId !== parsed.keyId || key.account !== parsed.account) throw incorrectKey();
    } else {
      const found = ctx.state.store(parsed.account, ctx.region).keys.get(parsed.keyId);
      if (!found) throw notFound(`Key '${keyArn(parsed.account, ctx.region, parsed.keyId)}' does not exist`);
      key = found;
      ctx.authz.key(key, { action: action ?? 'kms:Decrypt' });
    }
    requireEnabled(key);
    if (key.keyUsage !== 'ENCRYPT_DECRYPT') throw invalidKeyUsage(`${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`);
    const m = key.materials.find((x) => x.keyMaterialId === parsed.keyMaterialId);
    if (!m?.material) throw invalidCiphertext();
    return { key, plaintext: openSymmetric(parsed, m.material, context), keyMaterialId: m.keyMaterialId };
  }
  if (keyId === undefined) throw invalidCiphertext();
  const key = usableKey(ctx, keyId, 'ENCRYPT_DECRYPT', operation, action);
  if (!supports(key, algorithm)) throw incompatible(algorithm, key);
  try {
    const plaintext = crypto.privateDecrypt({ key: asymmetricKey(key), padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHashOf(algorithm) }, blob);
    return { key, plaintext };
  } catch (e) {
    if (e instanceof KmsError) throw e;
    throw invalidCiphertext();
  }
}

const encrypt: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  const plaintext = input.blob('Plaintext', { required: true, max: 4096 });
  const context = input.stringMap('EncryptionContext');
  const algorithm = input.enumValue('EncryptionAlgorithm', ENCRYPTION_ALGORITHMS) ?? 'SYMMETRIC_DEFAULT';
  input.stringList('GrantTokens');
  input.done();
  const key = usableKey(ctx, keyId, 'ENCRYPT_DECRYPT', 'Encrypt');
  const { blob } = encryptWith(key, plaintext, context, algorithm);
  dryRun(input);
  return { CiphertextBlob: blob.toString('base64'), KeyId: key.arn, EncryptionAlgorithm: algorithm };
};

const decrypt: Handler = (ctx, input) => {
  const blob = input.blob('CiphertextBlob', { required: true, max: 6144 });
  const context = input.stringMap('EncryptionContext');
  const keyId = input.string('KeyId', { min: 1, max: 2048 });
  const algorithm = input.enumValue('EncryptionAlgorithm', ENCRYPTION_ALGORITHMS) ?? 'SYMMETRIC_DEFAULT';
  input.stringList('GrantTokens');
  input.done();
  const out = decryptWith(ctx, keyId, blob, context, algorithm, 'Decrypt');
  dryRun(input);
  return { KeyId: out.key.arn, Plaintext: out.plaintext.toString('base64'), EncryptionAlgorithm: algorithm, KeyMaterialId: out.keyMaterialId };
};

const reEncrypt: Handler = (ctx, input) => {
  const blob = input.blob('CiphertextBlob', { required: true, max: 6144 });
  const sourceContext = input.stringMap('SourceEncryptionContext');
  const sourceKeyId = input.string('SourceKeyId', { min: 1, max: 2048 });
  const destinationKeyId = input.string('DestinationKeyId', KEY_ID);
  const destinationContext = input.stringMap('DestinationEncryptionContext');
  const sourceAlgorithm = input.enumValue('SourceEncryptionAlgorithm', ENCRYPTION_ALGORITHMS) ?? 'SYMMETRIC_DEFAULT';
  const destinationAlgorithm = input.enumValue('DestinationEncryptionAlgorithm', ENCRYPTION_ALGORITHMS) ?? 'SYMMETRIC_DEFAULT';
  input.stringList('GrantTokens');
  input.done();
  const source = decryptWith(ctx, sourceKeyId, blob, sourceContext, sourceAlgorithm, 'ReEncrypt');
  const destination = usableKey(ctx, destinationKeyId, 'ENCRYPT_DECRYPT', 'ReEncrypt', 'kms:ReEncryptTo');
  const out = encryptWith(destination, source.plaintext, destinationContext, destinationAlgorithm);
  source.plaintext.fill(0);
  dryRun(input);
  return {
    CiphertextBlob: out.blob.toString('base64'),
    SourceKeyId: source.key.arn,
    KeyId: destination.arn,
    SourceEncryptionAlgorithm: sourceAlgorithm,
    DestinationEncryptionAlgorithm: destinationAlgorithm,
    SourceKeyMaterialId: source.keyMaterialId,
    DestinationKeyMaterialId: out.keyMaterialId,
  };
};

function generateDataKey(withPlaintext: boolean): Handler {
  const operation = withPlaintext ? 'GenerateDataKey' : 'GenerateDataKeyWithoutPlaintext';
  return (ctx, input) => {
    const keyId = input.string('KeyId', KEY_ID);
    const context = input.stringMap('EncryptionContext');
    const numberOfBytes = input.integer('NumberOfBytes', { min: 1, max: 1024 });
    const spec = input.enumValue('KeySpec', ['AES_256', 'AES_128'] as const);
    input.stringList('GrantTokens');
    input.done();
    if ((numberOfBytes === undefined) === (spec === undefined)) throw validation('Please specify either number of bytes or key spec.');
    const key = usableKey(ctx, keyId, 'ENCRYPT_DECRYPT', operation);
    if (keyFamily(key.keySpec) !== 'SYMMETRIC') throw invalidKeyUsage(`${key.arn} key spec is ${key.keySpec} which is not valid for ${operation}.`);
    const plaintext = crypto.randomBytes(numberOfBytes ?? (spec === 'AES_128' ? 16 : 32));
    const out = encryptWith(key, plaintext, context, 'SYMMETRIC_DEFAULT');
    dryRun(input);
    const response: Record<string, unknown> = { CiphertextBlob: out.blob.toString('base64'), KeyId: key.arn, KeyMaterialId: out.keyMaterialId };
    if (withPlaintext) response.Plaintext = plaintext.toString('base64');
    return response;
  };
}

function readMac(input: Input) {
  return {
    keyId: input.string('KeyId', KEY_ID),
    message: input.blob('Message', { required: true, max: 4096 }),
    algorithm: input.enumValue('MacAlgorithm', MAC_ALGORITHMS, true),
  };
}

function computeMac(ctx: RequestContext, keyId: string, algorithm: string, message: Buffer, operation: string) {
  const key = usableKey(ctx, keyId, 'GENERATE_VERIFY_MAC', operation);
  if (algorithm !== `HMAC_SHA_${hmacBits(key.keySpec)}`) throw incompatible(algorithm, key);
  const mac = crypto.createHmac(`sha${hmacBits(key.keySpec)}`, currentBytes(key).material).update(message).digest();
  return { key, mac };
}

const generateMac: Handler = (ctx, input) => {
  const { keyId, message, algorithm } = readMac(input);
  input.stringList('GrantTokens');
  input.done();
  const { key, mac } = computeMac(ctx, keyId, algorithm, message, 'GenerateMac');
  dryRun(input);
  return { Mac: mac.toString('base64'), MacAlgorithm: algorithm, KeyId: key.arn };
};

const verifyMac: Handler = (ctx, input) => {
  const { keyId, message, algorithm } = readMac(input);
  const given = input.blob('Mac', { required: true, max: 6144 });
  input.stringList('GrantTokens');
  input.done();
  const { key, mac } = computeMac(ctx, keyId, algorithm, message, 'VerifyMac');
  dryRun(input);
  // A wrong MAC is an error, not MacValid=false: KMSInvalidMacException without message (AWS-rec).
  if (given.length !== mac.length || !crypto.timingSafeEqual(given, mac)) throw new KmsError('KMSInvalidMacException');
  return { KeyId: key.arn, MacValid: true, MacAlgorithm: algorithm };
};

function readSigning(ctx: RequestContext, input: Input, operation: 'Sign' | 'Verify') {
  const keyId = input.string('KeyId', KEY_ID);
  const message = input.blob('Message', { required: true, max: 4096 });
  const messageType = input.enumValue('MessageType', ['RAW', 'DIGEST'] as const) ?? 'RAW';
  const algorithm = input.enumValue('SigningAlgorithm', SIGNING_ALGORITHMS, true);
  const signature = operation === 'Verify' ? input.blob('Signature', { required: true, max: 6144 }) : undefined;
  input.stringList('GrantTokens');
  input.done();
  const key = usableKey(ctx, keyId, 'SIGN_VERIFY', operation);
  if (!supports(key, algorithm)) throw incompatible(algorithm, key);
  const isDigest = messageType === 'DIGEST';
  // AWS-rec: "Digest is invalid length for algorithm ECDSA_SHA_256."
  if (isDigest && message.length !== digestLength(algorithm as SigningAlgorithm)) throw validation(`Digest is invalid length for algorithm ${algorithm}.`);
  return { key, message, isDigest, algorithm: algorithm as SigningAlgorithm, signature };
}

const signOperation: Handler = (ctx, input) => {
  const { key, message, isDigest, algorithm } = readSigning(ctx, input, 'Sign');
  const signature = sign(algorithm, asymmetricKey(key), message, isDigest);
  dryRun(input);
  return { KeyId: key.arn, Signature: signature.toString('base64'), SigningAlgorithm: algorithm };
};

const verifyOperation: Handler = (ctx, input) => {
  const { key, message, isDigest, algorithm, signature } = readSigning(ctx, input, 'Verify');
  const valid = verify(algorithm, asymmetricKey(key), message, isDigest, signature!);
  dryRun(input);
  // An invalid signature is KMSInvalidSignatureException without message (AWS-rec).
  if (!valid) throw new KmsError('KMSInvalidSignatureException');
  return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: algorithm };
};

const getPublicKey: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  input.stringList('GrantTokens');
  input.done();
  const key = resolveKey(ctx, keyId, { aliases: true });
  requireEnabled(key);
  const family = keyFamily(key.keySpec);
  if (family === 'SYMMETRIC' || family === 'HMAC') throw unsupported(`${key.arn} key spec is ${key.keySpec} which is not valid for GetPublicKey.`);
  const publicKey = crypto.createPublicKey(privateKeyOf(currentBytes(key).material)).export({ format: 'der', type: 'spki' });
  return {
    KeyId: key.arn,
    PublicKey: publicKey.toString('base64'),
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    KeyUsage: key.keyUsage,
    ...algorithmsFor(key.keySpec, key.keyUsage),
  };
};

/** ECDH with the key's private key and the caller's public key (SubjectPublicKeyInfo DER). */
const deriveSharedSecret: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  const algorithm = input.enumValue('KeyAgreementAlgorithm', ['ECDH'] as const, true);
  const publicKeyDer = input.blob('PublicKey', { required: true, max: 8192 });
  input.stringList('GrantTokens');
  input.structure('Recipient');
  input.boolean('DryRun');
  input.done();
  const key = usableKey(ctx, keyId, 'KEY_AGREEMENT', 'DeriveSharedSecret');
  let peer: crypto.KeyObject;
  try {
    peer = crypto.createPublicKey({ key: publicKeyDer, format: 'der', type: 'spki' });
  } catch {
    throw validation('PublicKey is not a valid DER-encoded SubjectPublicKeyInfo.');
  }
  let secret: Buffer;
  try {
    secret = crypto.diffieHellman({ privateKey: asymmetricKey(key), publicKey: peer });
  } catch {
    throw invalidKeyUsage(`The public key does not match the key spec ${key.keySpec} of ${key.arn}.`);
  }
  dryRun(input);
  return { KeyId: key.arn, SharedSecret: secret.toString('base64'), KeyAgreementAlgorithm: algorithm, KeyOrigin: key.origin };
};

export const cryptoOperations: Record<string, Handler> = {
  DeriveSharedSecret: deriveSharedSecret,
  Encrypt: encrypt,
  Decrypt: decrypt,
  ReEncrypt: reEncrypt,
  GenerateDataKey: generateDataKey(true),
  GenerateDataKeyWithoutPlaintext: generateDataKey(false),
  GenerateMac: generateMac,
  VerifyMac: verifyMac,
  Sign: signOperation,
  Verify: verifyOperation,
  GetPublicKey: getPublicKey,
};
