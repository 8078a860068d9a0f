/**
 * Importing key material: GetParametersForImport, ImportKeyMaterial and DeleteImportedKeyMaterial,
 * as their KMS API reference pages and the AWS KMS Developer Guide's "Importing key material"
 * pages describe them. The order in which ImportKeyMaterial checks its input is inferred.
 */
import * as crypto from 'crypto';
import { Handler, RequestContext, epoch } from '../context';
import { expiredImportToken, incorrectKeyMaterial, invalidImportToken, invalidState, notFound, unsupported, validation } from '../errors';
import { currentMaterial, deleteMaterial, isImported, pendingMaterial, syncPendingRotation } from '../lifecycle';
import { readTlv, TAG_SEQUENCE } from '../der';
import { canonicalKeyMaterial, keyMaterialId, sha256Hex, unwrapKeyMaterial } from '../material';
import { rejectStates, requireOrigin, resolveKey } from '../resolve';
import { KeySpec, WRAPPING_ALGORITHMS, WRAPPING_KEY_SPECS, WrappingAlgorithm, WrappingKeySpec, isChinaRegion, keyFamily } from '../specs';
import type { ExpirationModel, KeyMaterialRecord, KmsKey } from '../state';
import { KEY_ID } from '../validation';
import type { RsaWrappingKeySpec } from '../wrapping-keys';

const KEY_MATERIAL_ID = { min: 64, max: 64, pattern: /^[a-f0-9]+$/ } as const;
const EXPIRATION_MODELS = ['KEY_MATERIAL_EXPIRES', 'KEY_MATERIAL_DOES_NOT_EXPIRE'] as const;
const IMPORT_TYPES = ['NEW_KEY_MATERIAL', 'EXISTING_KEY_MATERIAL'] as const;

/** "Each public key and import token set is valid for 24 hours" (GetParametersForImport API reference). */
const PARAMETERS_VALIDITY_MS = 24 * 3600 * 1000;
/** ValidTo: "The maximum value is 365 days from the request date" (ImportKeyMaterial API reference). */
const MAX_VALID_TO_MS = 365 * 86_400_000;
/** The JS SDK rounds ValidTo to whole seconds, so "now + 365 days" may land half a second beyond. */
const VALID_TO_TOLERANCE_MS = 1000;

const getParametersForImport: Handler = async (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  const algorithm = input.enumValue('WrappingAlgorithm', WRAPPING_ALGORITHMS, true);
  const wrappingKeySpec = input.enumValue('WrappingKeySpec', WRAPPING_KEY_SPECS, true);
  input.done();

  const key = resolveKey(ctx, keyId);
  requireOrigin(key, 'EXTERNAL');
  // PendingImport, Enabled and Disabled may all fetch parameters (to import or re-import).
  rejectStates(key, ['PendingDeletion', 'PendingReplicaDeletion', 'Creating', 'Updating']);
  checkWrappingCombination(ctx, key.keySpec, algorithm, wrappingKeySpec);

  const pair = await ctx.wrappingKeys.take(wrappingKeySpec as RsaWrappingKeySpec);
  // An opaque random token, bound server-side to everything it was issued for.
  const token = crypto.randomBytes(1600);
  const validTo = new Date(ctx.now.getTime() + PARAMETERS_VALIDITY_MS);
  ctx.state.tokens.set(sha256Hex(token), { keyArn: key.arn, wrappingAlgorithm: algorithm, wrappingKeySpec, privateKey: pair.privateKey, validTo, used: false });
  return { KeyId: key.arn, ImportToken: token.toString('base64'), PublicKey: pair.publicKeyDer.toString('base64'), ParametersValidTo: epoch(validTo) };
};

/**
 * The wrapping algorithm × key material matrix (GetParametersForImport API reference). Where and how AWS rejects a wrong
 * combination is not documented; the emulator rejects it here, with UnsupportedOperationException.
 */
