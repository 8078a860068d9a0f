import type { Handler } from '../context';
import { aliasOperations } from './aliases';
import { cryptoOperations } from './crypto';
import { grantOperations } from './grants';
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
  ...grantOperations,
};

/** Real KMS operations the emulator does not implement: answered with UnsupportedOperationException, not UnknownOperationException. */
export const UNIMPLEMENTED_OPERATIONS = new Set([
  'ConnectCustomKeyStore',
  'CreateCustomKeyStore',
  'DeleteCustomKeyStore',
  'DescribeCustomKeyStores',
  'DisconnectCustomKeyStore',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'ListRetirableGrants',
  'RetireGrant',
  'UpdateCustomKeyStore',
  'UpdatePrimaryRegion',
]);
