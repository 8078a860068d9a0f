import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { ErrorCodes, IMPORT_RESOURCE_TYPE, ImportAttributes, ImportResourceProperties, PRIMARY_LOOKUP_RESOURCE_TYPE, PrimaryLookupProperties, RenewalEvent } from '../lib/private/contract';
import { ANSWER_MARGIN_SECONDS } from '../lib/private/quota-budget';
import { abortAllClients } from './aws';
import { sendResponse } from './cfn-response';
import { ImportError } from './errors';
import { checkResponseUrl, verifyEventOrigin } from './event-origin';
import { create, ImportResult, materialId, remove, removeChangesState, renew, update } from './importer';
import { lookUpPrimary } from './primary-lookup';

/** Time kept back to answer CloudFormation before Lambda stops the function. */
const ANSWER_MARGIN_MS = ANSWER_MARGIN_SECONDS * 1000;

type LambdaContext = Pick<Context, 'getRemainingTimeInMillis'>;

/**
 * Entry point. A CloudFormation custom resource event (Create/Update/Delete), always answered at
 * its ResponseURL before the Lambda times out; or a scheduled renewal (see RenewalEvent).
 */
export async function handler(event: CloudFormationCustomResourceEvent | RenewalEvent, context: LambdaContext): Promise<void> {
  if ('action' in event && event.action === 'renew') return renewal(event, context);
  return customResource(event as CloudFormationCustomResourceEvent, context);
}

async function customResource(event: CloudFormationCustomResourceEvent, context: LambdaContext): Promise<void> {
  const started = Date.now();
  const base = { requestType: event.RequestType, logicalResourceId: event.LogicalResourceId, keyArn: event.ResourceProperties?.KeyArn };
  log('received', base);
  const badUrl = checkResponseUrl(event.ResponseURL);
  if (badUrl) {
    // No answer can go to such a URL: the invoker gets the error instead.
    log('refused', { ...base, reason: badUrl });
    throw new ImportError(ErrorCodes.UNTRUSTED_EVENT, `${badUrl}; nothing was changed`);
  }
  let result: ImportResult | undefined;
  let failure: string | undefined;
  try {
    result = await withDeadline(context, async (signal) => {
      await verifyEventOrigin(event, changesState(event));
      return dispatch(event, signal);
    });
  } catch (e) {
    failure = reason(e);
  }
  const physicalResourceId = result?.physicalResourceId
    ?? (event.RequestType === 'Create' ? `import-failed-${event.RequestId}` : event.PhysicalResourceId);
  log(failure ? 'failed' : 'succeeded', { ...base, durationMs: Date.now() - started, reason: failure, keyMaterialId: result && materialId(result) });
  await sendResponse(event.ResponseURL, {
    Status: failure ? 'FAILED' : 'SUCCESS',
    Reason: failure ? `${failure} (resource ${event.LogicalResourceId})` : undefined,
    PhysicalResourceId: physicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: result?.data,
  });
}

/**
 * A scheduled renewal has no one to answer: success is a log line, failure a thrown error, which
 * Lambda counts in its Errors metric and EventBridge retries.
 */
async function renewal(event: RenewalEvent, context: LambdaContext): Promise<void> {
  try {
    const props = checkProperties(event.properties);
    const renewAfter = event.renewAfterSeconds === undefined ? undefined : Number(event.renewAfterSeconds);
    const result = await withDeadline(context, (signal) => renew(props, { signal, log }, renewAfter));
    if (!result) {
      log('renewal not due yet', { keyArn: props.KeyArn });
      return;
    }
    log('renewed key material', { keyArn: props.KeyArn, validTo: result.data[ImportAttributes.VALID_TO], keyMaterialId: materialId(result) });
  } catch (e) {
    log('renewal failed', { keyArn: event.properties?.KeyArn, reason: reason(e) });
    // Only the reason travels on: the original error may carry request details we do not log.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(reason(e));
  }
}

