/**
 * IAM as the harness deploys it: `AWS::IAM::Role` becomes a principal of the local cloud (so that
 * key policies can name it and the Lambda functions that use it act as it), with the identity
 * policies the template attaches to it: the role's inline `Policies`, `AWS::IAM::Policy` and
 * `AWS::IAM::ManagedPolicy` resources that list it in `Roles`, and managed policies of the stack
 * named in `ManagedPolicyArns`. AWS managed policies (`arn:aws:iam::aws:policy/...`) are not
 * modelled: locally they grant nothing.
 *
 * Sizes are checked as IAM does ("IAM and AWS STS quotas", IAM User Guide): a role's inline
 * policies together at most 10,240 characters, a managed policy at most 6,144, whitespace not
 * counted.
 */
import { randomBytes } from 'crypto';
import type { PolicyDocument } from '../iam/evaluate';
import type { PrincipalRegistry } from '../iam/principals';
import type { ResourceState, Template } from './template';

export const IAM_RESOURCE_TYPES = new Set(['AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']);

/** What the IAM resources of one stack look like now. */
export interface IamView {
  readonly template: Template;
  readonly resources: Record<string, ResourceState>;
  /** Resolved properties by logical id. */
  readonly props: Record<string, any>;
  readonly stackName: string;
  readonly account: string;
  readonly partition: string;
}

const ROLE_INLINE_LIMIT = 10240;
const MANAGED_POLICY_LIMIT = 6144;

/** Creates a role, policy or managed policy; a role is registered as a principal at once. */
export function createIamResource(registry: PrincipalRegistry, logicalId: string, type: string, props: Record<string, any>, view: IamView): ResourceState {
  // CloudFormation's generated names: <stack>-<logicalId>-<random>, within IAM's 64 characters.
  const generated = `${view.stackName}-${logicalId}`.slice(0, 50) + '-' + randomBytes(6).toString('hex').toUpperCase().slice(0, 12);
  const path = props.Path ?? '/';
  let state: ResourceState;
  if (type === 'AWS::IAM::Role') {
    const name = props.RoleName ?? generated;
    const arn = `arn:${view.partition}:iam::${view.account}:role${path}${name}`;
    state = { physicalId: name, attributes: { Arn: arn, RoleId: `AROA${randomBytes(8).toString('hex').toUpperCase()}` } };
  } else if (type === 'AWS::IAM::ManagedPolicy') {
    const arn = `arn:${view.partition}:iam::${view.account}:policy${path}${props.ManagedPolicyName ?? generated}`;
    state = { physicalId: arn, attributes: { PolicyArn: arn } };
  } else {
    state = { physicalId: props.PolicyName ?? generated, attributes: {} };
  }
  syncIdentityPolicies(registry, { ...view, resources: { ...view.resources, [logicalId]: state }, props: { ...view.props, [logicalId]: props } });
  return state;
}

/**
 * Registers every role of the stack with the identity policies attached to it now. Throws IAM's
 * LimitExceeded message when a role's inline policies or a managed policy are too large.
 */
export function syncIdentityPolicies(registry: PrincipalRegistry, view: IamView): void {
  const existing = (type: string) => Object.keys(view.resources).filter((id) => view.template.Resources[id]?.Type === type);
  const attachedTo = (id: string, roleName: string) => (view.props[id]?.Roles ?? []).includes(roleName);
  for (const id of existing('AWS::IAM::ManagedPolicy')) {
    if (size(view.props[id]?.PolicyDocument) > MANAGED_POLICY_LIMIT) throw new Error(`LimitExceeded: Cannot exceed quota for PolicySize: ${MANAGED_POLICY_LIMIT}`);
  }
  for (const roleId of existing('AWS::IAM::Role')) {
    const roleName = view.resources[roleId].physicalId;
    const role = view.props[roleId] ?? {};
    const inline: PolicyDocument[] = [
      ...(role.Policies ?? []).map((p: any) => p.PolicyDocument),
      ...existing('AWS::IAM::Policy').filter((id) => attachedTo(id, roleName)).map((id) => view.props[id].PolicyDocument),
    ];
    const inlineSize = inline.reduce((n, doc) => n + size(doc), 0);
    if (inlineSize > ROLE_INLINE_LIMIT) throw new Error(`LimitExceeded: Maximum policy size of ${ROLE_INLINE_LIMIT} bytes exceeded for role ${roleName}`);
    const managed = existing('AWS::IAM::ManagedPolicy')
      .filter((id) => attachedTo(id, roleName) || (role.ManagedPolicyArns ?? []).includes(view.resources[id].physicalId))
      .map((id) => view.props[id].PolicyDocument as PolicyDocument);
    registry.register(view.resources[roleId].attributes.Arn, { identityPolicies: [...inline, ...managed] });
  }
}

/** IAM counts a policy's characters without whitespace. */
function size(doc: unknown): number {
  return doc === undefined ? 0 : JSON.stringify(doc).length;
}
