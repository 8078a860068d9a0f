import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';
import { ImportProvider } from './import-provider';
import { KeyMaterial, KeyMaterialBinding } from './key-material';
import { ErrorCodes } from './private/contract';
import { ByokError } from './private/errors';
import { MaterialKind } from './private/import-rules';
import { checkSecretIsReachable, secretReadStatements } from './private/secret-grants';

/** Properties of {@link KeyMaterial.fromPkcs11}: where the key is, and how the handler reaches it. */
export interface Pkcs11KeyMaterialProps {
  /**
   * Absolute path of the HSM vendor's PKCS#11 library in the import handler, usually under /opt
   * where `moduleLayer` puts it, e.g. `/opt/cloudhsm/lib/libcloudhsm_pkcs11.so`.
   */
  readonly modulePath: string;

  /**
   * A Lambda layer holding the PKCS#11 library and the client configuration it needs (see
   * docs/hsm.md). It is added to the stack's one import handler.
   *
   * @default - no layer: the library must already be in the handler's file system
   */
  readonly moduleLayer?: lambda.ILayerVersion;

  /** Label of the token (HSM partition) that holds the key; tokens are found by label, not slot id. */
  readonly tokenLabel: string;

  /**
   * The secret whose value is the user PIN of the token (for CloudHSM: `<crypto user>:<password>`).
   * The handler reads it at deploy time; the PIN never enters the template.
   */
  readonly pinSecret: secretsmanager.ISecret;

  /**
   * The customer managed KMS key the PIN secret is encrypted with; required for a PIN secret in
   * another account (see docs/cross-account-secrets.md).
   *
   * @default - the PIN secret's `encryptionKey`, if it has one
   */
  readonly pinSecretEncryptionKey?: kms.IKey;

  /**
   * Read the PIN from this top-level field of a JSON secret.
   *
   * @default - the whole secret value is the PIN
   */
  readonly pinJsonField?: string;

  /**
   * The key's label (CKA_LABEL). Give `keyLabel`, `keyId` or both; together they must name one key.
   *
   * @default - the key is found by keyId alone
   */
  readonly keyLabel?: string;

  /**
   * The key's id (CKA_ID) in hexadecimal, e.g. `'01a2'`.
   *
   * @default - the key is found by keyLabel alone
   */
  readonly keyId?: string;

  /**
   * A VPC from which the import handler reaches a network HSM (CloudHSM's ENIs, a Luna or
   * Thales appliance). The stack's import handler is placed in it, so every PKCS#11 material of
   * the stack must name the same VPC; the handler then also needs a way to KMS and Secrets
   * Manager (interface VPC endpoints or a NAT gateway).
   *
   * @default - the handler is not in a VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Subnets of `vpc` for the import handler.
   *
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security groups for the import handler in `vpc`; required with `vpc`. The HSM's security
   * group must admit them (CloudHSM: TCP 2223-2225).
   *
   * @default - none; required when vpc is set
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/**
 * Key material that stays in an HSM: at deploy time the import handler logs in to the token over
 * PKCS#11 and has the HSM wrap the key under the KMS wrapping public key (C_WrapKey), so the
 * plaintext key never leaves the HSM. Create it with {@link KeyMaterial.fromPkcs11}.
 */
export class Pkcs11KeyMaterial extends KeyMaterial {
  constructor(private readonly props: Pkcs11KeyMaterialProps) {
    super();
    validate(props);
  }

