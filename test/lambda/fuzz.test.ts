import { createHash, generateKeyPairSync } from 'crypto';
import { ImportError } from '../../lambda/errors';
import { checkMaterial, decodeText } from '../../lambda/material';

/**
 * Fuzzing the material parser: random bytes and strings, and mutations of valid PEM and DER,
 * for a few thousand inputs. The parser must only ever answer with an ImportError (never another
 * exception), and never echo its input.
 */
let state = createHash('sha256').update('cdk-kms-byok fuzz seed 1').digest();
function rand(n: number): Buffer {
  const out: Buffer[] = [];
  let have = 0;
  while (have < n) {
    state = createHash('sha256').update(state).digest();
    out.push(state);
    have += state.length;
  }
  return Buffer.concat(out).subarray(0, n);
}
const int = (max: number) => rand(4).readUInt32BE(0) % max;

const SPECS = ['SYMMETRIC_DEFAULT', 'HMAC_224', 'HMAC_512', 'RSA_2048', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P521', 'ECC_SECG_P256K1'];
const valid = {
  rsaPem: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  ecPem: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string,
  ecDer: generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).privateKey.export({ type: 'pkcs8', format: 'der' }) as Buffer,
};

function mutate(text: string): string {
  const chars = text.split('');
  switch (int(5)) {
    case 0: for (let i = 0; i < 1 + int(8); i++) chars[int(chars.length)] = String.fromCharCode(32 + int(95)); return chars.join('');
    case 1: return text.slice(0, int(text.length));
    case 2: return text.replace('-----END', `${rand(int(40)).toString('base64')}-----END`);
    case 3: return text.replace(/PRIVATE KEY/g, ['PUBLIC KEY', 'CERTIFICATE', 'ENCRYPTED PRIVATE KEY', 'DSA PRIVATE KEY'][int(4)]);
    default: return text + text.slice(0, int(text.length));
  }
}

function mutateDer(der: Buffer): Buffer {
  const out = Buffer.from(der);
  switch (int(3)) {
    case 0: for (let i = 0; i < 1 + int(6); i++) out[int(out.length)] = int(256); return out;
    case 1: return out.subarray(0, int(out.length));
    default: return Buffer.concat([out, rand(1 + int(16))]);
  }
}

/** No 12-character window of the input may appear in the message. */
function expectNoEcho(message: string, input: string): void {
  for (let i = 0; i + 12 <= input.length; i += 6) {
    const window = input.slice(i, i + 12);
    if (/^[A-Za-z0-9+/=]{12}$/.test(window)) expect(message.includes(window)).toBe(false);
  }
}

function run(fn: () => unknown, echoCheck: string): 'ok' | 'refused' {
  try {
    fn();
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(ImportError);
    expectNoEcho((e as Error).message, echoCheck);
    return 'refused';
  }
}

describe('material parser fuzzing', () => {
  test('3000 random byte strings against every key spec: only ImportErrors, no echo', () => {
    const tally = { ok: 0, refused: 0 };
    for (let i = 0; i < 3000; i++) {
      const bytes = rand(int(300));
      tally[run(() => checkMaterial(SPECS[i % SPECS.length], bytes, 'aws', 'the material'), bytes.toString('base64'))]++;
    }
    expect(tally.refused).toBeGreaterThan(2000);
  });

  test('2000 random texts in every text encoding: only ImportErrors, no echo', () => {
    const tally: Record<string, { ok: number; refused: number }> = { BASE64: { ok: 0, refused: 0 }, HEX: { ok: 0, refused: 0 }, PEM: { ok: 0, refused: 0 } };
    for (let i = 0; i < 2000; i++) {
      const text = i % 2 ? rand(int(200)).toString('base64').replace(/[+/]/g, String.fromCharCode(33 + int(90))) : rand(int(200)).toString('latin1');
      const encoding = ['BASE64', 'HEX', 'PEM'][i % 3];
      tally[encoding][run(() => decodeText(text, encoding, 'the material'), text)]++;
    }
    // Every encoding saw refusals (each checked for its error type and echo), and random text is
    // never PEM.
    expect(tally.PEM).toEqual({ ok: 0, refused: 666 });
    expect(tally.HEX.refused).toBeGreaterThan(600);
    expect(tally.BASE64.refused).toBeGreaterThan(300);
  });

  test('2000 mutations of valid PEM and DER keys: only ImportErrors, no echo', () => {
    let survivors = 0;
    let refusedDer = 0;
    for (let i = 0; i < 1000; i++) {
      const pem = mutate(i % 2 ? valid.rsaPem : valid.ecPem);
      if (run(() => checkMaterial(i % 2 ? 'RSA_2048' : 'ECC_NIST_P256', decodeText(pem, 'PEM', 'the material'), 'aws', 'the material'), pem) === 'ok') survivors++;
      const der = mutateDer(valid.ecDer);
      if (run(() => checkMaterial('ECC_NIST_P521', der, 'aws', 'the material'), der.toString('base64')) === 'refused') refusedDer++;
    }
    // Mutations that keep a valid key (e.g. a longer base64 tail cut at the END line) are fine.
    expect(survivors).toBeLessThan(900);
    expect(refusedDer).toBeGreaterThan(500);
  });
});
