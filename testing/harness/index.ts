export * from './local-cloud';
export type { CustomResourceResponse } from './response-server';
export { CloudFormationServer } from './cloudformation';
export type { StackResourceDetail } from './cloudformation';
export { LocalOrganization } from './organization';
export type { AccountMove } from './organization';
export { LocalStackSet } from './stackset';
export type { DetailedStatus, LocalStackSetOptions, OperationPreferences, OperationResult, StackInstance } from './stackset';
