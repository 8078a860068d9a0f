import { Annotations, Aws, Duration, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IConstruct } from 'constructs';
import type { KeyMaterialBinding } from './key-material';
import { ErrorCodes, STACK_ID_ENV } from './private/contract';
import { ByokError } from './private/errors';
import { HANDLER_ARCHITECTURE, HANDLER_ASSETS, HANDLER_RUNTIME } from './private/handler-runtime';
import { GET_PARAMETERS_INTERVAL_SECONDS, IMPORT_FUNCTION_TIMEOUT_SECONDS, importsWithinBudget } from './private/quota-budget';

/**
 * How long CloudFormation waits for the handler's answer. The handler answers 15 s before its own
 * timeout (it may wait that long for a GetParametersForImport slot, see private/quota-budget.ts);
 * this bound covers the case where it cannot (the function crashed or was never invoked), so that
 * a stack never waits CloudFormation's default hour.
 */
export const IMPORT_SERVICE_TIMEOUT = Duration.minutes(20);

/** Options of {@link HsmConnection.inVpc}. */
export interface HsmVpcOptions {
  /**
   * Security groups of the import handler. The HSM's security group must admit them (CloudHSM:
   * TCP 2223-2225).
   */
  readonly securityGroups: ec2.ISecurityGroup[];

  /**
   * Subnets of the VPC for the import handler.
   *
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
}

/**
 * How an import provider's handler reaches the HSM of `KeyMaterial.fromPkcs11` keys. A provider
 * with an HSM connection carries the PKCS#11 bindings; one without has no native code.
 */
export class HsmConnection {
  /**
   * The HSM's PKCS#11 library reaches its HSM without a VPC (an HSM service reached over the
   * internet, or a software token in a layer).
   */
  public static direct(): HsmConnection {
    return new HsmConnection();
  }

  /**
   * The handler runs in a VPC from which it reaches a network HSM (CloudHSM's ENIs, a Luna or
   * Thales appliance). It then also needs a way to KMS and Secrets Manager: interface VPC
   * endpoints or a NAT gateway (docs/hsm.md).
   */
  public static inVpc(vpc: ec2.IVpc, options: HsmVpcOptions): HsmConnection {
    if (!options.securityGroups || options.securityGroups.length === 0) {
      throw new ByokError(ErrorCodes.INVALID_PROPERTY, 'HsmConnection.inVpc needs at least one security group: the HSM\'s security group must admit the import handler\'s (for CloudHSM, TCP 2223-2225)');
    }
    return new HsmConnection(vpc, options);
  }

  /** The VPC of the handler, if any. @internal */
  public readonly _vpc?: ec2.IVpc;
  /** Its subnets and security groups. @internal */
  public readonly _vpcOptions?: HsmVpcOptions;

  private constructor(vpc?: ec2.IVpc, options?: HsmVpcOptions) {
    this._vpc = vpc;
    this._vpcOptions = options;
  }
}

/** Properties of an {@link ImportProvider}. */
export interface ImportProviderProps {
  /**
   * Memory of the import handler, in MiB.
   *
   * @default 512
   */
  readonly memorySize?: number;

  /**
   * Timeout of the import handler, at most 15 minutes. The handler answers CloudFormation
   * 15 seconds before it, and waits up to it for a GetParametersForImport slot under KMS's
   * request quota: a shorter timeout fits fewer keys per stack (docs/decisions/0009).
   *
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;

  /**
   * How long the handler's log group keeps its logs.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * How the handler reaches an HSM, for keys whose material is `KeyMaterial.fromPkcs11`. Only a
   * provider with an HSM connection carries the PKCS#11 bindings (native code).
   *
   * @default - no HSM: the handler serves Secrets Manager and offline-wrapped material only
   */
  readonly hsm?: HsmConnection;

