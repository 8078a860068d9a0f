import { generateKeyPairSync, randomBytes } from 'crypto';
import { checkMaterial, decodeText } from '../../lambda/material';

const W = 'the material';
const der = (key: any) => key.export({ type: 'pkcs8', format: 'der' }) as Buffer;
const rsa = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits }).privateKey;
const ec = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve }).privateKey;

describe('decodeText', () => {
  const bytes = randomBytes(32);
  test('base64 with or without padding and line breaks decodes to the bytes', () => {
    const b64 = bytes.toString('base64');
    expect(decodeText(b64, 'BASE64', W)).toEqual(bytes);
    expect(decodeText(`${b64.slice(0, 20)}\n${b64.slice(20)}\n`, 'BASE64', W)).toEqual(bytes);
    expect(decodeText(b64.replace(/=+$/, ''), 'BASE64', W)).toEqual(bytes);
  });
  test('hex with an optional 0x prefix decodes to the bytes', () => {
    expect(decodeText(bytes.toString('hex'), 'HEX', W)).toEqual(bytes);
    expect(decodeText(`0x${bytes.toString('hex').toUpperCase()}`, 'HEX', W)).toEqual(bytes);
  });
  test.each([['BASE64', 'not*base64!'], ['BASE64', 'abcde'], ['HEX', 'abc'], ['HEX', 'zz11']])('%s refuses %p without echoing it', (encoding, text) => {
    expect(() => decodeText(text, encoding, W)).toThrow(encoding === 'HEX' ? /is not valid hexadecimal/ : /is not valid base64/);
    try { decodeText(text, encoding, W); } catch (e) { expect((e as Error).message).not.toContain(text); }
  });
  test('a PKCS#8, traditional RSA or traditional EC PEM becomes PKCS#8 DER of the same key', () => {
    const key = rsa(2048);
    const expected = der(key);
    expect(decodeText(key.export({ type: 'pkcs8', format: 'pem' }) as string, 'PEM', W)).toEqual(expected);
    expect(decodeText(key.export({ type: 'pkcs1', format: 'pem' }) as string, 'PEM', W)).toEqual(expected);
    const eck = ec('prime256v1');
    expect(decodeText(eck.export({ type: 'sec1', format: 'pem' }) as string, 'PEM', W)).toEqual(der(eck));
  });
  test('a PKCS#8 PEM is passed on byte for byte, and bytes after its DER key are refused', () => {
    const key = ec('prime256v1');
    const pem = key.export({ type: 'pkcs8', format: 'pem' }) as string;
    const body = pem.replace(/-----[A-Z ]+-----|\s/g, '');
    expect(decodeText(pem, 'PEM', W).toString('base64')).toBe(body);
    const padded = Buffer.concat([Buffer.from(body, 'base64'), Buffer.from([0, 0])]).toString('base64');
    expect(() => decodeText(`-----BEGIN PRIVATE KEY-----\n${padded}\n-----END PRIVATE KEY-----\n`, 'PEM', W)).toThrow(/'PRIVATE KEY' PEM header but its content is not a valid private key/);
  });
  test('an encrypted PEM is refused with what to do', () => {
    const pem = rsa(2048).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
    expect(() => decodeText(pem, 'PEM', W)).toThrow(/\[?.*is an encrypted PEM; KMS needs the plain private key/);
  });
  test('a public key or certificate PEM is refused by its label', () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(() => decodeText(pem, 'PEM', W)).toThrow(/is a 'PUBLIC KEY' PEM; expected one of 'PRIVATE KEY'/);
  });
  test('text without a PEM header and PEM with two keys are refused', () => {
    expect(() => decodeText('hello', 'PEM', W)).toThrow(/is not PEM/);
    const pem = rsa(2048).export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(() => decodeText(pem + pem, 'PEM', W)).toThrow(/holds 2 PEM blocks \('PRIVATE KEY', 'PRIVATE KEY'\)/);
  });
  test('a PEM label that is not a known one is not echoed: the label is the secret\'s text (hex of the material would fit)', () => {
    const label = randomBytes(32).toString('hex').toUpperCase();
    const block = `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`;
    const one = (() => { try { decodeText(block, 'PEM', W); } catch (e) { return (e as Error).message; } return ''; })();
    expect(one).toMatch(/is a PEM with an unrecognised label \(not shown: it is part of the secret's value\); expected one of 'PRIVATE KEY'/);
    const pem = rsa(2048).export({ type: 'pkcs8', format: 'pem' }) as string;
    const two = (() => { try { decodeText(block + pem, 'PEM', W); } catch (e) { return (e as Error).message; } return ''; })();
    expect(two).toMatch(/holds 2 PEM blocks \(unrecognised, 'PRIVATE KEY'\)/);
    for (const message of [one, two]) expect(message).not.toContain(label.slice(0, 16));
  });
  test('a PEM whose body is not a key is refused without echoing it', () => {
    const body = randomBytes(64).toString('base64');
    const pem = `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;
    expect(() => decodeText(pem, 'PEM', W)).toThrow(/content is not a valid private key/);
    try { decodeText(pem, 'PEM', W); } catch (e) { expect((e as Error).message).not.toContain(body.slice(0, 16)); }
  });
});

describe('checkMaterial', () => {
  test('symmetric material must be exactly 32 bytes, or 16 in the China partition', () => {
    expect(() => checkMaterial('SYMMETRIC_DEFAULT', randomBytes(32), 'aws', W)).not.toThrow();
    expect(() => checkMaterial('SYMMETRIC_DEFAULT', randomBytes(31), 'aws', W)).toThrow('the material is 31 bytes; a SYMMETRIC_DEFAULT key needs exactly 32 bytes (256-bit)');
    expect(() => checkMaterial('SYMMETRIC_DEFAULT', randomBytes(16), 'aws-cn', W)).not.toThrow();
    expect(() => checkMaterial('SYMMETRIC_DEFAULT', randomBytes(32), 'aws-cn', W)).toThrow(/needs exactly 16 bytes \(128-bit\) in the China partition/);
  });
  test.each([['HMAC_224', 28], ['HMAC_256', 32], ['HMAC_384', 48], ['HMAC_512', 64]])('%s material is %p to 128 bytes', (spec, min) => {
    expect(() => checkMaterial(spec, randomBytes(min), 'aws', W)).not.toThrow();
    expect(() => checkMaterial(spec, randomBytes(128), 'aws', W)).not.toThrow();
    expect(() => checkMaterial(spec, randomBytes(min - 1), 'aws', W)).toThrow(`needs ${min} to 128 bytes`);
    expect(() => checkMaterial(spec, randomBytes(129), 'aws', W)).toThrow(`the material is 129 bytes; a ${spec} key needs ${min} to 128 bytes`);
  });
  test('RSA material must be a PKCS#8 RSA key of the spec\'s size', () => {
    expect(() => checkMaterial('RSA_2048', der(rsa(2048)), 'aws', W)).not.toThrow();
    expect(() => checkMaterial('RSA_3072', der(rsa(2048)), 'aws', W)).toThrow('the material is a 2048-bit RSA private key; a RSA_3072 key needs 3072 bits');
    expect(() => checkMaterial('RSA_2048', der(ec('prime256v1')), 'aws', W)).toThrow(/is an ec private key; a RSA_2048 key needs an RSA private key/);
  });
  test.each([['ECC_NIST_P256', 'prime256v1'], ['ECC_NIST_P384', 'secp384r1'], ['ECC_NIST_P521', 'secp521r1'], ['ECC_SECG_P256K1', 'secp256k1']])('%s material must be on curve %s', (spec, curve) => {
    expect(() => checkMaterial(spec, der(ec(curve)), 'aws', W)).not.toThrow();
    const other = curve === 'secp384r1' ? 'prime256v1' : 'secp384r1';
    expect(() => checkMaterial(spec, der(ec(other)), 'aws', W)).toThrow(`is an EC private key on curve ${other}; a ${spec} key needs curve ${curve}`);
  });
  test('SM2 material is recognised by its curve OID (node names neither its type nor its curve)', () => {
    expect(() => checkMaterial('SM2', der(ec('SM2')), 'aws-cn', W)).not.toThrow();
    expect(() => checkMaterial('SM2', der(ec('prime256v1')), 'aws-cn', W)).toThrow('is an EC private key on curve prime256v1; a SM2 key needs curve SM2');
    expect(() => checkMaterial('ECC_NIST_P256', der(ec('SM2')), 'aws', W)).toThrow('is an EC private key on curve SM2; a ECC_NIST_P256 key needs curve prime256v1');
  });

  test('trailing bytes after the DER key are refused', () => {
    const key = der(ec('prime256v1'));
    expect(() => checkMaterial('ECC_NIST_P256', Buffer.concat([key, Buffer.from([0, 0, 1])]), 'aws', W)).toThrow(`has 3 unexpected bytes after the ${key.length}-byte PKCS#8 private key`);
  });
  test('bytes that are not DER are refused for asymmetric specs', () => {
    expect(() => checkMaterial('RSA_2048', randomBytes(32), 'aws', W)).toThrow(/is not a DER-encoded PKCS#8 private key|is not a valid PKCS#8/);
  });
});
