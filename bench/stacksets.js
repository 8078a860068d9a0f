'use strict';
// Organization scale (docs/organization.md): the key stack as a service-managed StackSet to an OU
// of BENCH_SS_ACCOUNTS accounts (default 100) × BENCH_SS_REGIONS Regions (default 3) in the local
// cloud, at KMS's default request quotas. The material secret is in a security account, read
// across accounts and Regions by the import roles as policy evaluation allows. Every instance is a
// stack deployed by the harness, its import a fresh Node process of the bundled handler.
// Reports wall time, AWS calls per instance (the handler's, and CloudFormation's own KMS calls),
// sequential round trips per import (the longest chain of the handler's calls that do not
// overlap), and checks that every instance's key holds the same material and grants the partner
// exactly the statements the KMS console writes for another account.
// Run: npm run build && nice node bench/stacksets.js   (writes "stacksets" in bench/results.json)
const fs = require('fs');
const os = require('os');
const path = require('path');
const { createHash, randomBytes } = require('crypto');
const { GetKeyPolicyCommand } = require('@aws-sdk/client-kms');
const { PutSecretValueCommand } = require('@aws-sdk/client-secrets-manager');
const { App, CfnOutput, Stack } = require('aws-cdk-lib');
const kms = require('aws-cdk-lib/aws-kms');
const secretsmanager = require('aws-cdk-lib/aws-secretsmanager');
const { now, median, longestChain, forwardingServer, listenLocal } = require('./util');

const ACCOUNTS = Number(process.env.BENCH_SS_ACCOUNTS ?? 100);
const ALL_REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-west-2', 'eu-central-1'];
const REGIONS = ALL_REGIONS.slice(0, Number(process.env.BENCH_SS_REGIONS ?? 3));
const SECURITY = '100000000001';
const PARTNER = '123456789012';
const ROLE = 'ByokImport';
// StackSets' preferences: Regions one after the other, 10 accounts at a time per Region.
const PREFERENCES = { regionConcurrencyType: 'SEQUENTIAL', maxConcurrentCount: 10, failureToleranceCount: 9 };

/**
 * What the KMS console writes into a key policy for another AWS account of a symmetric key
 * ("Default key policy", AWS KMS Developer Guide: key users, and key users with AWS services).
 */
