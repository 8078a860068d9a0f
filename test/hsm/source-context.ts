import { SourceContext } from '../../lambda/sources/source';

/** The import context a material source sees, for a key of this spec in this partition. */
export function sourceContext(keySpec: string, partition: string): SourceContext {
  return {
    keyArn: `arn:${partition}:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    keySpec,
    partition,
    wrappingAlgorithm: 'RSAES_OAEP_SHA_256',
    wrappingKeySpec: 'RSA_4096',
    now: new Date(),
  };
}
