'use strict';
// Helpers shared by the benchmark's processes (see bench/run.js for the overall design).
const http = require('http');
const crypto = require('crypto');

const REGION = 'us-east-1';
const ACCOUNT = '111122223333';
const CREDENTIALS = { accessKeyId: 'AKIALOCALTEST000000', secretAccessKey: 'local-secret-access-key' };
/** The bundled handler: bench/run.js hands its workers a snapshot of assets/import-handler. */
const HANDLER_FILE = process.env.BENCH_HANDLER_FILE ?? require('path').join(__dirname, '..', 'assets', 'import-handler', 'index.js');
/** Regions of the replicas, in order (the primary is in REGION). */
const REPLICA_REGIONS = ['us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-1', 'ap-northeast-1', 'sa-east-1', 'ca-central-1', 'eu-west-2', 'ap-south-1', 'us-east-2'];

/** Epoch milliseconds with sub-millisecond resolution, comparable across processes of this machine. */
const now = () => performance.timeOrigin + performance.now();

function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function quantile(values, q) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  return v[Math.min(v.length - 1, Math.max(0, Math.round(q * (v.length - 1))))];
}

/** median and spread of a sample, rounded for the report. */
function summary(values, digits = 2) {
  const r = (x) => Number(x.toFixed(digits));
  return { median: r(median(values)), p10: r(quantile(values, 0.1)), p90: r(quantile(values, 0.9)), n: values.length };
}

/**
 * The number of sequential round trips: the length of the longest chain of calls in which each
 * call starts after the previous one has ended (calls that overlap were in flight together).
 */
function longestChain(calls) {
  const s = [...calls].sort((a, b) => a.start - b.start);
  const len = [];
  let best = 0;
  for (let i = 0; i < s.length; i++) {
    len[i] = 1;
    for (let j = 0; j < i; j++) if (s[j].end <= s[i].start && len[j] + 1 > len[i]) len[i] = len[j] + 1;
    best = Math.max(best, len[i]);
  }
  return best;
}

/** The calls of the longest chain as "A ‖ B → C": calls that overlap share a step. */
function callShape(calls) {
  const s = [...calls].sort((a, b) => a.start - b.start);
  const steps = [];
  for (const c of s) {
    const last = steps[steps.length - 1];
    if (last && c.start < Math.max(...last.map((x) => x.end))) last.push(c);
    else steps.push([c]);
  }
  return steps.map((step) => step.map((c) => c.operation).join(' ‖ ')).join(' → ');
}

/** A JSON POST to the bench services' control endpoint (see bench/services.js). */
function control(url, cmd, args = {}) {
  const body = JSON.stringify({ cmd, ...args });
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { data += d; });
      res.on('end', () => {
        let parsed;
        try { parsed = JSON.parse(data); } catch { return reject(new Error(`control ${cmd}: HTTP ${res.statusCode} ${data.slice(0, 200)}`)); }
        if (res.statusCode !== 200) return reject(new Error(`control ${cmd}: ${parsed.error}`));
        resolve(parsed);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Every invocation in `pending` ({ responseUrl, what }) must have answered CloudFormation exactly
 * once, with SUCCESS, or the figures measured nothing. `detail` is added to the error.
 */
async function checkAnswers(controlUrl, pending, detail = '') {
  const { answers } = await control(controlUrl, 'answers', { urls: pending.map((p) => p.responseUrl) });
  const failures = pending.map((p, i) => ({ ...p, answers: answers[i] })).filter((p) => p.answers.length !== 1 || p.answers[0].Status !== 'SUCCESS');
  if (failures.length) {
    throw new Error(`${failures.length} of ${pending.length} invocations did not answer SUCCESS once, e.g. ${failures[0].what}: ${JSON.stringify(failures[0].answers).slice(0, 400)}${detail}`);
  }
}

/** The stack the bench's handler belongs to (CDK_KMS_BYOK_STACK_ID). */
const BENCH_STACK_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/Bench/00000000-0000-4000-8000-000000000000`;

/** A CloudFormation Create event for the import custom resource, as CloudFormation sends it. */
function importEvent({ keyArn, keySpec, keyUsage, algorithm, wrappingKeySpec = 'RSA_4096', secretArn, encoding, responseUrl, requestType = 'Create', replica }) {
  const props = {
    ServiceToken: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:bench-import-handler`,
    KeyArn: keyArn,
    KeySpec: keySpec,
    KeyUsage: keyUsage,
    WrappingAlgorithm: algorithm,
    WrappingKeySpec: wrappingKeySpec,
    Material: { Type: 'SecretsManager', SecretArn: secretArn, Encoding: encoding },
    Expiration: { Model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' },
    ...(replica ? { Replica: 'true' } : {}),
  };
  return {
    RequestType: requestType,
    ServiceToken: props.ServiceToken,
    ResponseURL: responseUrl,
    StackId: BENCH_STACK_ID,
    RequestId: crypto.randomUUID(),
    // The bench's stand-in for CloudFormation (services.js) confirms an event from what its
    // logical id carries: the request type and the key (the physical id of an Update).
    LogicalResourceId: `BenchKeyImport|${requestType}|${keyArn}`,
    ResourceType: 'Custom::KmsKeyMaterialImport',
    ResourceProperties: props,
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: keyArn, OldResourceProperties: props }),
  };
}

