'use strict';
// The local AWS of the benchmark, in its own process so that none of its CPU is counted as the
// handler's: the KMS emulator, the kit's Secrets Manager (testing/secrets-manager), a ResponseURL server, and
// one recording proxy in front of each service. The handler is pointed at the proxies through the
// standard AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL_SECRETS_MANAGER variables, so every AWS call it
// makes, to either service, is seen and timed in one place. The proxies also inject latency for
// Secrets Manager (the emulator's own setLatency does it for KMS).
//
// Started with child_process.fork by bench/run.js; it answers {type:'start'} with {type:'ready'}
// and is driven over a small JSON control endpoint (bench/util.js control()).
const http = require('http');
const { setTimeout: sleep } = require('timers/promises');
const { KMSClient, CreateKeyCommand, ReplicateKeyCommand } = require('@aws-sdk/client-kms');
const { SecretsManagerClient, CreateSecretCommand } = require('@aws-sdk/client-secrets-manager');
const { CREDENTIALS, ACCOUNT, REGION, forwardingServer } = require('./util');
const wrappingPool = require('./wrapping-pool');

let emulator;
let secretsManager;
let responses;
let cloudFormation;
const servers = [];
/** Every AWS call that went through a proxy since the last clear. */
let calls = [];
const delayMs = { kms: 0, secretsmanager: 0 };

function startProxy(service, upstream) {
  const operationOf = (req) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    return target.includes('.') ? target.slice(target.indexOf('.') + 1) : `${req.method} ${req.url}`;
  };
  return listen(forwardingServer(upstream, {
    before: () => (service === 'secretsmanager' && delayMs.secretsmanager > 0 ? sleep(delayMs.secretsmanager) : undefined),
    after: (req, call) => calls.push({ service, operation: operationOf(req), ...call }),
  }));
}

function listen(server) {
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

const clients = {};
function kms(region) {
  return (clients[`kms:${region}`] ??= new KMSClient({ region, endpoint: emulator.endpoint, credentials: CREDENTIALS }));
}
function secrets(region) {
  return (clients[`sm:${region}`] ??= new SecretsManagerClient({ region, endpoint: secretsManager.endpoint, credentials: CREDENTIALS }));
}

const commands = {
  async setup({ keys = [], secrets: wanted = [] }) {
    const keyArns = await Promise.all(keys.map(async (k) => {
      const out = await kms(k.region ?? REGION).send(new CreateKeyCommand({ Origin: 'EXTERNAL', KeySpec: k.keySpec, KeyUsage: k.keyUsage, MultiRegion: Boolean(k.multiRegion) }));
      return out.KeyMetadata.Arn;
    }));
    const secretArns = await Promise.all(wanted.map(async (s) => {
      const out = await secrets(s.region ?? REGION).send(new CreateSecretCommand({
        Name: s.name,
        SecretString: s.secretString,
        SecretBinary: s.secretBinaryB64 ? Buffer.from(s.secretBinaryB64, 'base64') : undefined,
      }));
      return out.ARN;
    }));
    return { keyArns, secretArns };
  },
  /** Replicas of a multi-Region primary key, one per region (after its material is imported). */
  async replicate({ primaryKeyArn, regions }) {
    const primaryRegion = primaryKeyArn.split(':')[3];
    const replicaArns = await Promise.all(regions.map(async (region) => {
      const out = await kms(primaryRegion).send(new ReplicateKeyCommand({ KeyId: primaryKeyArn, ReplicaRegion: region }));
      return out.ReplicaKeyMetadata.Arn;
    }));
    return { replicaArns };
  },
  latency({ kms: kmsMs = 0, secretsmanager = 0 }) {
    emulator.setLatency(kmsMs);
    delayMs.kms = kmsMs;
    delayMs.secretsmanager = secretsmanager;
    return { ok: true };
  },
  clear() {
    calls = [];
    emulator.clearCalls();
    return { ok: true };
  },
  /** The calls seen by the proxies, and how many the emulator itself recorded (a cross-check). */
  calls({ clear = false }) {
    const out = {
      calls,
      emulatorCalls: emulator.calls.map((c) => c.operation),
      // The emulator's own record (ms resolution), for handlers pointed at it without the proxy.
      emulatorCallTimes: emulator.calls.map((c) => ({ service: 'kms', operation: c.operation, start: c.startedAt, end: c.endedAt, status: c.status })),
    };
    if (clear) commands.clear();
    return out;
  },
  responseUrls({ count = 1 }) {
    return { urls: Array.from({ length: count }, () => responses.newUrl()) };
  },
  answers({ urls }) {
    return { answers: urls.map((u) => responses.answersFor(u)) };
  },
  /** CPU used so far (ms) by this process: emulator, Secrets Manager and proxies. */
  cpu() {
    const own = process.cpuUsage();
    return { servicesMs: (own.user + own.system) / 1000 };
  },
  inspect({ keyArn }) {
    return { key: emulator.inspectKey(keyArn) ?? null };
  },
};

async function controlServer() {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', async () => {
      try {
        const { cmd, ...args } = JSON.parse(body || '{}');
        if (!commands[cmd]) throw new Error(`unknown command ${cmd}`);
        const result = await commands[cmd](args);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
      } catch (e) {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(e?.stack ?? e) }));
      }
    });
  });
  return listen(server);
}