function checkWrappingCombination(ctx: RequestContext, spec: KeySpec, algorithm: WrappingAlgorithm, wrappingKeySpec: WrappingKeySpec): void {
  const china = isChinaRegion(ctx.region);
  const family = keyFamily(spec);
  const rsaAes = algorithm.startsWith('RSA_AES_KEY_WRAP');
  const oaep = algorithm.startsWith('RSAES_OAEP');
  if (algorithm === 'RSAES_PKCS1_V1_5') {
    throw unsupported('As of October 10, 2023, AWS KMS does not support the RSAES_PKCS1_V1_5 wrapping algorithm.');
  }
  if ((algorithm === 'SM2PKE' || wrappingKeySpec === 'SM2') && !china) {
    throw unsupported(`The ${algorithm === 'SM2PKE' ? 'SM2PKE wrapping algorithm' : 'SM2 wrapping key spec'} is supported only in China Regions.`);
  }
  if ((algorithm === 'SM2PKE') !== (wrappingKeySpec === 'SM2')) {
    throw unsupported(`Wrapping algorithm ${algorithm} cannot be used with wrapping key spec ${wrappingKeySpec}.`);
  }
  if (rsaAes && china) throw unsupported(`The ${algorithm} wrapping algorithm is not supported in China Regions.`);
  const reject = () => {
    throw unsupported(`Wrapping algorithm ${algorithm} cannot be used to import key material for a ${spec} KMS key.`);
  };
  switch (family) {
    case 'RSA':
      // RSA private keys never fit one RSA-OAEP block.
      if (oaep) reject();
      break;
    case 'SYMMETRIC':
    case 'HMAC':
      if (rsaAes && !ctx.config.allowRsaAesForSymmetric) reject();
      if (algorithm === 'SM2PKE' && family === 'HMAC') reject();
      break;
    case 'ECC':
      // A P-521 PKCS#8 blob (~241 bytes) does not fit RSA_2048 OAEP (190/214 bytes).
      if (spec === 'ECC_NIST_P521' && wrappingKeySpec === 'RSA_2048' && oaep) reject();
      break;
    case 'SM2':
      if (rsaAes) reject();
      break;
  }
  // SM2PKE (GM/T 0003.4) is real in the China Regions but node's crypto cannot decrypt it.
  if (algorithm === 'SM2PKE') throw unsupported('The KMS emulator does not implement the SM2PKE wrapping algorithm.');
}

/** Key states ImportKeyMaterial refuses ("Key states of AWS KMS keys"; Disabled is accepted). */
const IMPORT_REJECTED_STATES: Parameters<typeof rejectStates>[1] = ['PendingDeletion', 'PendingReplicaDeletion', 'Creating'];

