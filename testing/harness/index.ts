export * from './local-cloud';
export type { CustomResourceResponse } from './response-server';
export { CloudFormationServer } from './cloudformation';
export type { StackResourceDetail } from './cloudformation';
