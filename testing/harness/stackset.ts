/**
 * A service-managed CloudFormation StackSet in the local cloud: one template deployed as stack
 * instances to the accounts of organizational units × Regions, with the operation preferences of
 * the StackSets API ("StackSetOperationPreferences", CloudFormation API Reference):
 *
 * - Regions one after the other in `regionOrder` (SEQUENTIAL, the default) or all at once (PARALLEL).
 * - Per Region, at most MaxConcurrentCount accounts at a time (MaxConcurrentPercentage of the
 *   Region's accounts, rounded down, at least 1); default 1.
 * - Per Region, FailureToleranceCount failed accounts are tolerated (FailureTolerancePercentage
 *   rounded down); default 0. One more and the operation stops in that Region: instances not yet
 *   started are CANCELLED, and no later Region is attempted.
 * - ConcurrencyMode STRICT_FAILURE_TOLERANCE (default): concurrency starts at
 *   min(MaxConcurrentCount, FailureToleranceCount + 1) and drops by one per failure;
 *   SOFT_FAILURE_TOLERANCE keeps MaxConcurrentCount.
 *
 * Each instance is a stack deployed by the local CloudFormation (`cloud.deploy`), in its account and
 * Region, with CloudFormation's rollback. Instance status: CURRENT when its last operation
 * succeeded, OUTDATED otherwise (detailed status FAILED, CANCELLED, PENDING, RUNNING).
 * Automatic deployment: an account that moves into a target OU gets instances in every Region of
 * the StackSet (operation preferences do not apply to automatic deployment); an account that
 * leaves loses them unless `retainStacksOnAccountRemoval`.
 */
import { randomUUID } from 'crypto';
import type { DeployOptions, LocalCloud, LocalStack } from './local-cloud';
import type { LocalOrganization } from './organization';

export interface OperationPreferences {
  readonly regionConcurrencyType?: 'SEQUENTIAL' | 'PARALLEL';
  /** @default - the order the Regions were given in */
  readonly regionOrder?: string[];
  /** Give either this or maxConcurrentPercentage. @default 1 */
  readonly maxConcurrentCount?: number;
  readonly maxConcurrentPercentage?: number;
  /** Give either this or failureTolerancePercentage. @default 0 */
  readonly failureToleranceCount?: number;
  readonly failureTolerancePercentage?: number;
  /** @default 'STRICT_FAILURE_TOLERANCE' */
  readonly concurrencyMode?: 'STRICT_FAILURE_TOLERANCE' | 'SOFT_FAILURE_TOLERANCE';
}

export interface LocalStackSetOptions {
  /** The StackSet's name. */
  readonly name: string;
  /** The cloud assembly directory and the stack (artifact id) whose template the StackSet deploys. */
  readonly assemblyDir: string;
  readonly templateStack: string;
  /** @default { enabled: true, retainStacksOnAccountRemoval: false } */
  readonly autoDeployment?: { readonly enabled: boolean; readonly retainStacksOnAccountRemoval?: boolean };
  /** Passed to every instance's deployment (e.g. `lambdaEnv`); the environment is the instance's. @default {} */
  readonly deployOptions?: Omit<DeployOptions, 'environment'>;
}

export type DetailedStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

/** One stack instance, as DescribeStackInstance reports it. */
export interface StackInstance {
  readonly account: string;
  readonly region: string;
  readonly status: 'CURRENT' | 'OUTDATED';
  readonly detailedStatus: DetailedStatus;
  /** Why the last operation failed, CloudFormation's status reason. */
  readonly statusReason?: string;
  readonly stack?: LocalStack;
}

export interface OperationResult {
  readonly operationId: string;
  readonly status: 'SUCCEEDED' | 'FAILED';
  /** Per instance of the operation, in the order they ended. */
  readonly results: StackInstance[];
  /** The greatest number of instances that were deploying at the same time, per Region. */
  readonly peakConcurrency: Record<string, number>;
}

