/**
 * A local AWS KMS emulator for bring-your-own-key tests: the JSON 1.1 wire protocol, EXTERNAL
 * keys with real wrapping-key pairs, single-use 24-hour import tokens, real unwrapping and
 * validation of the imported material, expiry on a movable clock, rotation of imported material,
 * multi-Region replicas, and cryptography computed with the imported material.
 * Behaviour follows AWS's documentation; comments name the page (README.md, "Sources").
 */
export { KmsEmulator } from './server';
export type { KmsEmulatorOptions, CallRecord, InspectedKey, InspectedMaterial } from './server';
export { EmulatorClock } from './clock';
export { CRYPTO_QUOTA, DEFAULT_REQUEST_QUOTAS, RequestQuotas } from './quotas';
export type { QuotaOptions } from './quotas';
export type { FaultRule } from './faults';
export { keyMaterialFingerprint } from './material';
export type { KeySpec } from './specs';
