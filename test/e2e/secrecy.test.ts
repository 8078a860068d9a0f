import { createHash, createPublicKey, generateKeyPairSync, KeyObject, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ExternalKey, KeyMaterial, KeyMaterialEncoding, KeyMaterialExpiration, WrappingKeySpec } from '../../lib';
import { LocalCloud, LocalStack } from '../../testing/harness';
import { describeHits, Haystack, scanForMaterial } from '../secrecy-scan';
import { fingerprints, RAISED_QUOTAS, REGION, secretByArn, synth } from './util';

/**
 * Secrecy: every path (successes, a renewal, an update, a rotation, failures, removal with
 * crypto-shredding) runs while everything observable is collected: handler logs, CloudFormation
 * events and answers, deployment errors, the templates and every file of the cloud assemblies,
 * the committed snapshots, and every request and response body the KMS emulator saw (its call
 * records hold only operation, account, Region, status and error type, no bodies, so the bodies
 * are recorded at its HTTP server). The detector (test/secrecy-scan.ts) then looks for 16-byte
 * windows of each material in every form Node and the SDK print a buffer in. Zero hits, and each
 * path is checked to have run. The secret store is the one place the material may be: it is
 * not searched.
 */
const ROOT = path.join(__dirname, '..', '..');
// RSA_2048 wrapping keys where the material fits (not ECC_NIST_P521 under OAEP): the emulator
// generates one per import, and an RSA_4096 one costs about a second of CPU.
const wrappingKeySpec = WrappingKeySpec.RSA_2048;

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Records every request and response body the emulator's HTTP server handles. */
function recordBodies(cloud: LocalCloud): Buffer[] {
  const bodies: Buffer[] = [];
  const server = (cloud.kms as unknown as { server: http.Server }).server;
  server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    req.on('data', (c: Buffer) => bodies.push(Buffer.from(c)));
    const end = res.end.bind(res) as (...args: unknown[]) => http.ServerResponse;
    res.end = ((...args: unknown[]) => {
      if (typeof args[0] === 'string' || Buffer.isBuffer(args[0])) bodies.push(Buffer.from(args[0] as string));
      return end(...args);
    }) as typeof res.end;
  });
  return bodies;
}

/** The reasons of the FAILED answers of a stack, by error code. */
const failedCodes = (stack: LocalStack) => stack.invocations.flatMap((i) => i.answers).filter((a) => a.Status === 'FAILED').map((a) => /^\[(\w+)\]/.exec(a.Reason ?? '')?.[1]);
const succeeded = (stack: LocalStack, type: string) => stack.invocations.filter((i) => i.event.RequestType === type && i.answers[0]?.Status === 'SUCCESS');

