/** Authorization for the local cloud: the policy evaluator and the principal registry. See evaluate.ts for what is evaluated. */
export { evaluate, accessDeniedMessage, isKnownConditionKey, KNOWN_CONDITION_KEYS } from './evaluate';
export type { AuthorizationRequest, ContextKeys, ContextValue, Decision, EvaluationMode, PolicyDocument, PolicyStatement, PolicyType, Principal } from './evaluate';
export { PrincipalRegistry, identifyCaller, parsePrincipalArn, parseSigV4Authorization } from './principals';
export type { Credentials, PrincipalOptions, RegisteredPrincipal } from './principals';