export class LocalStackSet {
  private readonly instances = new Map<string, StackInstance>();
  /** The OUs and Regions of the StackSet's instances (CreateStackInstances adds to them). */
  private readonly targetOus = new Set<string>();
  private readonly regions: string[] = [];
  /** Automatic deployments, in the order they ran. */
  public readonly autoDeployments: OperationResult[] = [];

  constructor(private readonly cloud: LocalCloud, private readonly organization: LocalOrganization, private readonly options: LocalStackSetOptions) {
    organization.onAccountMove((account, from, to) => this.accountMoved(account, from, to));
  }

  /** CreateStackInstances for service-managed permissions: every account of the OUs × the Regions. */
  public async createStackInstances(organizationalUnitIds: string[], regions: string[], preferences: OperationPreferences = {}): Promise<OperationResult> {
    for (const ou of organizationalUnitIds) this.targetOus.add(ou);
    for (const r of regions) if (!this.regions.includes(r)) this.regions.push(r);
    const accounts = [...new Set(organizationalUnitIds.flatMap((ou) => this.organization.accountsIn(ou)))];
    return this.operate(accounts, regions, preferences);
  }

  /** Runs the operation again for every instance that is not CURRENT (what an operator does after fixing the cause). */
  public async retryFailed(preferences: OperationPreferences = {}): Promise<OperationResult> {
    const outdated = this.list().filter((i) => i.status !== 'CURRENT');
    const regions = [...new Set(outdated.map((i) => i.region))];
    return this.operate([...new Set(outdated.map((i) => i.account))], regions, preferences, (account, region) => outdated.some((i) => i.account === account && i.region === region));
  }

  /** ListStackInstances. */
  public list(): StackInstance[] {
    return [...this.instances.values()];
  }

  /** DescribeStackInstance. */
  public instance(account: string, region: string): StackInstance | undefined {
    return this.instances.get(`${account}/${region}`);
  }

  private async accountMoved(account: string, from: string | undefined, to: string | undefined): Promise<void> {
    const auto = this.options.autoDeployment ?? { enabled: true };
    if (!auto.enabled) return;
    const wasTarget = [...this.targetOus].some((ou) => this.organization.isWithin(from, ou));
    const isTarget = [...this.targetOus].some((ou) => this.organization.isWithin(to, ou));
    if (isTarget && !wasTarget) {
      // Preferences do not apply to automatic deployment; all Regions of the StackSet.
      this.autoDeployments.push(await this.operate([account], this.regions, { regionConcurrencyType: 'PARALLEL' }));
    } else if (wasTarget && !isTarget && !auto.retainStacksOnAccountRemoval) {
      for (const region of this.regions) {
        const instance = this.instance(account, region);
        await instance?.stack?.destroy();
        this.instances.delete(`${account}/${region}`);
      }
    }
  }

  private async operate(accounts: string[], regions: string[], preferences: OperationPreferences, include = (_a: string, _r: string) => true): Promise<OperationResult> {
    checkPreferences(preferences);
    const operationId = randomUUID();
    const order = preferences.regionOrder ? [...preferences.regionOrder, ...regions.filter((r) => !preferences.regionOrder!.includes(r))] : regions;
    const results: StackInstance[] = [];
    const peakConcurrency: Record<string, number> = {};
    for (const region of order) for (const account of accounts) if (include(account, region)) this.set(account, region, 'PENDING');
    let failed = false;
    const runRegion = async (region: string) => {
      const targets = accounts.filter((a) => include(a, region));
      const { stopped, peak } = await this.deployRegion(region, targets, preferences, results);
      peakConcurrency[region] = peak;
      return stopped;
    };
    if (preferences.regionConcurrencyType === 'PARALLEL') {
      failed = (await Promise.all(order.map(runRegion))).some((stopped) => stopped);
    } else {
      for (const region of order) {
        if (failed) {
          // The operation stopped in an earlier Region: later Regions are not attempted.
          for (const account of accounts) if (include(account, region)) results.push(this.set(account, region, 'CANCELLED', 'Cancelled since failure tolerance has exceeded'));
          continue;
        }
        failed = await runRegion(region);
      }
    }
    return { operationId, status: failed ? 'FAILED' : 'SUCCEEDED', results, peakConcurrency };
  }