describe('no key material anywhere', () => {
  let cloud: LocalCloud;
  let bodies: Buffer[];
  beforeAll(async () => {
    cloud = await LocalCloud.start({ region: REGION, ...RAISED_QUOTAS });
    bodies = recordBodies(cloud);
  });
  afterAll(async () => { await cloud?.stop(); });

  const secret = async (stored: { secretString?: string; secretBinary?: Uint8Array }) => cloud.createSecret(`secrecy/${randomBytes(5).toString('hex')}`, stored);

  test('across every path, logs, answers, errors, templates, assemblies, snapshots and KMS traffic hold no material', async () => {
    const materials: Buffer[] = [];
    const publicParts: Buffer[] = [];
    const remember = (bytes: Buffer, key?: KeyObject) => {
      materials.push(bytes);
      // PKCS#8 embeds the public key (and RSA's modulus): those bytes are public.
      if (key) publicParts.push(createPublicKey(key).export({ type: 'spki', format: 'der' }));
      return bytes;
    };
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
    remember(rsa.export({ type: 'pkcs8', format: 'der' }), rsa);
    const rsaArn = await secret({ secretString: rsa.export({ type: 'pkcs8', format: 'pem' }) as string });
    const ec = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey;
    const ecArn = await secret({ secretBinary: remember(ec.export({ type: 'pkcs8', format: 'der' }), ec) });

    const build = (expiration: KeyMaterialExpiration) => (s: any) => {
      new ExternalKey(s, 'Sym', { wrappingKeySpec, material: KeyMaterial.fromSecret(secretByArn(s, 'A', symArn)), expiration, renewEvery: Duration.days(1), deleteMaterialOnRemoval: true, removalPolicy: RemovalPolicy.DESTROY });
      new ExternalKey(s, 'Hex', { wrappingKeySpec, material: KeyMaterial.fromSecret(secretByArn(s, 'B', hexArn), { encoding: KeyMaterialEncoding.HEX }) });
      new ExternalKey(s, 'Bin', { wrappingKeySpec, material: KeyMaterial.fromSecret(secretByArn(s, 'C', binArn), { encoding: KeyMaterialEncoding.BINARY }) });
      new ExternalKey(s, 'Hmac', { wrappingKeySpec, material: KeyMaterial.fromSecret(secretByArn(s, 'D', hmacArn)), keySpec: kms.KeySpec.HMAC_512 });
      new ExternalKey(s, 'Rsa', { wrappingKeySpec, material: KeyMaterial.fromSecret(secretByArn(s, 'E', rsaArn)), keySpec: kms.KeySpec.RSA_2048, keyUsage: kms.KeyUsage.SIGN_VERIFY });
      new ExternalKey(s, 'Ec', { wrappingKeySpec, material: KeyMaterial.fromSecret(secretByArn(s, 'F', ecArn), { encoding: KeyMaterialEncoding.BINARY }), keySpec: kms.KeySpec.ECC_NIST_P384 });
    };
    const { stack: main } = await deploy('SecrecyMain', build(KeyMaterialExpiration.after(Duration.days(30))));
    expect(succeeded(main, 'Create')).toHaveLength(6);
    const symKeyArn = main.invocations.find((i) => i.event.ResourceProperties.Material?.SecretArn === symArn)!.event.ResourceProperties.KeyArn;
    // The rule fires daily at the key's own minute and renews only material that is due: a day on.
    cloud.kms.clock.advance(86400_000 + 60_000);
    await main.fireSchedules();
    const updated = synth(build(KeyMaterialExpiration.after(Duration.days(60))), 'SecrecyMain');
    assemblies.push(updated);
    await main.apply(updated);
    expect(succeeded(main, 'Update').length).toBeGreaterThanOrEqual(1);

    // Rotation to a new version.
    const rot1 = remember(randomBytes(32));
    const rotArn = await secret({ secretString: rot1.toString('base64') });
    const rotBuild = (versionStage?: string) => (s: any) => { new ExternalKey(s, 'Rot', { wrappingKeySpec, material: KeyMaterial.fromSecret(secretByArn(s, 'R', rotArn), { versionStage }), rotateOnNewMaterial: true }); };
    const { stack: rot } = await deploy('SecrecyRot', rotBuild());
    const rot2 = remember(randomBytes(32));
    await cloud.secretsClient().send(new PutSecretValueCommand({ SecretId: rotArn, SecretString: rot2.toString('base64') }));
    const rotDir = synth(rotBuild('AWSCURRENT'), 'SecrecyRot');
    assemblies.push(rotDir);
    await rot.apply(rotDir);
    const rotKeyArn = succeeded(rot, 'Update')[0]?.event.ResourceProperties.KeyArn;
    expect(fingerprints(cloud, rotKeyArn)).toHaveLength(2);

    // Failures: wrong length, text that is almost base64 of material, mismatch, wrong curve, and
    // secrets whose own text a message could echo: JSON field names that are the material (the
    // console's key/value columns swapped), and PEM labels made of it.
    const short = remember(randomBytes(24));
    const shortArn = await secret({ secretString: short.toString('base64') });
    const { stack: shortStack } = await deploy('SecrecyShort', (s) => { new ExternalKey(s, 'K', { wrappingKeySpec, material: KeyMaterial.fromSecret(secretByArn(s, 'S', shortArn)) }); });
    const almost = remember(randomBytes(32));
    const almostArn = await secret({ secretString: `${almost.toString('base64').slice(0, 30)}!!${almost.toString('base64').slice(32)}` });
    const { stack: almostStack } = await deploy('SecrecyAlmost', (s) => { new ExternalKey(s, 'K', { wrappingKeySpec, material: KeyMaterial.fromSecret(secretByArn(s, 'S', almostArn)) }); });
    const other = remember(randomBytes(32));
    const otherArn = await secret({ secretString: other.toString('base64') });
    const mismatchDir = synth((s) => { new ExternalKey(s, 'Hex', { wrappingKeySpec, material: KeyMaterial.fromSecret(secretByArn(s, 'B', otherArn)) }); }, 'SecrecyMain');
    assemblies.push(mismatchDir);
    const beforeMismatch = main.invocations.length;
    await main.apply(mismatchDir).catch((e) => errors.push(`${e.message}\n${e.reason}`));
    const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    remember(p256.export({ type: 'pkcs8', format: 'der' }), p256);
    const curveArn = await secret({ secretString: p256.export({ type: 'sec1', format: 'pem' }) as string });
    const { stack: curveStack } = await deploy('SecrecyCurve', (s) => { new ExternalKey(s, 'K', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', curveArn)), keySpec: kms.KeySpec.ECC_NIST_P521 }); });
    const named = remember(randomBytes(32));
    const namesArn = await secret({ secretString: JSON.stringify({ [named.toString('base64')]: 'material', [named.toString('hex')]: 'hex' }) });
    const labelled = remember(randomBytes(32));
    const label = labelled.toString('hex').toUpperCase();
    const labelArn = await secret({ secretString: `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n` });
    const twoLabelArn = await secret({ secretString: `-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n` });
    const { stack: echoStack } = await deploy('SecrecyEcho', (s) => {
      new ExternalKey(s, 'Names', { wrappingKeySpec, material: KeyMaterial.fromSecret(secretByArn(s, 'N', namesArn), { jsonField: 'material' }) });
      new ExternalKey(s, 'Label', { wrappingKeySpec, material: KeyMaterial.fromSecret(secretByArn(s, 'L', labelArn), { encoding: KeyMaterialEncoding.PEM }), keySpec: kms.KeySpec.ECC_NIST_P256 });
      new ExternalKey(s, 'TwoLabels', { wrappingKeySpec, material: KeyMaterial.fromSecret(secretByArn(s, 'T', twoLabelArn), { encoding: KeyMaterialEncoding.PEM }), keySpec: kms.KeySpec.ECC_NIST_P256 });
    });

    // Removal, with crypto-shredding on one key.
    for (const s of stacks) await s.destroy().catch((e) => errors.push(String(e)));

    // Every path named above ran: a renewal, the failures with their own codes, the deletions.
    expect(main.scheduleInvocations.length).toBeGreaterThanOrEqual(1);
    for (const r of main.scheduleInvocations) expect({ exit: r.exitCode, renewed: r.logs.includes('"message":"renewed key material"') }).toEqual({ exit: 0, renewed: true });
    expect(failedCodes(shortStack)).toEqual(['MaterialFormat']);
    expect(failedCodes(almostStack)).toEqual(['MaterialEncoding']);
    expect(main.invocations.slice(beforeMismatch).flatMap((i) => i.answers).filter((a) => a.Status === 'FAILED').map((a) => /^\[(\w+)\]/.exec(a.Reason ?? '')?.[1])).toEqual(['MaterialMismatch']);
    expect(failedCodes(curveStack)).toEqual(['MaterialFormat']);
    expect(failedCodes(echoStack).sort()).toEqual(['MaterialFormat', 'MaterialFormat', 'MaterialSource']);
    expect(errors.length).toBeGreaterThanOrEqual(5);
    for (const s of [main, rot]) expect(succeeded(s, 'Delete').length).toBeGreaterThanOrEqual(1);
    expect(cloud.kms.inspectKey(symKeyArn)?.materials.map((m) => m.importState)).not.toContain('IMPORTED');

    const invocations = stacks.flatMap((s) => [...s.invocations, ...s.scheduleInvocations]);
    const observed: Haystack[] = [
      ...invocations.map((i, n) => ({ where: `handler logs of invocation ${n} (${i.logicalId} ${i.event.RequestType ?? 'renewal'})`, content: i.logs })),
      { where: 'CloudFormation events and answers', content: JSON.stringify(invocations.map((i) => [i.event, i.answers])) },
      { where: 'deployment errors', content: errors.join('\n') },
      { where: 'emulator call records', content: JSON.stringify(cloud.kms.calls) },
      ...bodies.map((b, n) => ({ where: `KMS request or response body ${n}`, content: b })),
      ...[...assemblies, ...filesUnder(path.join(ROOT, 'test')).filter((f) => /\.snapshot\//.test(f)).map((f) => path.dirname(f))]
        .flatMap((d) => filesUnder(d)).map((f) => ({ where: f, content: fs.readFileSync(f) })),
    ];
    expect(bodies.length).toBeGreaterThan(2 * cloud.kms.calls.length - 5);
    // The same bundle sits in every assembly: search each distinct content once.
    const distinct = new Map<string, Haystack>();
    for (const h of observed) distinct.set(createHash('sha256').update(h.content).digest('hex'), distinct.get(createHash('sha256').update(h.content).digest('hex')) ?? h);
    expect(distinct.size).toBeGreaterThan(10);
    expect(describeHits(scanForMaterial(materials, [...distinct.values()], { allowed: publicParts }))).toEqual([]);
  }, 240_000);

  test('the same search finds the material when the bundled handler is patched to log it, in every form', async () => {
    const material = randomBytes(32);
    const arn = await secret({ secretString: material.toString('base64') });
    const dir = synth((s) => { new ExternalKey(s, 'K', { wrappingKeySpec, material: KeyMaterial.fromSecret(secretByArn(s, 'S', arn)) }); }, 'SecrecyPlanted');
    // The Secrets Manager source's wrap(), as esbuild minifies it: wrap(pub,alg){return checkMaterial(ctx.keySpec,material,...
    const handlers = filesUnder(dir).filter((f) => f.endsWith(path.join('index.js')) && fs.readFileSync(f, 'utf8').includes('the material in secret'));
    expect(handlers).toHaveLength(1);
    const code = fs.readFileSync(handlers[0], 'utf8');
    const wrap = /wrap\((\w+),(\w+)\)\{return (\w+)\((\w+)\.keySpec,(\w+),\4\.partition,`the material in secret/.exec(code);
    expect(wrap).not.toBeNull();
    const m = wrap![5];
    const leaks: Record<string, string> = {
      inspect: `console.log('debug wrapping', ${m})`,
      json: `console.log(JSON.stringify({ message: 'debug', material: ${m} }))`,
      uint8array: `console.log(JSON.stringify({ material: new Uint8Array(${m}) }))`,
      inspectUint8array: `console.log(new Uint8Array(${m}))`,
      hex: `console.log('k=' + ${m}.toString('hex'))`,
      spacedHexUpper: `console.log(${m}.toString('hex').toUpperCase().replace(/(..)/g, '$1 '))`,
      base64Offset1: `console.log(${m}.subarray(1, 17).toString('base64'))`,
      base64urlOffset2: `console.log(${m}.subarray(2, 18).toString('base64url'))`,
      decimals: `console.log([...${m}].join(' '))`,
      // Raw bytes on stdout reach the logs as UTF-8 text (invalid sequences replaced, as CloudWatch
      // does), so the raw form a log can carry is the bytes as characters.
      latin1: `console.log(${m}.toString('latin1'))`,
    };
    const patch = Object.entries(leaks).map(([name, stmt]) => `console.log('<<${name}');${stmt};console.log('>>');`).join('');
    fs.writeFileSync(handlers[0], code.replace(wrap![0], `wrap(${wrap![1]},${wrap![2]}){${patch}return ${wrap![3]}(${wrap![4]}.keySpec,${m},${wrap![4]}.partition,\`the material in secret`));
    const stack = new LocalStack(cloud, 'SecrecyPlanted', {});
    await stack.apply(dir);
    await stack.destroy();
    const logs = stack.invocations.map((i) => i.logs).join('\n');
    for (const name of Object.keys(leaks)) {
      const section = new RegExp(`<<${name}\\n([\\s\\S]*?)>>`).exec(logs)?.[1] ?? '';
      expect({ name, found: scanForMaterial([material], [{ where: name, content: section }]).length > 0 }).toEqual({ name, found: true });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});