  /**
   * Name of the import handler's role, for a security account that must name the role in its
   * policies (as `OrganizationKeyStack` does).
   *
   * @default - a name CloudFormation generates
   */
  readonly roleName?: string;
}

/**
 * The Lambda function that imports key material into the keys that use it. The role has no
 * standing KMS permissions: each key's own key policy lets the role import into that key, and
 * the role reads exactly the secrets its keys use (docs/decisions/0003).
 *
 * A stack gets a default provider for its keys (and another, with the PKCS#11 bindings, for keys
 * with `KeyMaterial.fromPkcs11`); create one yourself to choose its settings or an HSM's network,
 * and pass it to the keys as `importProvider`.
 */
export class ImportProvider extends Construct {
  /**
   * The stack's default import provider, created by the first key that needs it.
   */
  public static getOrCreate(scope: IConstruct): ImportProvider {
    return ImportProvider.stackDefault(scope, false);
  }

  /**
   * The provider a key's import runs on: the key's `importProvider`, or the stack's default one
   * for its material; it counts the import. @internal
   */
  public static _forImport(scope: IConstruct, material: KeyMaterialBinding, chosen?: ImportProvider): ImportProvider {
    const provider = chosen ?? ImportProvider.stackDefault(scope, material.pkcs11 !== undefined);
    if (material.pkcs11 && !provider.hsm) {
      throw new ByokError(ErrorCodes.INVALID_PROPERTY, `KeyMaterial.fromPkcs11 needs an import provider with an HSM connection; ${provider.node.path} has none (set its hsm property)`, scope);
    }
    if (material.pkcs11?.moduleLayer) provider.addLayerOnce(material.pkcs11.moduleLayer);
    provider.registerImport();
    return provider;
  }

  /** Construct ids under the stack; a compatibility contract (renaming replaces the function). */
  private static readonly DEFAULT_ID = 'CdkKmsByokImportProvider';
  private static readonly DEFAULT_HSM_ID = 'CdkKmsByokHsmImportProvider';

  private static stackDefault(scope: IConstruct, pkcs11: boolean): ImportProvider {
    const stack = Stack.of(scope);
    const id = pkcs11 ? ImportProvider.DEFAULT_HSM_ID : ImportProvider.DEFAULT_ID;
    const existing = stack.node.tryFindChild(id) as ImportProvider | undefined;
    return existing ?? new ImportProvider(stack, id, pkcs11 ? { hsm: HsmConnection.direct() } : {});
  }

  /**
   * Creates the stack's default provider with these settings, before any key asks for it (a stack
   * class that fixes its role's name). @internal
   */
  public static _createStackDefault(scope: IConstruct, props: ImportProviderProps): ImportProvider {
    const stack = Stack.of(scope);
    if (stack.node.tryFindChild(ImportProvider.DEFAULT_ID)) {
      throw new ByokError(ErrorCodes.INVALID_PROPERTY, `the stack's default import provider already exists`, scope);
    }
    return new ImportProvider(stack, ImportProvider.DEFAULT_ID, props);
  }

  /** The import handler. */
  public readonly function: lambda.Function;

  /** The import handler's role. */
  public readonly role: iam.Role;

  private readonly hsm?: HsmConnection;
  private readonly timeoutSeconds: number;
  private readonly layers = new Set<lambda.ILayerVersion>();
  private imports = 0;
  private renewals = 0;

