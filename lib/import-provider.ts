import * as path from 'path';
import { Annotations, Aws, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IConstruct } from 'constructs';
import { STACK_ID_ENV } from './private/contract';
import { GET_PARAMETERS_INTERVAL_SECONDS, IMPORT_FUNCTION_TIMEOUT_SECONDS, importsWithinBudget } from './private/quota-budget';

/**
 * How long CloudFormation waits for the handler's answer. The handler answers 15 s before its own
 * 15-minute timeout (it may wait that long for a GetParametersForImport slot, see
 * private/quota-budget.ts); this bound covers the case where it cannot (the function crashed or
 * was never invoked), so that a stack never waits CloudFormation's default hour.
 */
export const IMPORT_SERVICE_TIMEOUT = Duration.minutes(20);

/** The handler's runtime (the benchmark measures the handler on the same Node.js major version). */
export const HANDLER_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Where `npm run build` puts the pre-bundled handler (see scripts/bundle-handler.js). */
export const HANDLER_ASSET_DIR = path.join(__dirname, '..', 'assets', 'import-handler');

/**
 * The one import handler Lambda of a stack, shared by every ExternalKey in it. The role has no
 * standing KMS permissions: each key's own key policy lets the role import into that key, and
 * the role reads exactly the secrets its keys use (docs/decisions/0003).
 */
export class ImportProvider extends Construct {
  /** Construct id under the stack; a compatibility contract (renaming replaces the function). */
  private static readonly ID = 'CdkKmsByokImportProvider';

  public static getOrCreate(scope: IConstruct): ImportProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(ImportProvider.ID) as ImportProvider | undefined;
    return existing ?? new ImportProvider(stack, ImportProvider.ID);
  }

  public readonly function: lambda.Function;
  public readonly role: iam.Role;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'cdk-kms-byok key material import handler',
    });
    // An explicit log group so the role can be scoped to it without a dependency cycle.
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_YEAR });
    this.function = new lambda.Function(this, 'Handler', {
      code: lambda.Code.fromAsset(HANDLER_ASSET_DIR),
      handler: 'index.handler',
      runtime: HANDLER_RUNTIME,
      // The handler answers CloudFormation itself before this deadline (withDeadline in
      // lambda/index.ts). Lambda's maximum: the last import of a large stack waits about 4 s per
      // key before it for a GetParametersForImport slot (docs/decisions/0009).
      timeout: Duration.seconds(IMPORT_FUNCTION_TIMEOUT_SECONDS),
      memorySize: 512,
      role: this.role,
      logGroup,
      description: 'Imports key material into EXTERNAL-origin KMS keys (cdk-kms-byok)',
      // The handler acts only on its own stack's events, as CloudFormation confirms (docs/decisions/0011).
      environment: { [STACK_ID_ENV]: Aws.STACK_ID },
    });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudformation:DescribeStackResource'], resources: [Aws.STACK_ID] }));
    // Logs only here; KMS permissions are in each key's policy, secret reads are added per secret.
    logGroup.grantWrite(this.role);
  }

  public get serviceToken(): string {
    return this.function.functionArn;
  }

  private imports = 0;
  private renewals = 0;

  /**
   * Counts one more import in this stack and warns, once, when the stack has more than fit the
   * handler's budget at KMS's default GetParametersForImport quota.
   */
  public registerImport(): void {
    this.imports += 1;
    const limit = importsWithinBudget();
    if (this.imports === limit + 1) {
      Annotations.of(Stack.of(this)).addWarningV2('cdk-kms-byok:importQuota',
        `This stack imports key material into more than ${limit} keys. KMS allows one GetParametersForImport every ${GET_PARAMETERS_INTERVAL_SECONDS} seconds per account and Region by default, so the last imports may not get their turn within the import handler's ${IMPORT_FUNCTION_TIMEOUT_SECONDS / 60} minutes and the deployment would roll back. Split the keys over several stacks deployed one after the other, or ask for a higher "GetParametersForImport request rate" in Service Quotas (docs/decisions/0009-imports-under-request-quotas.md).`);
    }
  }

  /** The next renewal slot of this stack: 0, 1, 2, ... (renewals are spread by slot). */
  public nextRenewalSlot(): number {
    return this.renewals++;
  }
}
