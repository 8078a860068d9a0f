import type { Handler } from '../context';
import { aliasOperations } from './aliases';
import { cryptoOperations } from './crypto';
import { importOperations } from './import';
import { keyOperations } from './keys';
import { replicationOperations } from './replication';
import { rotationOperations } from './rotation';

/** Every operation the emulator implements, by its X-Amz-Target name (`TrentService.<name>`). */
export const OPERATIONS: Record<string, Handler> = {
  ...keyOperations,
  ...aliasOperations,
  ...importOperations,
  ...rotationOperations,
  ...replicationOperations,
  ...cryptoOperations,
};

/** Real KMS operations the emulator does not implement: answered with UnsupportedOperationException, not UnknownOperationException. */
export const UNIMPLEMENTED_OPERATIONS = new Set([
  'ConnectCustomKeyStore',
  'CreateCustomKeyStore',
  'CreateGrant',
  'DeleteCustomKeyStore',
  'DeriveSharedSecret',
  'DescribeCustomKeyStores',
  'DisconnectCustomKeyStore',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'ListGrants',
  'ListRetirableGrants',
  'RetireGrant',
  'RevokeGrant',
  'UpdateCustomKeyStore',
  'UpdatePrimaryRegion',
]);
