'use strict';
// The KMS emulator hands out a freshly generated RSA wrapping key pair for every
// GetParametersForImport, as AWS does. Generating an RSA_4096 pair costs the emulator about a
// second of CPU, so back-to-back imports would time the emulator's key generation, not the
// handler. AWS answers GetParametersForImport in tens of milliseconds (it generates ahead), so for
// the benchmark only, the emulator process draws pairs round-robin from a few generated once at
// bench start. Nothing in testing/ is changed: the pool's generator is replaced in this process.
const crypto = require('crypto');
const { promisify } = require('util');

const generateKeyPair = promisify(crypto.generateKeyPair);
const BITS = { RSA_2048: 2048, RSA_3072: 3072, RSA_4096: 4096 };

/** Generates `count` PEM private keys per wrapping key spec, in the libuv thread pool. */
async function generatePairs(counts) {
  const out = {};
  await Promise.all(Object.entries(counts).flatMap(([spec, n]) => Array.from({ length: n }, async () => {
    const { privateKey } = await generateKeyPair('rsa', { modulusLength: BITS[spec], publicExponent: 65537 });
    (out[spec] ??= []).push(privateKey.export({ type: 'pkcs8', format: 'pem' }));
  })));
  return out;
}

/** Makes every KmsEmulator started in this process use the given pairs (PEM, per spec). */
function install(pemsBySpec) {
  const { WrappingKeyPool } = require('../testing/emulator/wrapping-keys');
  const ready = {};
  for (const [spec, pems] of Object.entries(pemsBySpec)) {
    ready[spec] = pems.map((pem) => {
      const privateKey = crypto.createPrivateKey(pem);
      return { privateKey, publicKeyDer: crypto.createPublicKey(privateKey).export({ format: 'der', type: 'spki' }) };
    });
  }
  const original = WrappingKeyPool.prototype.generate;
  if (typeof original !== 'function') throw new Error('testing/emulator/wrapping-keys: WrappingKeyPool has no generate() any more; update bench/wrapping-pool.js');
  const next = {};
  WrappingKeyPool.prototype.generate = function generate(spec) {
    const list = ready[spec];
    if (!list?.length) return original.call(this, spec);
    next[spec] = ((next[spec] ?? -1) + 1) % list.length;
    return Promise.resolve(list[next[spec]]);
  };
}

module.exports = { generatePairs, install };