  /** One Region of an operation; `stopped` when the failures exceeded the tolerance. */
  private async deployRegion(region: string, accounts: string[], p: OperationPreferences, results: StackInstance[]): Promise<{ stopped: boolean; peak: number }> {
    const n = accounts.length;
    const tolerance = p.failureTolerancePercentage !== undefined ? Math.floor((p.failureTolerancePercentage * n) / 100) : p.failureToleranceCount ?? 0;
    const maxConcurrent = p.maxConcurrentPercentage !== undefined ? Math.max(1, Math.floor((p.maxConcurrentPercentage * n) / 100)) : p.maxConcurrentCount ?? 1;
    const strict = (p.concurrencyMode ?? 'STRICT_FAILURE_TOLERANCE') === 'STRICT_FAILURE_TOLERANCE';
    let failures = 0;
    let running = 0;
    let peak = 0;
    let next = 0;
    const limit = () => (strict ? Math.max(1, Math.min(maxConcurrent, tolerance + 1 - failures)) : maxConcurrent);
    const stopped = () => failures > tolerance;
    await new Promise<void>((done) => {
      const pump = () => {
        while (!stopped() && next < n && running < limit()) {
          const account = accounts[next++];
          running += 1;
          peak = Math.max(peak, running);
          this.deployInstance(account, region).then((instance) => {
            results.push(instance);
            if (instance.detailedStatus === 'FAILED') failures += 1;
            running -= 1;
            pump();
          });
        }
        if (running === 0 && (stopped() || next >= n)) done();
      };
      pump();
    });
    for (const account of accounts.slice(next)) results.push(this.set(account, region, 'CANCELLED', 'Cancelled since failure tolerance has exceeded'));
    return { stopped: stopped(), peak };
  }

  private async deployInstance(account: string, region: string): Promise<StackInstance> {
    const existing = this.instance(account, region);
    this.set(account, region, 'RUNNING');
    try {
      let stack = existing?.stack;
      if (stack) {
        await stack.apply(this.options.assemblyDir);
      } else {
        const stackName = `StackSet-${this.options.name}-${randomUUID()}`;
        stack = await this.cloud.deploy(this.options.assemblyDir, this.options.templateStack, { ...this.options.deployOptions, environment: { account, region, stackName } });
      }
      return this.set(account, region, 'SUCCEEDED', undefined, stack);
    } catch (e) {
      // A failed creation was rolled back: the next attempt creates the stack anew.
      return this.set(account, region, 'FAILED', `ResourceLogicalId:${(e as any).logicalId ?? '?'}, ResourceStatusReason:${(e as any).reason ?? (e as Error).message}`, existing?.stack);
    }
  }

  private set(account: string, region: string, detailedStatus: DetailedStatus, statusReason?: string, stack = this.instance(account, region)?.stack): StackInstance {
    const instance: StackInstance = { account, region, status: detailedStatus === 'SUCCEEDED' ? 'CURRENT' : 'OUTDATED', detailedStatus, statusReason, stack };
    this.instances.set(`${account}/${region}`, instance);
    return instance;
  }
}

/** The API's rules: one of count or percentage, and percentages are integers from 0 to 100 (STRICT mode's concurrency cap is applied per Region, in deployRegion). */
function checkPreferences(p: OperationPreferences): void {
  if (p.maxConcurrentCount !== undefined && p.maxConcurrentPercentage !== undefined) throw new Error('ValidationError: specify either MaxConcurrentCount or MaxConcurrentPercentage, not both');
  if (p.failureToleranceCount !== undefined && p.failureTolerancePercentage !== undefined) throw new Error('ValidationError: specify either FailureToleranceCount or FailureTolerancePercentage, not both');
  for (const pct of [p.maxConcurrentPercentage, p.failureTolerancePercentage]) {
    if (pct !== undefined && (pct < 0 || pct > 100 || !Number.isInteger(pct))) throw new Error('ValidationError: a percentage is an integer from 0 to 100');
  }
}
