import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { ErrorCodes, PrimaryLookupAttributes, PrimaryLookupProperties } from '../lib/private/contract';
import { kmsClient } from './aws';
import { ImportError } from './errors';
import type { ImportResult } from './importer';

/**
 * Finds a multi-Region primary key by alias in its region, so that a replica stack in another
 * region can name it without a cross-region reference. Read-only; checks that the key can have
 * replicas with imported material, and that its spec is the one the replica was declared with.
 */
export async function lookUpPrimary(props: PrimaryLookupProperties): Promise<ImportResult> {
  const name = `primary key ${props.AliasName} in ${props.PrimaryRegion}`;
  let meta;
  try {
    ({ KeyMetadata: meta } = await kmsClient(props.PrimaryRegion).send(new DescribeKeyCommand({ KeyId: props.AliasName })));
  } catch (e) {
    const err = e as Error;
    if (err.name === 'NotFoundException') {
      throw new ImportError(ErrorCodes.KEY_STATE, `${name} was not found; deploy the primary key's stack first (replicaStack.addStackDependency(primaryStack))`);
    }
    throw new ImportError(ErrorCodes.AWS_ERROR, `${err.name} looking up ${name}: ${err.message}`);
  }
  if (!meta?.Arn || !meta.MultiRegion || meta.MultiRegionConfiguration?.MultiRegionKeyType !== 'PRIMARY') {
    throw new ImportError(ErrorCodes.INVALID_PROPERTY, `${name} (${meta?.Arn}) is not a multi-Region primary key; create it with multiRegion: true`);
  }
  if (meta.Origin !== 'EXTERNAL') {
    throw new ImportError(ErrorCodes.INVALID_PROPERTY, `${name} (${meta.Arn}) has origin ${meta.Origin}, not EXTERNAL`);
  }
  if (meta.KeySpec !== props.KeySpec || meta.KeyUsage !== props.KeyUsage) {
    throw new ImportError(ErrorCodes.KEY_SPEC_USAGE, `${name} is ${meta.KeySpec}/${meta.KeyUsage} but the replica was declared ${props.KeySpec}/${props.KeyUsage}; declare the replica with the primary's keySpec and keyUsage`);
  }
  return { physicalResourceId: meta.Arn, data: { [PrimaryLookupAttributes.ARN]: meta.Arn } };
}
