import { createHash, generateKeyPairSync, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ExternalKey, KeyMaterial, KeyMaterialEncoding, KeyMaterialExpiration } from '../../lib';
import { LocalCloud, LocalStack } from '../../testing/harness';
import { RAISED_QUOTAS, REGION, secretByArn, synth } from './util';

/**
 * Secrecy: every path (successes, renewals, updates, rotation, failures, removal) runs while
 * everything observable is collected: handler logs, CloudFormation answers, deployment errors,
 * the templates and every file of the cloud assemblies, the emulator's call records, and the
 * committed snapshots. Then each piece of material is searched for in raw, hex, base64,
 * base64url and PEM forms, and by 16-character windows of those forms. Zero hits.
 */
const ROOT = path.join(__dirname, '..', '..');

function forms(material: Buffer, pem?: string): string[] {
  const b64 = material.toString('base64');
  const texts = [material.toString('hex'), material.toString('hex').toUpperCase(), b64, b64.replace(/=+$/, ''), material.toString('base64url')];
  if (pem) texts.push(...pem.split('\n').filter((l) => l && !l.startsWith('-----')));
  // Windows catch partial leaks (a truncated value in a message).
  const windows = texts.flatMap((t) => Array.from({ length: Math.max(1, Math.floor((t.length - 16) / 8) + 1) }, (_, i) => t.slice(i * 8, i * 8 + 16)));
  return [...new Set([...texts, ...windows])].filter((w) => w.length >= 16);
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe('no key material anywhere', () => {
  let cloud: LocalCloud;
  beforeAll(async () => { cloud = await LocalCloud.start({ region: REGION, ...RAISED_QUOTAS }); });
  afterAll(async () => { await cloud?.stop(); });

  test('across every path, logs, answers, errors, templates, assemblies and snapshots hold no material', async () => {
    const materials: Array<{ bytes: Buffer; pem?: string }> = [];
    const remember = (bytes: Buffer, pem?: string) => { materials.push({ bytes, pem }); return bytes; };
    const assemblies: string[] = [];
    const stacks: LocalStack[] = [];
    const errors: string[] = [];
    const deploy = async (name: string, build: Parameters<typeof synth>[0], options = {}) => {
      const dir = synth(build, name);
      assemblies.push(dir);
      const stack = new LocalStack(cloud, name, options);
      stacks.push(stack);
      await stack.apply(dir).catch((e) => errors.push(`${e.message}\n${e.reason ?? ''}\n${e.stack ?? ''}`));
      return { stack, dir };
    };
    const secret = async (stored: { secretString?: string; secretBinary?: Uint8Array }) => cloud.createSecret(`secrecy/${randomBytes(5).toString('hex')}`, stored);

    // Successes: symmetric (base64, hex, binary), HMAC, RSA PEM, EC DER; renewal; expiry change; rotation; removal.
    const sym = remember(randomBytes(32));
    const symArn = await secret({ secretString: sym.toString('base64') });
    const hex = remember(randomBytes(32));
    const hexArn = await secret({ secretString: hex.toString('hex') });
    const bin = remember(randomBytes(32));
    const binArn = await secret({ secretBinary: bin });
    const hmac = remember(randomBytes(64));
    const hmacArn = await secret({ secretString: hmac.toString('base64') });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const rsaPem = rsa.export({ type: 'pkcs8', format: 'pem' }) as string;
    remember(rsa.export({ type: 'pkcs8', format: 'der' }) as Buffer, rsaPem);
    const rsaArn = await secret({ secretString: rsaPem });
    const ec = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey;
    const ecDer = remember(ec.export({ type: 'pkcs8', format: 'der' }) as Buffer);
    const ecArn = await secret({ secretBinary: ecDer });

    const build = (expiration: KeyMaterialExpiration) => (s: any) => {
      new ExternalKey(s, 'Sym', { material: KeyMaterial.fromSecret(secretByArn(s, 'A', symArn)), expiration, renewEvery: Duration.days(1), deleteMaterialOnRemoval: true, removalPolicy: RemovalPolicy.DESTROY });
      new ExternalKey(s, 'Hex', { material: KeyMaterial.fromSecret(secretByArn(s, 'B', hexArn), { encoding: KeyMaterialEncoding.HEX }) });
      new ExternalKey(s, 'Bin', { material: KeyMaterial.fromSecret(secretByArn(s, 'C', binArn), { encoding: KeyMaterialEncoding.BINARY }) });
      new ExternalKey(s, 'Hmac', { material: KeyMaterial.fromSecret(secretByArn(s, 'D', hmacArn)), keySpec: kms.KeySpec.HMAC_512 });
      new ExternalKey(s, 'Rsa', { material: KeyMaterial.fromSecret(secretByArn(s, 'E', rsaArn)), keySpec: kms.KeySpec.RSA_2048, keyUsage: kms.KeyUsage.SIGN_VERIFY });
      new ExternalKey(s, 'Ec', { material: KeyMaterial.fromSecret(secretByArn(s, 'F', ecArn), { encoding: KeyMaterialEncoding.BINARY }), keySpec: kms.KeySpec.ECC_NIST_P384 });
    };
    const { stack: main } = await deploy('SecrecyMain', build(KeyMaterialExpiration.after(Duration.days(30))));
    await main.fireSchedules();
    const updated = synth(build(KeyMaterialExpiration.after(Duration.days(60))), 'SecrecyMain');
    assemblies.push(updated);
    await main.apply(updated);

    // Rotation to a new version.
    const rot1 = remember(randomBytes(32));
    const rotArn = await secret({ secretString: rot1.toString('base64') });
    const rotBuild = (versionStage?: string) => (s: any) => { new ExternalKey(s, 'Rot', { material: KeyMaterial.fromSecret(secretByArn(s, 'R', rotArn), { versionStage }), rotateOnNewMaterial: true }); };
    const { stack: rot } = await deploy('SecrecyRot', rotBuild());
    const rot2 = remember(randomBytes(32));
    await cloud.secretsClient().send(new PutSecretValueCommand({ SecretId: rotArn, SecretString: rot2.toString('base64') }));
    const rotDir = synth(rotBuild('AWSCURRENT'), 'SecrecyRot');
    assemblies.push(rotDir);
    await rot.apply(rotDir);

    // Failures: wrong length, mismatch, text that is almost base64 of material, wrong curve.
    const short = remember(randomBytes(24));
    const shortArn = await secret({ secretString: short.toString('base64') });
    await deploy('SecrecyShort', (s) => { new ExternalKey(s, 'K', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', shortArn)) }); });
    const almost = remember(randomBytes(32));
    const almostArn = await secret({ secretString: `${almost.toString('base64').slice(0, 30)}!!${almost.toString('base64').slice(32)}` });
    await deploy('SecrecyAlmost', (s) => { new ExternalKey(s, 'K', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', almostArn)) }); });
    const other = remember(randomBytes(32));
    const otherArn = await secret({ secretString: other.toString('base64') });
    const mismatchDir = synth((s) => { new ExternalKey(s, 'Hex', { material: KeyMaterial.fromSecret(secretByArn(s, 'B', otherArn)) }); }, 'SecrecyMain');
    assemblies.push(mismatchDir);
    await main.apply(mismatchDir).catch((e) => errors.push(`${e.message}\n${e.reason}`));
    const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const p256Pem = p256.export({ type: 'sec1', format: 'pem' }) as string;
    remember(p256.export({ type: 'pkcs8', format: 'der' }) as Buffer, p256Pem);
    const curveArn = await secret({ secretString: p256Pem });
    await deploy('SecrecyCurve', (s) => { new ExternalKey(s, 'K', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', curveArn)), keySpec: kms.KeySpec.ECC_NIST_P521 }); });

    // Removal, with crypto-shredding on one key.
    for (const s of stacks) await s.destroy().catch((e) => errors.push(String(e)));

    expect(errors.length).toBeGreaterThanOrEqual(4);
    const invocations = stacks.flatMap((s) => [...s.invocations, ...s.scheduleInvocations]);
    expect(invocations.length).toBeGreaterThan(20);
    const observed: Array<[string, Buffer]> = [
      ['handler logs', Buffer.from(invocations.map((i) => i.logs).join('\n'))],
      ['CloudFormation answers and events', Buffer.from(JSON.stringify(invocations.map((i) => [i.event, i.answers])))],
      ['deployment errors', Buffer.from(errors.join('\n'))],
      ['emulator call records', Buffer.from(JSON.stringify(cloud.kms.calls))],
      ...[...assemblies, ...filesUnder(path.join(ROOT, 'test')).filter((f) => /\.snapshot\//.test(f)).map((f) => path.dirname(f))]
        .flatMap((d) => filesUnder(d)).map((f) => [f, fs.readFileSync(f)] as [string, Buffer]),
    ];
    // The same bundle sits in every assembly: search each distinct content once.
    const distinct = new Map<string, [string, Buffer, string]>();
    for (const [where, content] of observed) {
      const h = createHash('sha256').update(content).digest('hex');
      if (!distinct.has(h)) distinct.set(h, [where, content, content.toString('latin1')]);
    }
    const search = (haystack: Array<[string, Buffer, string]>) => {
      const hits: string[] = [];
      for (const { bytes, pem } of materials) {
        const needles = forms(bytes, pem);
        for (const [where, content, text] of haystack) {
          if (content.includes(bytes)) hits.push(`raw material in ${where}`);
          for (const n of needles) if (text.includes(n)) hits.push(`'${n.slice(0, 4)}…' form in ${where}`);
        }
      }
      return hits;
    };
    expect(search([...distinct.values()])).toEqual([]);
    expect(distinct.size).toBeGreaterThan(10);
    // The search itself finds a leak: a planted base64url fragment of one material is caught.
    const planted = `log line ${materials[3].bytes.toString('base64url').slice(5, 30)} end`;
    expect(search([['planted', Buffer.from(planted), planted]]).length).toBeGreaterThan(0);
  }, 240_000);
});
