export * from './external-key';
export * from './external-key-replica';
export * from './key-base';
export * from './key-material';
export * from './pkcs11-material'; // issue 5
export * from './partner-access';
export * from './expiration';
export * from './wrapping';
export { IMPORT_RESOURCE_TYPE } from './private/contract';
export * from './organization';