/** Runs `work`, aborting it and failing with a Timeout error ANSWER_MARGIN_MS before the Lambda deadline. */
async function withDeadline<T>(context: LambdaContext, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const budget = Math.max(1_000, context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS);
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      abortAllClients();
      reject(new ImportError(ErrorCodes.TIMEOUT, `the import did not finish within ${Math.round(budget / 1000)} s and was stopped so that CloudFormation gets an answer; KMS or Secrets Manager may be unreachable from the handler (VPC endpoints, network) or slow, or other imports in this account and Region kept KMS's GetParametersForImport quota (one every 4 s by default) busy. Deploy again: a repeated import of the same material is safe`));
    }, budget);
  });
  try {
    return await Promise.race([work(abort.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Every import event changes a key, except a Delete without crypto-shredding; a primary lookup
 * only reads, and a resource of another type is refused without acting.
 */
function changesState(event: CloudFormationCustomResourceEvent): boolean {
  if (event.ResourceType !== IMPORT_RESOURCE_TYPE) return false;
  return event.RequestType !== 'Delete' || removeChangesState(event.ResourceProperties as unknown as ImportResourceProperties, event.PhysicalResourceId);
}

function dispatch(event: CloudFormationCustomResourceEvent, signal: AbortSignal): Promise<ImportResult> {
  const ctx = { signal, log };
  if (event.ResourceType !== IMPORT_RESOURCE_TYPE && event.ResourceType !== PRIMARY_LOOKUP_RESOURCE_TYPE) {
    // Not a resource this handler makes: nothing is changed. Its Delete succeeds, so that a stack
    // that once pointed such a resource at this function can still be deleted.
    return event.RequestType === 'Delete'
      ? Promise.resolve({ physicalResourceId: event.PhysicalResourceId, data: {} })
      : Promise.reject(new ImportError(ErrorCodes.INVALID_PROPERTY, `resource type '${event.ResourceType}' is not one this handler serves (${IMPORT_RESOURCE_TYPE}, ${PRIMARY_LOOKUP_RESOURCE_TYPE}); nothing was changed`));
  }
  if (event.ResourceType === PRIMARY_LOOKUP_RESOURCE_TYPE) {
    return event.RequestType === 'Delete'
      ? Promise.resolve({ physicalResourceId: event.PhysicalResourceId, data: {} })
      : lookUpPrimary(event.ResourceProperties as unknown as PrimaryLookupProperties);
  }
  const props = event.ResourceProperties as unknown as ImportResourceProperties;
  switch (event.RequestType) {
    case 'Create':
      return create(checkProperties(props), ctx);
    case 'Update':
      return update(checkProperties(props), event.OldResourceProperties as unknown as ImportResourceProperties, ctx);
    case 'Delete':
      return remove(props, event.PhysicalResourceId, ctx);
  }
}

function checkProperties(props: ImportResourceProperties): ImportResourceProperties {
  for (const name of ['KeyArn', 'KeySpec', 'KeyUsage', 'WrappingAlgorithm', 'WrappingKeySpec'] as const) {
    if (typeof props?.[name] !== 'string' || props[name].length === 0) {
      throw new ImportError(ErrorCodes.INVALID_PROPERTY, `property ${name} is missing`);
    }
  }
  if (!props.Material?.Type) {
    throw new ImportError(ErrorCodes.INVALID_PROPERTY, 'property Material is missing');
  }
  if (!props.Expiration?.Model) {
    throw new ImportError(ErrorCodes.INVALID_PROPERTY, 'property Expiration is missing');
  }
  return props;
}

/** `[Code] message`; unexpected errors keep only their name and message (SDK messages hold no material). */
function reason(e: unknown): string {
  if (e instanceof ImportError) return `[${e.code}] ${e.message}`;
  const err = e as { name?: string; message?: string };
  return `[${ErrorCodes.AWS_ERROR}] ${err.name ?? 'Error'}: ${err.message ?? String(e)}`;
}

/** One JSON line per event. Only names, ARNs, ids and reasons: the material never reaches here. */
function log(message: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ message, ...fields }));
}
