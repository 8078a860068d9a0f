import { generateKeyPairSync, randomBytes } from 'crypto';
import { inspect } from 'util';
import { decodings, describeHits, scanForMaterial, secretValueMaterials } from './secrecy-scan';

/**
 * The detector the secrecy tests rely on: every way a Node program or the SDK prints a buffer,
 * planted as a leak, is found; text without the material is clean.
 */
const material = randomBytes(32);
const found = (text: string | Buffer, m: Buffer = material) => scanForMaterial([m], [{ where: 'planted', content: text }]);

describe('the secrecy detector', () => {
  const window16 = material.subarray(7, 23);
  const forms: Array<[string, string | Buffer]> = [
    ['util.inspect of the Buffer', inspect(material)],
    ['console.log of the Buffer in a message', `debug wrapping ${inspect(material)}`],
    ['util.inspect truncated ("... N more bytes")', inspect(Buffer.concat([material, randomBytes(60)]))],
    ['JSON of a Buffer', JSON.stringify({ message: 'debug', material })],
    ['JSON of a Uint8Array', JSON.stringify({ material: new Uint8Array(material) })],
    ['util.inspect of a Uint8Array', inspect(new Uint8Array(material))],
    ['util.inspect of an object holding the Buffer, JSON-encoded', JSON.stringify({ line: inspect({ material }) })],
    ['lower-case hex', material.toString('hex')],
    ['upper-case hex', material.toString('hex').toUpperCase()],
    ['hex after a hex-looking prefix (odd nibble)', `abc${material.toString('hex')}`],
    ['spaced hex', material.toString('hex').replace(/(..)(?!$)/g, '$1 ')],
    ['spaced upper-case hex', material.toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1 ')],
    ['colon-separated hex', material.toString('hex').replace(/(..)(?!$)/g, '$1:')],
    ['0x-prefixed hex list', [...material].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ')],
    ['hex of a 16-byte window', window16.toString('hex')],
    ['comma-separated decimals', [...material].join(',')],
    ['space-separated decimals', [...material].join(' ')],
    ['a decimal window inside other numbers', `1000, ${[...window16].join(', ')}, 7000`],
    ['raw bytes', Buffer.concat([Buffer.from('log: '), material, Buffer.from('\n')])],
    ['raw bytes printed as latin1 text (UTF-8 on the wire)', `log: ${material.toString('latin1')}`],
    ['raw bytes inside a JSON string', JSON.stringify({ m: material.toString('latin1') })],
    ['base64', material.toString('base64')],
    ['base64url', material.toString('base64url')],
    ['base64 in a PEM-style body', `-----BEGIN X-----\n${material.toString('base64')}\n-----END X-----`],
  ];
  test.each(forms)('finds %s', (_, text) => {
    expect(found(text).length).toBeGreaterThan(0);
  });

  test.each([0, 1, 2, 3, 4, 5, 16])('finds base64 and base64url of the 16-byte window at offset %i (every alignment mod 3)', (offset) => {
    const w = material.subarray(offset, offset + 16);
    for (const text of [w.toString('base64'), w.toString('base64url'), `x${w.toString('base64url')}y`]) {
      expect(found(text).map((h) => h.offset)).toEqual([offset]);
    }
  });

  test('finds every substring of the material\'s base64 (and base64url) that covers a whole 16-byte window, at every start', () => {
    for (const encoding of ['base64', 'base64url'] as const) {
      const full = material.toString(encoding);
      // Bytes [o, o+16) are carried by the characters of groups floor(o/3) to floor((o+15)/3).
      for (let o = 0; o + 16 <= material.length; o++) {
        const from = Math.floor(o / 3) * 4;
        const to = (Math.floor((o + 15) / 3) + 1) * 4;
        const hits = found(`prefix ${full.slice(from, to)} suffix`);
        expect({ o, hit: hits.length > 0 }).toEqual({ o, hit: true });
      }
    }
  });

  test('finds any 28-character slice of the material\'s base64, whatever its start', () => {
    const full = material.toString('base64');
    for (let start = 0; start + 28 <= full.length; start++) expect(found(`"${full.slice(start, start + 28)}"`).length).toBeGreaterThan(0);
  });

  test('says where, in which form, which material and from which byte', () => {
    const other = randomBytes(32);
    const hits = scanForMaterial([other, material], [{ where: 'clean', content: 'nothing here' }, { where: 'log', content: `x ${material.subarray(10).toString('hex')}` }]);
    expect(hits).toEqual([{ where: 'log', form: 'hex', material: 1, offset: 10 }]);
    expect(describeHits(hits)).toEqual(['material #1 (bytes 10+) as hex in log']);
  });

  test('does not report fewer than 16 consecutive bytes, other material, or ordinary text and numbers', () => {
    const text = [
      material.subarray(0, 15).toString('hex'),
      material.subarray(0, 15).toString('base64'),
      inspect(material.subarray(0, 15)),
      [...material.subarray(0, 15)].join(','),
      inspect(randomBytes(64)),
      JSON.stringify({ n: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17], id: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab' }),
    ].join('\n');
    expect(found(text)).toEqual([]);
  });

  test('ignores windows that are public (a private key\'s embedded public key), and finds the private part', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const der = privateKey.export({ type: 'pkcs8', format: 'der' });
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const allowed = [spki];
    expect(scanForMaterial([der], [{ where: 'GetPublicKey', content: spki.toString('base64') }])).not.toEqual([]);
    expect(scanForMaterial([der], [{ where: 'GetPublicKey', content: spki.toString('base64') }], { allowed })).toEqual([]);
    expect(scanForMaterial([der], [{ where: 'log', content: inspect(der) }], { allowed }).length).toBe(1);
  });

  test('decodes each form into its own labelled byte stream', () => {
    const forms = new Set(decodings(`${inspect(material)} ${JSON.stringify(material)} ${material.toString('base64')} ${material.toString('hex')}`).map(([f]) => f));
    expect([...forms].sort()).toEqual(['base64', 'decimal', 'hex', 'hex-bytes', 'raw', 'utf8']);
  });

  test('refuses material shorter than the window instead of silently finding nothing', () => {
    expect(() => scanForMaterial([randomBytes(8)], [])).toThrow(/material 0 is 8 bytes, shorter than the 16-byte window/);
  });
});

describe('what a stored secret value could leak as', () => {
  test('the text, its base64, hex and PEM decodings and a SecretBinary, each 16 bytes or longer; PEM armour is allowed', () => {
    const m = randomBytes(32);
    expect(secretValueMaterials({ secretString: m.toString('base64') }).materials).toEqual([Buffer.from(m.toString('base64')), m]);
    expect(secretValueMaterials({ secretString: m.toString('hex') }).materials).toContainEqual(m);
    expect(secretValueMaterials({ secretBinary: m }).materials).toEqual([m]);
    expect(secretValueMaterials({ secretString: 'short' }).materials).toEqual([]);
    const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const { materials, allowed } = secretValueMaterials({ secretString: pem });
    expect(materials[1].toString('base64')).toBe(pem.replace(/-----[A-Z ]+-----|\s/g, ''));
    expect(allowed.map(String)).toEqual(['-----BEGIN PRIVATE KEY-----', '-----END PRIVATE KEY-----']);
    // A reason that carries the key's header line (the old per-case check) is found by the body, not the header.
    const body = pem.split('\n')[1];
    expect(scanForMaterial(materials, [{ where: 'reason', content: `failed: ${body.slice(4, 40)}` }], { allowed }).length).toBeGreaterThan(0);
    expect(scanForMaterial(materials, [{ where: 'reason', content: 'is a \'PRIVATE KEY\' PEM' }], { allowed })).toEqual([]);
  });
});
