import { Arn, ArnFormat, Stage, StageProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { KeyMaterialEncoding } from '../lib';
import { ByokConfig } from './config';
import { PartnerKeyStack } from './partner-key-stack';
import { SecretAccessStack } from './secret-access-stack';

/**
 * Declares one PartnerKeyStack per (account, region) of the config, named
 * `PartnerKey-<account>-<region>` so that adding or removing a target adds or removes only that
 * stack. Env-agnostic when the config names no account/region.
 */
export function addPartnerKeyStacks(scope: Construct, config: ByokConfig): PartnerKeyStack[] {
  const accounts: Array<string | undefined> = config.accounts?.length ? config.accounts : [undefined];
  const regions: Array<string | undefined> = config.regions?.length ? config.regions : [undefined];
  if (config.multiRegion && (regions.length < 2 || regions[0] === undefined)) {
    throw new Error('multiRegion needs at least two regions in the config: the first is the primary');
  }
  const stacks: PartnerKeyStack[] = [];
  for (const account of accounts) {
    const primaryRegion = regions[0];
    let primary: PartnerKeyStack | undefined;
    for (const region of regions) {
      const isReplica = config.multiRegion && region !== primaryRegion;
      const stack = new PartnerKeyStack(scope, `PartnerKey-${account ?? 'default'}-${region ?? 'default'}`, {
        env: { account, region },
        partnerAccountIds: config.partnerAccountIds,
        secretArn: config.secretArn,
        secretName: config.secretName,
        secretKeyArn: config.secretKeyArn,
        alias: config.alias,
        expirationDays: config.expirationDays,
        encoding: config.encoding as KeyMaterialEncoding | undefined,
        multiRegionPrimary: config.multiRegion && !isReplica,
        replicaOfRegion: isReplica ? primaryRegion : undefined,
      });
      // A replica is created from an imported primary: deploy the primary first.
      if (isReplica && primary) stack.addStackDependency(primary);
      if (!isReplica) primary = stack;
      stacks.push(stack);
    }
  }
  const access = secretAccessStack(scope, config, accounts);
  for (const stack of stacks) if (access && stack.account !== access.account) stack.addStackDependency(access);
  return stacks;
}

/**
 * When the app also deploys to the secret's own account, it gives the other accounts read access
 * there (the secret's resource policy) and prints the key policy statement for the secret's key.
 */
function secretAccessStack(scope: Construct, config: ByokConfig, accounts: Array<string | undefined>): SecretAccessStack | undefined {
  if (!config.secretArn) return undefined;
  const { account, region } = Arn.split(config.secretArn, ArnFormat.COLON_RESOURCE_NAME);
  const readers = accounts.filter((a): a is string => a !== undefined && a !== account);
  if (!account || !region || !accounts.includes(account) || readers.length === 0) return undefined;
  return new SecretAccessStack(scope, `ByokSecretAccess-${account}-${region}`, { env: { account, region }, secretArn: config.secretArn, readerAccounts: readers });
}

export interface ByokStageProps extends StageProps {
  readonly config: ByokConfig;
}

/** The same stacks inside a Stage, for CDK Pipelines (one stage per environment/wave). */
export class ByokStage extends Stage {
  public readonly stacks: PartnerKeyStack[];

  constructor(scope: Construct, id: string, props: ByokStageProps) {
    super(scope, id, props);
    this.stacks = addPartnerKeyStacks(this, props.config);
  }
}