/** The environment of the handler: what Lambda sets, and the standard endpoint variables. */
function lambdaEnv(endpoints, region = REGION) {
  return {
    PATH: process.env.PATH ?? '',
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_KMS: endpoints.kms,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsmanager,
    AWS_ENDPOINT_URL_CLOUDFORMATION: endpoints.cloudformation,
    NODE_EXTRA_CA_CERTS: endpoints.caFile,
    CDK_KMS_BYOK_STACK_ID: BENCH_STACK_ID,
  };
}

/** Reads everything a child prints, keeping the tail for error messages. */
function tail(stream, max = 8000) {
  const box = { text: '' };
  stream?.setEncoding('utf8');
  stream?.on('data', (d) => { box.text = (box.text + d).slice(-max); });
  return box;
}

/** A worker forked by run.js: runs `run(plan)` on the 'run' message and sends back its result or error. */
function serveWorker(run) {
  process.on('message', (msg) => {
    if (msg.type !== 'run') return;
    run(msg.plan).then(
      (result) => process.send({ type: 'result', result }, () => process.exit(0)),
      (e) => process.send({ type: 'error', error: String(e?.stack ?? e) }, () => process.exit(1)),
    );
  });
}

/**
 * A pass-through HTTP server in front of a local service (the KMS emulator, the kit's Secrets
 * Manager or CloudFormation). `before(req)` may hold a request back (a simulated latency);
 * `after(req, call)` sees each one answered, with its start and end (epoch ms) and status (0 when
 * the upstream failed, with `error`). Not listening yet: the caller listens and closes it.
 */
function forwardingServer(upstream, { before, after } = {}) {
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  return http.createServer((req, res) => {
    const start = now();
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      if (before) await before(req);
      const body = Buffer.concat(chunks);
      const up = http.request({
        host: target.hostname, port: target.port, method: req.method, path: req.url, agent,
        headers: { ...req.headers, host: target.host, 'content-length': body.length },
      }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        res.on('finish', () => after?.(req, { start, end: now(), status: upRes.statusCode }));
      });
      up.on('error', (e) => {
        after?.(req, { start, end: now(), status: 0, error: e.message });
        res.destroy();
      });
      up.end(body);
    });
  });
}

/** Listens on 127.0.0.1 at a free port: `{ server, url }`. */
function listenLocal(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` }));
  });
}

module.exports = { REGION, ACCOUNT, CREDENTIALS, HANDLER_FILE, REPLICA_REGIONS, now, median, quantile, summary, longestChain, callShape, control, checkAnswers, importEvent, lambdaEnv, tail, serveWorker, forwardingServer, listenLocal };
