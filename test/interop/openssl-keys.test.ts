/**
 * Key encodings that Node's crypto cannot produce (explicit EC curve parameters, multi-prime RSA),
 * made by the openssl CLI and refused by the emulator and by the handler's material check as KMS
 * refuses them. Needs openssl (test/tools.ts); everything else about key material is tested with
 * Node only in test/emulator/import-asymmetric.test.ts and test/lambda/material.test.ts.
 */
import * as crypto from 'crypto';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KMSClient } from '@aws-sdk/client-kms';
import { checkMaterial } from '../../lambda/material';
import { KmsEmulator } from '../../testing/emulator';
import { createExternalKey, ecPrivateKey, importMaterial, kmsClient, kmsError, pkcs8, rsaPrivateKey } from '../emulator/helpers';
import { describeWithTools } from '../tools';

describeWithTools(['openssl'], 'the emulator refuses what KMS refuses', () => {
  let emu: KmsEmulator;
  let kms: KMSClient;
  const rsa2048 = rsaPrivateKey(2048);

  beforeAll(async () => {
    emu = await KmsEmulator.start();
    kms = kmsClient(emu);
  });
  afterAll(async () => {
    kms.destroy();
    await emu.stop();
  });

  test('explicit curve parameters, trailing bytes and SEC1 instead of PKCS#8 are IncorrectKeyMaterialException', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-explicit-'));
    try {
      execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-param_enc', 'explicit', '-genkey', '-noout', '-out', path.join(dir, 'k.pem')], { stdio: 'ignore' });
      execFileSync('openssl', ['pkcs8', '-topk8', '-nocrypt', '-in', path.join(dir, 'k.pem'), '-outform', 'DER', '-out', path.join(dir, 'k.der')]);
      const explicit = fs.readFileSync(path.join(dir, 'k.der'));
      const md = await createExternalKey(kms, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
      const opts = { algorithm: 'RSA_AES_KEY_WRAP_SHA_256' } as const;
      expect((await kmsError(importMaterial(kms, md.KeyId!, explicit, opts))).name).toBe('IncorrectKeyMaterialException');
      const good = ecPrivateKey('prime256v1');
      expect((await kmsError(importMaterial(kms, md.KeyId!, Buffer.concat([pkcs8(good), Buffer.from([0])]), opts))).name).toBe('IncorrectKeyMaterialException');
      const sec1 = good.export({ format: 'der', type: 'sec1' });
      expect((await kmsError(importMaterial(kms, md.KeyId!, sec1, opts))).name).toBe('IncorrectKeyMaterialException');
      await importMaterial(kms, md.KeyId!, pkcs8(good), opts);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a key of the wrong size, a multi-prime key and an RSA-PSS key are IncorrectKeyMaterialException', async () => {
    const opts = { algorithm: 'RSA_AES_KEY_WRAP_SHA_256' } as const;
    const rsa3072 = await createExternalKey(kms, { KeySpec: 'RSA_3072', KeyUsage: 'SIGN_VERIFY' });
    expect((await kmsError(importMaterial(kms, rsa3072.KeyId!, pkcs8(rsa2048), opts))).name).toBe('IncorrectKeyMaterialException');

    const md = await createExternalKey(kms, { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    // A three-prime key as PKCS#8 (node parses it and would quietly ignore the third prime).
    const pem = execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-pkeyopt', 'rsa_keygen_primes:3'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
    expect(pem).toContain('-----BEGIN PRIVATE KEY-----');
    const multiPrime = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    expect(crypto.createPrivateKey({ key: multiPrime, format: 'der', type: 'pkcs8' }).asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect((await kmsError(importMaterial(kms, md.KeyId!, multiPrime, opts))).name).toBe('IncorrectKeyMaterialException');
    const pss = crypto.generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey;
    expect((await kmsError(importMaterial(kms, md.KeyId!, pkcs8(pss), opts))).name).toBe('IncorrectKeyMaterialException');
    expect(emu.inspectKey(md.KeyId!)!.keyState).toBe('PendingImport');
    expect(emu.inspectKey(rsa3072.KeyId!)!.keyState).toBe('PendingImport');
  });
});

describeWithTools(['openssl'], 'the handler\'s material check', () => {
  const W = 'the material';

  test('multi-prime RSA is refused', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-'));
    try {
      execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-pkeyopt', 'rsa_keygen_primes:3', '-outform', 'DER', '-out', path.join(dir, 'k1.der')]);
      execFileSync('openssl', ['pkcs8', '-topk8', '-nocrypt', '-inform', 'DER', '-in', path.join(dir, 'k1.der'), '-outform', 'DER', '-out', path.join(dir, 'k.der')]);
      expect(() => checkMaterial('RSA_2048', fs.readFileSync(path.join(dir, 'k.der')), 'aws', W)).toThrow(/multi-prime RSA private key; KMS accepts only two-prime/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