const importKeyMaterial: Handler = async (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  const token = input.blob('ImportToken', { required: true, max: 6144 });
  const encrypted = input.blob('EncryptedKeyMaterial', { required: true, max: 6144 });
  const validTo = input.timestamp('ValidTo');
  const expirationModel: ExpirationModel = input.enumValue('ExpirationModel', EXPIRATION_MODELS) ?? 'KEY_MATERIAL_EXPIRES';
  const importType = input.enumValue('ImportType', IMPORT_TYPES);
  const description = input.string('KeyMaterialDescription', { max: 256, pattern: /^[a-zA-Z0-9:/_\s.-]+$/ });
  const materialIdIn = input.string('KeyMaterialId', KEY_MATERIAL_ID);
  input.done();

  // 1. Parameter rules (ImportKeyMaterial API reference). Only the first message is recorded from AWS.
  const now = ctx.now.getTime();
  if (expirationModel === 'KEY_MATERIAL_EXPIRES' && !validTo) throw validation('A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES');
  if (expirationModel === 'KEY_MATERIAL_DOES_NOT_EXPIRE' && validTo) {
    throw validation('A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE');
  }
  if (validTo && validTo.getTime() <= now) throw validation('The validTo date must be in the future.');
  if (validTo && validTo.getTime() > now + MAX_VALID_TO_MS + VALID_TO_TOLERANCE_MS) {
    throw validation('The validTo date must be no more than 365 days from the request date.');
  }
  if (materialIdIn && importType === 'NEW_KEY_MATERIAL') throw validation('You cannot specify a key material ID with ImportType set to NEW_KEY_MATERIAL.');

  // 2.–4. Key, origin, state. Disabled keys are accepted (AWS's pages disagree; README.md "Choices").
  const key = resolveKey(ctx, keyId);
  requireOrigin(key, 'EXTERNAL');
  rejectStates(key, IMPORT_REJECTED_STATES);
  const symmetric = keyFamily(key.keySpec) === 'SYMMETRIC';
  // ImportType, KeyMaterialId and KeyMaterialDescription are "only usable with symmetric encryption keys" (API reference).
  if (!symmetric && (importType !== undefined || materialIdIn !== undefined || description !== undefined)) {
    throw unsupported(`ImportType, KeyMaterialId and KeyMaterialDescription can be used only with symmetric encryption KMS keys; ${key.arn} is ${key.keySpec}.`);
  }

  // 5. Token: known, for this key, unused; then not expired.
  const record = ctx.state.tokens.get(sha256Hex(token));
  if (!record || record.keyArn !== key.arn || record.used) throw invalidImportToken();
  if (record.validTo.getTime() <= now) throw expiredImportToken();

  // 6.–7. Unwrap, then check the material against the key spec.
  const unwrapped = await unwrapKeyMaterial(record.wrappingAlgorithm, record.privateKey, encrypted);
  const plaintext = ctx.config.acceptZeroPaddedPkcs8 ? withoutZeroPadding(unwrapped) : unwrapped;
  let canonical: Buffer;
  try {
    // The unwrap ran on node's thread pool: another request may have spent the token or changed
    // the key's state meanwhile.
    if (record.used) throw invalidImportToken();
    rejectStates(key, IMPORT_REJECTED_STATES);
    canonical = canonicalKeyMaterial(key.keySpec, key.region, plaintext);
  } finally {
    plaintext.fill(0);
  }

  // 8. Which material this is, and whether the key accepts it.
  const id = keyMaterialId(key.keyId, canonical);
  const target = chooseTarget(ctx, key, { id, fingerprint: sha256Hex(canonical), importType, materialIdIn, description });

  // 9. Commit.
  target.material = canonical;
  target.expirationModel = expirationModel;
  target.validTo = expirationModel === 'KEY_MATERIAL_EXPIRES' ? validTo : undefined;
  if (description !== undefined) target.description = description;
  key.everImported = true;
  record.used = true;
  syncPendingRotation(ctx.state, key);
  return symmetric ? { KeyId: key.arn, KeyMaterialId: id } : { KeyId: key.arn };
};

interface Candidate {
  id: string;
  fingerprint: string;
  importType?: (typeof IMPORT_TYPES)[number];
  materialIdIn?: string;
  description?: string;
}

/**
 * The material record an import lands in (ImportKeyMaterial API reference; "Importing key material
 * into multi-Region keys", AWS KMS Developer Guide):
 * - asymmetric/HMAC keys: one material ever; a re-import must be identical;
 * - multi-Region replicas: only material the primary has (their records are inherited);
 * - symmetric keys: first import → CURRENT; then EXISTING_KEY_MATERIAL (the default) re-imports an
 *   associated material, NEW_KEY_MATERIAL adds the one material pending rotation.
 */
