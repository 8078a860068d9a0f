import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { ErrorCodes, ImportResourceProperties } from '../lib/private/contract';
import { sendResponse } from './cfn-response';
import { ImportError } from './errors';
import { create, ImportResult, remove, update } from './importer';

/** Time kept back to answer CloudFormation before Lambda stops the function. */
const ANSWER_MARGIN_MS = 15_000;

/**
 * Entry point: parse the CloudFormation event, run Create/Update/Delete, and always answer the
 * ResponseURL (success, or a failure with a readable reason) before the Lambda times out.
 */
export async function handler(event: CloudFormationCustomResourceEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<void> {
  const started = Date.now();
  const base = { requestType: event.RequestType, logicalResourceId: event.LogicalResourceId, keyArn: event.ResourceProperties?.KeyArn };
  log('received', base);

  const budget = Math.max(1_000, context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS);
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(new ImportError(ErrorCodes.TIMEOUT, `the import did not finish within ${Math.round(budget / 1000)} s and was stopped so that CloudFormation gets an answer; KMS or Secrets Manager may be unreachable from the handler (VPC endpoints, network) or slow. Deploy again: a repeated import of the same material is safe`));
    }, budget);
  });

  let result: ImportResult | undefined;
  let failure: string | undefined;
  try {
    result = await Promise.race([dispatch(event, abort.signal), deadline]);
  } catch (e) {
    failure = reason(e);
  } finally {
    clearTimeout(timer);
  }

  const physicalResourceId = result?.physicalResourceId
    ?? (event.RequestType === 'Create' ? `import-failed-${event.RequestId}` : event.PhysicalResourceId);
  log(failure ? 'failed' : 'succeeded', { ...base, durationMs: Date.now() - started, reason: failure, keyMaterialId: result?.data.KeyMaterialId });
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

function dispatch(event: CloudFormationCustomResourceEvent, signal: AbortSignal): Promise<ImportResult> {
  const ctx = { signal, log };
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
    if (typeof props[name] !== 'string' || props[name].length === 0) {
      throw new ImportError(ErrorCodes.INVALID_PROPERTY, `property ${name} is missing`);
    }
  }
  if (!props.Material || props.Material.Type !== 'SecretsManager' || !props.Material.SecretArn) {
    throw new ImportError(ErrorCodes.INVALID_PROPERTY, 'property Material is missing or has no SecretArn');
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