async function start(pairs) {
  wrappingPool.install(pairs);
  const { KmsEmulator } = require('../testing/emulator');
  const { SecretsManagerServer } = require('../testing/secrets-manager');
  const { ResponseServer } = require('../testing/harness/response-server');
  const { CloudFormationServer } = require('../testing/harness/cloudformation');
  const STATUS = { Create: 'CREATE_IN_PROGRESS', Update: 'UPDATE_IN_PROGRESS', Delete: 'DELETE_IN_PROGRESS' };
  // Confirms every event of the bench's stack, from what util.js importEvent puts in its logical id.
  const confirm = (stackName, logicalId) => {
    const [, requestType, keyArn] = logicalId.split('|');
    return { stackId: stackName, stackName: 'Bench', logicalId, physicalId: requestType === 'Create' ? undefined : keyArn, resourceType: 'Custom::KmsKeyMaterialImport', status: STATUS[requestType], updatedAt: new Date() };
  };
  [emulator, secretsManager, responses, cloudFormation] = await Promise.all([
    KmsEmulator.start({ region: REGION, accountId: ACCOUNT }),
    SecretsManagerServer.start({ region: REGION, accountId: ACCOUNT }),
    ResponseServer.start(),
    CloudFormationServer.start(confirm, () => ({ arn: `arn:aws:iam::${ACCOUNT}:root`, account: ACCOUNT })),
  ]);
  const [kmsProxy, smProxy, control] = await Promise.all([startProxy('kms', emulator.endpoint), startProxy('secretsmanager', secretsManager.endpoint), controlServer()]);
  return { kms: kmsProxy, secretsmanager: smProxy, kmsDirect: emulator.endpoint, secretsmanagerDirect: secretsManager.endpoint, control, cloudformation: cloudFormation.endpoint, caFile: responses.caFile };
}

async function stop() {
  for (const c of Object.values(clients)) c.destroy();
  for (const s of servers) { s.closeAllConnections?.(); s.close(); }
  await Promise.allSettled([emulator?.stop(), secretsManager?.stop(), responses?.stop(), cloudFormation?.stop()]);
}

process.on('message', async (msg) => {
  try {
    if (msg.type === 'start') process.send({ type: 'ready', endpoints: await start(msg.pairs) });
    if (msg.type === 'stop') {
      await stop();
      process.send({ type: 'stopped' }, () => process.exit(0));
    }
  } catch (e) {
    process.send({ type: 'error', error: String(e?.stack ?? e) });
    await stop().catch(() => undefined);
    process.exit(1);
  }
});
// If the orchestrator dies, do not leave the servers running.
process.on('disconnect', () => { stop().finally(() => process.exit(0)); });