function chooseTarget(ctx: RequestContext, key: KmsKey, c: Candidate): KeyMaterialRecord {
  const existing = key.materials.find((m) => m.keyMaterialId === c.id);
  const checkRequestedId = () => {
    if (c.materialIdIn !== undefined && c.materialIdIn !== c.id) {
      throw incorrectKeyMaterial(`The key material in the request does not match the key material ID ${c.materialIdIn}.`);
    }
  };
  const fresh = (state: KeyMaterialRecord['state']): KeyMaterialRecord => {
    const m: KeyMaterialRecord = { keyMaterialId: c.id, fingerprint: c.fingerprint, state };
    key.materials.push(m);
    return m;
  };

  if (keyFamily(key.keySpec) !== 'SYMMETRIC') {
    if (key.materials.length === 0) return fresh('CURRENT');
    if (!existing) throw incorrectKeyMaterial('The key material in the request is not the same key material that was previously imported into this KMS key.');
    return existing;
  }

  if (key.multiRegion?.type === 'REPLICA') {
    // "You cannot directly import new key material into the replica Region keys" (ImportKeyMaterial API reference).
    if (c.importType === 'NEW_KEY_MATERIAL' && key.everImported) {
      throw unsupported(`You cannot import new key material into the multi-Region replica key ${key.arn}; import it into the primary key.`);
    }
    if (!existing) throw incorrectKeyMaterial(`The key material in the request is not key material of the multi-Region primary key of ${key.arn}.`);
    checkRequestedId();
    return existing;
  }

  if (key.materials.length === 0) {
    // The first import becomes CURRENT whatever ImportType says (AWS-rec).
    checkRequestedId();
    const m = fresh('CURRENT');
    m.description = c.description;
    return m;
  }

  if ((c.importType ?? 'EXISTING_KEY_MATERIAL') === 'EXISTING_KEY_MATERIAL') {
    if (!existing) throw incorrectKeyMaterial('The key material in the request is not associated with this KMS key. To import new key material, set ImportType to NEW_KEY_MATERIAL.');
    checkRequestedId();
    return existing;
  }

  if (existing) throw incorrectKeyMaterial('KMS expected new key material but the key material being imported is already associated with the KMS key.');
  const pending = pendingMaterial(key);
  if (pending) {
    // AWS-rec message; the key is named by its ARN.
    throw invalidState(
      `New key material (id: ${c.id}) cannot be imported into KMS key ${key.arn}, because another key material (id: ${pending.keyMaterialId}) is pending rotation.`,
    );
  }
  const m = fresh('PENDING_ROTATION');
  m.description = c.description;
  // A multi-Region primary hands the new material's id and description (not its bytes) to its replicas.
  for (const replica of ctx.state.replicasOf(key)) {
    replica.materials.push({ keyMaterialId: c.id, fingerprint: c.fingerprint, state: 'PENDING_MULTI_REGION_IMPORT_AND_ROTATION', description: c.description });
  }
  return m;
}

const deleteImportedKeyMaterial: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  const materialIdIn = input.string('KeyMaterialId', KEY_MATERIAL_ID);
  input.done();

  const key = resolveKey(ctx, keyId);
  requireOrigin(key, 'EXTERNAL');
  rejectStates(key, ['Creating', 'Updating']);
  const target = materialIdIn === undefined ? currentMaterial(key) : key.materials.find((m) => m.keyMaterialId === materialIdIn);
  if (materialIdIn !== undefined && !target) throw notFound(`Key material (id: ${materialIdIn}) does not exist for KMS key ${key.arn}.`);
  // A key already PendingImport (or material already deleted): no effect (DeleteImportedKeyMaterial API reference).
  if (target && isImported(target)) deleteMaterial(ctx.state, key, target);
  return keyFamily(key.keySpec) === 'SYMMETRIC' && target ? { KeyId: key.arn, KeyMaterialId: target.keyMaterialId } : { KeyId: key.arn };
};

export const importOperations: Record<string, Handler> = {
  GetParametersForImport: getParametersForImport,
  ImportKeyMaterial: importKeyMaterial,
  DeleteImportedKeyMaterial: deleteImportedKeyMaterial,
};

/**
 * Removes the zero padding SoftHSM 2.6.1 puts after a DER structure before RFC 5649 wrapping, when
 * it is provably padding: the DER length ends the structure, 1-7 zero bytes follow, and the total
 * is a multiple of 8. Anything else is returned as it is (and judged strictly).
 */
function withoutZeroPadding(plaintext: Buffer): Buffer {
  if (plaintext.length % 8 !== 0) return plaintext;
  let end: number;
  try {
    const outer = readTlv(plaintext, 0);
    if (outer.tag !== TAG_SEQUENCE) return plaintext;
    end = outer.end;
  } catch {
    return plaintext;
  }
  const tail = plaintext.subarray(end);
  return end < plaintext.length && tail.length < 8 && tail.every((b) => b === 0) ? plaintext.subarray(0, end) : plaintext;
}
