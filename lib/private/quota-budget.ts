/**
 * The time budget of a stack's imports under KMS's request quota for GetParametersForImport:
 * one request every 4 seconds per account and Region by default (AWS KMS Developer Guide,
 * "Request quotas", https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html).
 * Every import needs its own parameters and CloudFormation starts a stack's imports together, so
 * the last of N imports cannot start before 4·(N−1) s. The arithmetic is in
 * docs/decisions/0009-imports-under-request-quotas.md.
 */

/** The import function's default timeout: Lambda's maximum (15 minutes). */
export const IMPORT_FUNCTION_TIMEOUT_SECONDS = 900;

/** Time the handler keeps back to answer CloudFormation before the function times out. */
export const ANSWER_MARGIN_SECONDS = 15;

/** 1 / the default GetParametersForImport quota (0.25 requests per second). */
export const GET_PARAMETERS_INTERVAL_SECONDS = 4;

/** Allowance for the gaps between a free slot and the next jittered retry (the bench measures 1.0–1.1). */
export const RETRY_SLACK = 1.25;

/** One import's own work after its parameters: cold start, the secret, the wrap, ImportKeyMaterial. */
export const IMPORT_WORK_SECONDS = 15;

/**
 * How many imports of one stack fit the handler's budget (its timeout) at the default quota: the last one gets
 * its parameters after about 4·(N−1)·RETRY_SLACK s and must then finish its own work.
 */
export function importsWithinBudget(timeoutSeconds: number = IMPORT_FUNCTION_TIMEOUT_SECONDS): number {
  const budget = timeoutSeconds - ANSWER_MARGIN_SECONDS - IMPORT_WORK_SECONDS;
  return Math.floor(budget / (GET_PARAMETERS_INTERVAL_SECONDS * RETRY_SLACK)) + 1;
}
