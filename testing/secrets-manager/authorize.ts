/**
 * Every Secrets Manager request evaluated as its principal (testing/iam): the secret's resource
 * policy and the caller's identity policies; within the secret's account either may allow, across
 * accounts both must ("Determine who has permissions to your AWS Secrets Manager secrets";
 * "Access AWS Secrets Manager secrets from a different account").
 */
import { accessDeniedMessage, evaluate, PolicyDocument } from '../iam';
import { accessDenied } from './errors';
import type { Authorizer } from './operations';

export const iamAuthorizer: Authorizer = {
  authorize(request) {
    const resourceAccount = request.secret?.account ?? request.resource.split(':')[4] ?? request.caller.account;
    const evaluation = {
      principal: request.caller,
      action: request.action,
      resource: request.resource,
      resourceAccount,
      context: request.context,
      resourcePolicy: request.secret?.policy ? (JSON.parse(request.secret.policy) as PolicyDocument) : undefined,
      mode: 'resource-or-identity' as const,
    };
    const decision = evaluate(evaluation);
    if (!decision.allowed) throw accessDenied(accessDeniedMessage(evaluation, decision));
  },
};