const consoleStatements = (account) => [
  { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'], Resource: '*' },
  { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'], Resource: '*', Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } } },
];
/** A statement without its Sid, actions sorted, in a fixed key order: what two policies must agree on. */
const canonical = (s) => JSON.stringify([s.Effect, s.Principal, [].concat(s.Action).sort(), s.Resource, s.Condition ?? null, Object.keys(s).filter((k) => !['Sid', 'Effect', 'Principal', 'Action', 'Resource', 'Condition'].includes(k))]);

/** A proxy that records each call's service, caller access key id and timing. */
function recordingProxy(upstream, service, records) {
  return listenLocal(forwardingServer(upstream, {
    after: (req, { start, end }) => records.push({ service, accessKeyId: /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1], start, end }),
  }));
}

async function main() {
  const { ExternalKey, KeyMaterial, OrganizationKeyStack, OrganizationMaterialSecret, PartnerAccess } = require('../lib');
  const { LocalCloud, LocalOrganization, LocalStackSet } = require('../testing/harness');
  const members = Array.from({ length: ACCOUNTS }, (_, i) => String(200000000000 + i + 1));
  const loadAverageAtStart = os.loadavg().map((x) => Number(x.toFixed(2)));
  // KMS's default request quotas (LocalCloud turns them on unless told otherwise).
  const cloud = await LocalCloud.start({ region: REGIONS[0], accountId: SECURITY, accounts: members });
  const dirs = [];
  const proxies = [];
  try {
    const org = new LocalOrganization(cloud.principals, SECURITY);
    const ou = org.createOrganizationalUnit('Workloads');
    for (const account of members) await org.addAccount(account, ou);
    const synth = (build) => {
      const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-bench-stacksets-'));
      dirs.push(outdir);
      const app = new App({ outdir });
      build(app);
      app.synth();
      return outdir;
    };

    const material = randomBytes(32);
    const materialSha = createHash('sha256').update(material).digest('hex');
    const securityDir = synth((app) => {
      const stack = new Stack(app, 'Security', { env: { account: SECURITY, region: REGIONS[0] } });
      const m = new OrganizationMaterialSecret(stack, 'Material', { organizationId: org.id, importRoleName: ROLE, regions: REGIONS });
      new CfnOutput(stack, 'SecretArn', { value: m.secret.secretArn });
      new CfnOutput(stack, 'KeyArn', { value: m.encryptionKey.keyArn });
    });
    const security = await cloud.deploy(securityDir, 'Security');
    const { SecretArn: secretArn, KeyArn: secretKeyArn } = security.outputs;
    await cloud.secretsClient(REGIONS[0], SECURITY).send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: material.toString('base64') }));
    material.fill(0);

    const keyDir = synth((app) => {
      const stack = new OrganizationKeyStack(app, 'OrgKeys', { assetBucketPrefix: 'example-byok-assets', importRoleName: ROLE });
      const secret = secretsmanager.Secret.fromSecretAttributes(stack, 'Material', { secretCompleteArn: secretArn, encryptionKey: kms.Key.fromKeyArn(stack, 'MaterialKey', secretKeyArn) });
      const key = new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), alias: 'alias/org-byok', partners: [PartnerAccess.account(PARTNER)] });
      new CfnOutput(stack, 'KeyArn', { value: key.keyArn });
    });

    // The handler's Secrets Manager and CloudFormation calls go through recording proxies.
    const records = [];
    const sm = await recordingProxy(cloud.secretsEndpoint, 'secretsmanager', records);
    const cfn = await recordingProxy(cloud.cloudFormation.endpoint, 'cloudformation', records);
    proxies.push(sm.server, cfn.server);
    const stackSet = new LocalStackSet(cloud, org, {
      name: 'OrgByok', assemblyDir: keyDir, templateStack: 'OrgKeys',
      deployOptions: { lambdaEnv: { AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url, AWS_ENDPOINT_URL_CLOUDFORMATION: cfn.url } },
    });
    cloud.kms.clearCalls();
    process.stderr.write(`[stacksets] ${ACCOUNTS} accounts × ${REGIONS.length} Regions, ${JSON.stringify(PREFERENCES)}\n`);
    const t0 = now();
    const operation = await stackSet.createStackInstances([ou], REGIONS, PREFERENCES);
    const wallMs = Math.round(now() - t0);

    const instances = stackSet.list();
    const handlerCalls = [];
    const cfnKmsCalls = [];
    const chains = [];
    let sameMaterial = 0;
    let partnerExact = 0;
    const expected = consoleStatements(PARTNER).map(canonical).sort();
    for (const i of instances.filter((x) => x.status === 'CURRENT')) {
      const role = `arn:aws:iam::${i.account}:role/${ROLE}-${i.region}`;
      const accessKeyId = cloud.principals.get(role)?.accessKeyId;
      const kmsCalls = cloud.kms.calls.filter((c) => c.account === i.account && c.region === i.region);
      const fromHandler = [
        ...kmsCalls.filter((c) => c.principal.includes(`:assumed-role/${ROLE}-${i.region}/`)).map((c) => ({ service: 'kms', start: c.startedAt, end: c.endedAt })),
        ...records.filter((r) => r.accessKeyId === accessKeyId),
      ];
      handlerCalls.push(fromHandler.length);
      cfnKmsCalls.push(kmsCalls.filter((c) => c.principal.endsWith(':root')).length);
      chains.push(longestChain(fromHandler));
      const keyArn = i.stack.outputs.KeyArn;
      if (JSON.stringify(cloud.kms.inspectKey(keyArn)?.materials.map((m) => m.sha256)) === JSON.stringify([materialSha])) sameMaterial += 1;
      const { Policy } = await cloud.kmsClient(i.region, i.account).send(new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' }));
      const granted = JSON.parse(Policy).Statement.filter((s) => JSON.stringify(s.Principal).includes(PARTNER)).map(canonical).sort();
      if (JSON.stringify(granted) === JSON.stringify(expected)) partnerExact += 1;
    }
    const instanceMs = instances.filter((x) => x.stack?.events.length).map((x) => Math.max(...x.stack.events.map((e) => e.endedAt)) - Math.min(...x.stack.events.map((e) => e.startedAt)));
    const importMs = instances.filter((x) => x.stack?.events.length).map((x) => x.stack.events.filter((e) => e.resourceType.startsWith('Custom::')).reduce((n, e) => n + e.endedAt - e.startedAt, 0));
    const spread = (xs) => ({ min: Math.min(...xs), median: median(xs), max: Math.max(...xs) });
    const row = {
      date: new Date().toISOString(),
      accounts: ACCOUNTS,
      regions: REGIONS.length,
      instances: instances.length,
      preferences: PREFERENCES,
      quotas: 'KMS defaults (GetParametersForImport 1 per 4 s per account and Region)',
      operationStatus: operation.status,
      succeeded: instances.filter((x) => x.status === 'CURRENT').length,
      wallMs,
      msPerInstance: Math.round(wallMs / instances.length),
      instanceDeployMs: spread(instanceMs),
      importResourceMs: spread(importMs),
      peakConcurrency: operation.peakConcurrency,
      handlerCallsPerInstance: spread(handlerCalls),
      cloudFormationKmsCallsPerInstance: spread(cfnKmsCalls),
      sequentialRoundTripsPerImport: spread(chains),
      sameMaterial,
      partnerGetsExactlyConsoleStatements: partnerExact,
      secretsManagerCalls: records.filter((r) => r.service === 'secretsmanager').length,
      throttledKmsRequests: cloud.kms.calls.filter((c) => c.errorType === 'ThrottlingException').length,
      cpus: os.cpus().length,
      loadAverageAtStart,
      errors: instances.filter((x) => x.status !== 'CURRENT').slice(0, 5).map((x) => `${x.account}/${x.region}: ${x.detailedStatus} ${String(x.statusReason).slice(0, 200)}`),
    };
    process.stderr.write(`[stacksets] ${JSON.stringify(row)}\n`);
    return row;
  } finally {
    for (const p of proxies) p.close();
    await cloud.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
}

main().then((row) => {
  const file = path.join(__dirname, 'results.json');
  const results = JSON.parse(fs.readFileSync(file, 'utf8'));
  results.stacksets = row;
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  if (row.succeeded !== row.instances || row.sameMaterial !== row.instances || row.partnerGetsExactlyConsoleStatements !== row.instances) process.exitCode = 1;
}, (e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exitCode = 1;
});