  constructor(scope: Construct, id: string, props: ImportProviderProps = {}) {
    super(scope, id);
    this.hsm = props.hsm;
    this.timeoutSeconds = checkTimeout(props.timeout, this);
    if (props.memorySize !== undefined && !Token.isUnresolved(props.memorySize)
      && (!Number.isInteger(props.memorySize) || props.memorySize < 128 || props.memorySize > 10240)) {
      throw new ByokError(ErrorCodes.INVALID_PROPERTY, `memorySize ${props.memorySize} is not a Lambda memory size (128 to 10240 MiB)`, this);
    }
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'cdk-kms-byok key material import handler',
      roleName: props.roleName,
    });
    // An explicit log group so the role can be scoped to it without a dependency cycle.
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR });
    const vpc = this.hsm?._vpc;
    this.function = new lambda.Function(this, 'Handler', {
      code: lambda.Code.fromAsset(this.hsm ? HANDLER_ASSETS.pkcs11 : HANDLER_ASSETS.default),
      handler: 'index.handler',
      runtime: HANDLER_RUNTIME,
      architecture: HANDLER_ARCHITECTURE,
      // The handler answers CloudFormation itself before this deadline (withDeadline in
      // lambda/index.ts). Lambda's maximum by default: the last import of a large stack waits
      // about 4 s per key before it for a GetParametersForImport slot (docs/decisions/0009).
      timeout: Duration.seconds(this.timeoutSeconds),
      memorySize: props.memorySize ?? 512,
      role: this.role,
      logGroup,
      description: 'Imports key material into EXTERNAL-origin KMS keys (cdk-kms-byok)',
      // The handler acts only on its own stack's events, as CloudFormation confirms (docs/decisions/0011).
      environment: { [STACK_ID_ENV]: Aws.STACK_ID },
      vpc,
      vpcSubnets: vpc ? this.hsm?._vpcOptions?.vpcSubnets : undefined,
      securityGroups: vpc ? this.hsm?._vpcOptions?.securityGroups : undefined,
    });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudformation:DescribeStackResource'], resources: [Aws.STACK_ID] }));
    if (vpc) {
      // What the AWSLambdaVPCAccessExecutionRole managed policy grants, which Lambda checks when it
      // creates the function; EC2 allows no narrower resource. The function depends on the role,
      // and so on its default policy.
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      }));
    }
    // Logs only here; KMS permissions are in each key's policy, secret reads are added per secret.
    logGroup.grantWrite(this.role);
  }

  /** The ARN custom resources name as their ServiceToken. */
  public get serviceToken(): string {
    return this.function.functionArn;
  }

  /** The next renewal slot of this provider: 0, 1, 2, ... (renewals are spread by slot). @internal */
  public _nextRenewalSlot(): number {
    return this.renewals++;
  }

  /** Several keys may name the same layer (the HSM vendor's library); the function gets it once. */
  private addLayerOnce(layer: lambda.ILayerVersion): void {
    if (this.layers.has(layer)) return;
    this.layers.add(layer);
    this.function.addLayers(layer);
  }

  /**
   * Counts one more import and warns, once, when there are more than fit the handler's budget at
   * KMS's default GetParametersForImport quota.
   */
  private registerImport(): void {
    this.imports += 1;
    const limit = importsWithinBudget(this.timeoutSeconds);
    if (this.imports === limit + 1) {
      Annotations.of(Stack.of(this)).addWarningV2('cdk-kms-byok:importQuota',
        `This stack imports key material into more than ${limit} keys. KMS allows one GetParametersForImport every ${GET_PARAMETERS_INTERVAL_SECONDS} seconds per account and Region by default, so the last imports may not get their turn within the ${this.timeoutSeconds / 60} minutes of the import handler ${this.node.path} and the deployment would roll back. Split the keys over several stacks deployed one after the other, or ask for a higher "GetParametersForImport request rate" in Service Quotas (docs/decisions/0009-imports-under-request-quotas.md).`);
    }
  }
}

/** The function's timeout in seconds: at most Lambda's 15 minutes, and enough for one import. */
function checkTimeout(timeout: Duration | undefined, scope: IConstruct): number {
  if (timeout === undefined) return IMPORT_FUNCTION_TIMEOUT_SECONDS;
  if (timeout.isUnresolved()) {
    throw new ByokError(ErrorCodes.INVALID_PROPERTY, 'timeout must be known at synth time: the import budget depends on it', scope);
  }
  const seconds = timeout.toSeconds();
  if (seconds < 60 || seconds > IMPORT_FUNCTION_TIMEOUT_SECONDS) {
    throw new ByokError(ErrorCodes.INVALID_PROPERTY, `timeout ${timeout.toHumanString()} is not between 1 and 15 minutes: the handler keeps 15 seconds to answer CloudFormation, and Lambda allows at most 15 minutes`, scope);
  }
  return seconds;
}
