/**
 * Shared pieces of the emulator tests: a real SDK client pointed at the emulator, and wrapping of
 * key material written independently of the emulator's unwrapping code (after "Encrypt the key
 * material", AWS KMS Developer Guide), so the two cannot share a mistake.
 */
import { execFile } from 'child_process';
import * as crypto from 'crypto';
import { promisify } from 'util';
import {
  CreateKeyCommand,
  CreateKeyCommandInput,
  GetParametersForImportCommand,
  GetParametersForImportCommandInput,
  ImportKeyMaterialCommand,
  ImportKeyMaterialCommandInput,
  KMSClient,
} from '@aws-sdk/client-kms';
import type { KmsEmulator } from '../../testing/emulator';

export type WrappingAlgorithm = 'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256' | 'RSA_AES_KEY_WRAP_SHA_1' | 'RSA_AES_KEY_WRAP_SHA_256';
export type WrappingKeySpec = 'RSA_2048' | 'RSA_3072' | 'RSA_4096';

export function kmsClient(emu: KmsEmulator, region = 'us-east-1', accessKeyId = 'AKID', maxAttempts?: number): KMSClient {
  return new KMSClient({ endpoint: emu.endpoint, region, credentials: { accessKeyId, secretAccessKey: 'x' }, maxAttempts });
}

/** Wraps material as the AWS guide's OpenSSL recipe does, with node's crypto. */
export function wrapMaterial(algorithm: WrappingAlgorithm, publicKeyDer: Uint8Array, material: Buffer): Buffer {
  const key = crypto.createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' });
  const oaepHash = algorithm.endsWith('SHA_1') ? 'sha1' : 'sha256';
  const oaep = (data: Buffer) => crypto.publicEncrypt({ key, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, data);
  if (algorithm.startsWith('RSAES_OAEP')) return oaep(material);
  const aesKey = crypto.randomBytes(32);
  const kwp = crypto.createCipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('A65959A6', 'hex'));
  return Buffer.concat([oaep(aesKey), kwp.update(material), kwp.final()]);
}

export interface ImportOptions extends Partial<Omit<ImportKeyMaterialCommandInput, 'KeyId' | 'ImportToken' | 'EncryptedKeyMaterial'>> {
  algorithm?: WrappingAlgorithm;
  wrappingKeySpec?: WrappingKeySpec;
}

/** GetParametersForImport, by default RSAES_OAEP_SHA_256 with an RSA_2048 wrapping key. */
export function importParameters(
  kms: KMSClient,
  keyId: string | undefined,
  algorithm: GetParametersForImportCommandInput['WrappingAlgorithm'] = 'RSAES_OAEP_SHA_256',
  wrappingKeySpec: GetParametersForImportCommandInput['WrappingKeySpec'] = 'RSA_2048',
) {
  return kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: wrappingKeySpec }));
}

/** ImportKeyMaterial with the token of `params`; the material does not expire unless `rest` says otherwise. */
export function importCommand(keyId: string | undefined, params: { ImportToken?: Uint8Array }, encrypted: Uint8Array, rest: Partial<ImportKeyMaterialCommandInput> = {}) {
  return new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: encrypted, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', ...rest });
}

/** GetParametersForImport + wrap + ImportKeyMaterial; material does not expire unless told otherwise. */
export async function importMaterial(kms: KMSClient, keyId: string, material: Buffer, opts: ImportOptions = {}) {
  const { algorithm = 'RSAES_OAEP_SHA_256', wrappingKeySpec = 'RSA_2048', ...rest } = opts;
  const params = await importParameters(kms, keyId, algorithm, wrappingKeySpec);
  return kms.send(importCommand(keyId, params, wrapMaterial(algorithm, params.PublicKey!, material), rest));
}

export async function createExternalKey(kms: KMSClient, input: Partial<CreateKeyCommandInput> = {}) {
  const out = await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL', ...input }));
  return out.KeyMetadata!;
}

/** The rejection's SDK error name (= KMS `__type`) and message. */
export async function kmsError(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

export function pkcs8(privateKey: crypto.KeyObject): Buffer {
  return privateKey.export({ format: 'der', type: 'pkcs8' });
}

export function ecPrivateKey(curve: string): crypto.KeyObject {
  return crypto.generateKeyPairSync('ec', { namedCurve: curve }).privateKey;
}

export function rsaPrivateKey(bits: number): crypto.KeyObject {
  return crypto.generateKeyPairSync('rsa', { modulusLength: bits }).privateKey;
}

export const HOUR = 3600 * 1000;
export const DAY = 24 * HOUR;

const AWS_CLI_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'dummy',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_PAGER: '',
};

/**
 * `aws kms <args>` against an emulator endpoint in eu-west-1, with throwaway credentials and no
 * local AWS configuration; resolves to the JSON the CLI printed ({} for none), rejects with its stderr.
 */
export async function awsKms(endpoint: string, ...args: string[]): Promise<any> {
  const { stdout } = await promisify(execFile)('aws', ['kms', ...args, '--endpoint-url', endpoint, '--region', 'eu-west-1', '--output', 'json'], { env: { ...process.env, ...AWS_CLI_ENV } });
  return stdout.trim() ? JSON.parse(stdout) : {};
}
