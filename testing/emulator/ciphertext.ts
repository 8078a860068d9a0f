/**
 * Symmetric ciphertext blobs. Like KMS's own, they are self-describing: the blob names the key and
 * the key material that encrypted it, so Decrypt needs no KeyId, NON_CURRENT materials still decrypt
 * after a rotation, and a multi-Region replica (same key id, same material id) decrypts what its
 * primary encrypted. The format is the emulator's own:
 *
 *   0x01 | account (12 ASCII digits) | len(keyId) | keyId | keyMaterialId (32 bytes) | IV (12) | GCM tag (16) | ciphertext
 *
 * AES-GCM with the key material (AES-256; AES-128 stands in for SM4 with the 16-byte China-Region
 * material), additional data = everything before the IV ‖ the canonical encryption context.
 */
import * as crypto from 'crypto';
import { invalidCiphertext } from './errors';

const VERSION = 0x01;

export interface SymmetricBlob {
  account: string;
  keyId: string;
  keyMaterialId: string;
}

interface ParsedBlob extends SymmetricBlob {
  header: Buffer;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

export function sealSymmetric(who: SymmetricBlob, material: Buffer, plaintext: Buffer, context?: Record<string, string>): Buffer {
  const keyId = Buffer.from(who.keyId, 'utf8');
  const header = Buffer.concat([Buffer.from([VERSION]), Buffer.from(who.account, 'ascii'), Buffer.from([keyId.length]), keyId, Buffer.from(who.keyMaterialId, 'hex')]);
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv(gcmFor(material), material, iv);
  cipher.setAAD(Buffer.concat([header, canonicalContext(context)]));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, iv, cipher.getAuthTag(), ciphertext]);
}

/** The key and material a blob names, or undefined if it is not one of ours. */
export function parseSymmetric(blob: Buffer): ParsedBlob | undefined {
  if (blob.length < 1 + 12 + 1 + 32 + 12 + 16 || blob[0] !== VERSION) return undefined;
  const account = blob.subarray(1, 13).toString('ascii');
  const idLen = blob[13];
  const headerEnd = 14 + idLen + 32;
  if (blob.length < headerEnd + 28 || !/^\d{12}$/.test(account)) return undefined;
  return {
    account,
    keyId: blob.subarray(14, 14 + idLen).toString('utf8'),
    keyMaterialId: blob.subarray(14 + idLen, headerEnd).toString('hex'),
    header: blob.subarray(0, headerEnd),
    iv: blob.subarray(headerEnd, headerEnd + 12),
    tag: blob.subarray(headerEnd + 12, headerEnd + 28),
    ciphertext: blob.subarray(headerEnd + 28),
  };
}

/** Decrypts a parsed blob; a wrong context or a tampered blob is InvalidCiphertextException. */
export function openSymmetric(blob: ParsedBlob, material: Buffer, context?: Record<string, string>): Buffer {
  try {
    const decipher = crypto.createDecipheriv(gcmFor(material), material, blob.iv);
    decipher.setAAD(Buffer.concat([blob.header, canonicalContext(context)]));
    decipher.setAuthTag(blob.tag);
    return Buffer.concat([decipher.update(blob.ciphertext), decipher.final()]);
  } catch {
    throw invalidCiphertext();
  }
}

function gcmFor(material: Buffer): crypto.CipherGCMTypes {
  return material.length === 16 ? 'aes-128-gcm' : 'aes-256-gcm';
}

/** The encryption context must match exactly, in any order (KMS semantics). */
function canonicalContext(context?: Record<string, string>): Buffer {
  const entries = Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(entries), 'utf8');
}
