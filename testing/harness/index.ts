export * from './local-cloud';
export type { CustomResourceResponse } from './response-server';