  /** @internal */
  public _bind(scope: IConstruct, _kind: MaterialKind): KeyMaterialBinding {
    const props = this.props;
    const provider = ImportProvider.getOrCreate(scope);
    if (props.moduleLayer) addLayerOnce(provider.function, props.moduleLayer);
    if (props.vpc) placeInVpc(provider, props.vpc, props.vpcSubnets, props.securityGroups ?? [], scope);

    // Only the PIN secret: the key itself is reached through the HSM, not through AWS.
    checkSecretIsReachable(props.pinSecret, scope);
    const statements = secretReadStatements(props.pinSecret, scope, props.pinSecretEncryptionKey, 'the HSM PIN secret');
    return {
      source: {
        Type: 'Pkcs11',
        ModulePath: props.modulePath,
        TokenLabel: props.tokenLabel,
        PinSecretArn: props.pinSecret.secretArn,
        PinJsonField: props.pinJsonField,
        KeyLabel: props.keyLabel,
        KeyId: props.keyId?.toLowerCase(),
      },
      statements,
    };
  }
}

function validate(props: Pkcs11KeyMaterialProps): void {
  const invalid = (message: string) => new ByokError(ErrorCodes.INVALID_PROPERTY, message);
  if (!Token.isUnresolved(props.modulePath) && !props.modulePath.startsWith('/')) {
    throw invalid(`modulePath '${props.modulePath}' is not an absolute path; give the library's path in the handler, e.g. '/opt/cloudhsm/lib/libcloudhsm_pkcs11.so'`);
  }
  // CK_TOKEN_INFO.label is 32 bytes, blank-padded.
  if (!Token.isUnresolved(props.tokenLabel) && (props.tokenLabel.length === 0 || Buffer.byteLength(props.tokenLabel) > 32 || props.tokenLabel !== props.tokenLabel.trimEnd())) {
    throw invalid(`tokenLabel '${props.tokenLabel}' is not a PKCS#11 token label (1 to 32 bytes, no trailing blanks)`);
  }
  if (props.keyLabel === undefined && props.keyId === undefined) {
    throw invalid('KeyMaterial.fromPkcs11 needs keyLabel or keyId to name the key in the HSM');
  }
  if (props.keyId !== undefined && !Token.isUnresolved(props.keyId) && !/^([0-9a-fA-F]{2})+$/.test(props.keyId)) {
    throw invalid(`keyId '${props.keyId}' is not hexadecimal bytes (CKA_ID), e.g. '01a2'`);
  }
  if (!props.vpc && (props.vpcSubnets || props.securityGroups)) {
    throw invalid('vpcSubnets and securityGroups need vpc');
  }
  if (props.vpc && !props.securityGroups?.length) {
    throw invalid('securityGroups is required with vpc: the HSM\'s security group must admit the import handler\'s (for CloudHSM, TCP 2223-2225)');
  }
}

const layersAdded = new WeakMap<lambda.Function, Set<lambda.ILayerVersion>>();

/** Several keys of a stack may name the same layer; the one handler gets it once. */
function addLayerOnce(fn: lambda.Function, layer: lambda.ILayerVersion): void {
  const added = layersAdded.get(fn) ?? new Set<lambda.ILayerVersion>();
  layersAdded.set(fn, added);
  if (added.has(layer)) return;
  added.add(layer);
  fn.addLayers(layer);
}

const vpcPlaced = new WeakMap<lambda.Function, { vpc: ec2.IVpc; securityGroups: ec2.ISecurityGroup[] }>();

/**
 * Puts the stack's import handler in the VPC. lambda.Function takes its VPC only at
 * construction, and the handler is shared by every key of the stack (created by the first), so
 * this sets the function's VpcConfig and the ENI permissions Lambda checks at creation. Doing it
 * in ImportProvider itself is a possible refactoring; see docs/decisions/0005-pkcs11-binding.md.
 */
function placeInVpc(provider: ImportProvider, vpc: ec2.IVpc, vpcSubnets: ec2.SubnetSelection | undefined, securityGroups: ec2.ISecurityGroup[], scope: IConstruct): void {
  const fn = provider.function;
  const placed = vpcPlaced.get(fn);
  if (placed) {
    if (placed.vpc !== vpc || placed.securityGroups.length !== securityGroups.length || placed.securityGroups.some((sg, i) => sg !== securityGroups[i])) {
      throw new ByokError(ErrorCodes.INVALID_PROPERTY, 'every KeyMaterial.fromPkcs11 in a stack must name the same vpc and securityGroups: the stack has one import handler', scope);
    }
    return;
  }
  vpcPlaced.set(fn, { vpc, securityGroups });
  const subnets = vpc.selectSubnets(vpcSubnets);
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  cfn.vpcConfig = { subnetIds: subnets.subnetIds, securityGroupIds: securityGroups.map((sg) => sg.securityGroupId) };
  // What the AWSLambdaVPCAccessExecutionRole managed policy grants; EC2 allows no narrower resource.
  // The role's default policy is created before the function (it depends on the role's constructs).
  provider.role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: [
      'ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets',
      'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses',
    ],
    resources: ['*'],
  }));
  cfn.node.addDependency(subnets.internetConnectivityEstablished);
}
