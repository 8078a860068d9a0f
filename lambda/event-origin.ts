import { CloudFormationClient, DescribeStackResourceCommand } from '@aws-sdk/client-cloudformation';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ErrorCodes, IMPORT_RESOURCE_TYPE, STACK_ID_ENV } from '../lib/private/contract';
import { ImportError } from './errors';

/**
 * The handler acts only on events CloudFormation sent for its own stack (docs/decisions/0011).
 * Anyone allowed to invoke the function, or any stack that names it as a ServiceToken, can hand
 * it an event; the event alone proves nothing.
 */

/** CloudFormation's ResponseURL is a pre-signed S3 HTTPS URL; anything else is refused before use. */
export function checkResponseUrl(responseUrl: unknown): string | undefined {
  if (typeof responseUrl !== 'string') return 'the event has no ResponseURL';
  let url: URL;
  try {
    url = new URL(responseUrl);
  } catch {
    return 'the event\'s ResponseURL is not a URL';
  }
  return url.protocol === 'https:' ? undefined : `the event's ResponseURL is not HTTPS (${url.protocol}); CloudFormation always sends a pre-signed HTTPS URL`;
}

const EXPECTED_STATUS = { Create: 'CREATE_IN_PROGRESS', Update: 'UPDATE_IN_PROGRESS', Delete: 'DELETE_IN_PROGRESS' } as const;

let client: CloudFormationClient | undefined;

/**
 * Throws an UntrustedEvent error unless the event is for the stack the function was deployed
 * with and, for an event that would change a key, CloudFormation itself confirms that this
 * resource is being created, updated or deleted right now, under the physical id the event names.
 */
export async function verifyEventOrigin(event: CloudFormationCustomResourceEvent, changesState: boolean): Promise<void> {
  const ownStackId = process.env[STACK_ID_ENV];
  if (!ownStackId) {
    throw new ImportError(ErrorCodes.UNTRUSTED_EVENT, `the function has no ${STACK_ID_ENV} environment variable, so it cannot tell its own stack's events from forged ones; deploy it with the construct`);
  }
  if (event.StackId !== ownStackId) {
    throw new ImportError(ErrorCodes.UNTRUSTED_EVENT, `the event is for stack ${String(event.StackId)}, but this function belongs to stack ${ownStackId}; a stack must use its own import handler (nothing was changed)`);
  }
  if (!changesState) return;
  const region = ownStackId.split(':')[3];
  client ??= new CloudFormationClient({ region, maxAttempts: 5 });
  let detail;
  try {
    ({ StackResourceDetail: detail } = await client.send(new DescribeStackResourceCommand({ StackName: ownStackId, LogicalResourceId: event.LogicalResourceId })));
  } catch (e) {
    const err = e as { name?: string; message?: string };
    // The role lacks its DescribeStackResource permission: a deployment mistake, not a forgery.
    if (err.name === 'AccessDenied' || err.name === 'AccessDeniedException') {
      throw new ImportError(ErrorCodes.ACCESS_DENIED, `the import handler may not ask CloudFormation about its own stack (${err.message ?? ''}); nothing was changed`);
    }
    throw new ImportError(ErrorCodes.UNTRUSTED_EVENT, `CloudFormation does not confirm resource ${event.LogicalResourceId} of stack ${ownStackId} (${err.name ?? 'Error'}: ${err.message ?? ''}); nothing was changed`);
  }
  const expected = EXPECTED_STATUS[event.RequestType];
  const physicalId = event.RequestType === 'Create' ? undefined : event.PhysicalResourceId;
  const problems = [
    detail?.ResourceType !== IMPORT_RESOURCE_TYPE ? `its type is ${detail?.ResourceType}` : '',
    detail?.ResourceStatus !== expected ? `its status is ${detail?.ResourceStatus}, not ${expected}` : '',
    physicalId !== undefined && detail?.PhysicalResourceId !== physicalId ? `its physical id is ${detail?.PhysicalResourceId}, not ${physicalId}` : '',
  ].filter(Boolean);
  if (problems.length) {
    const cleanup = event.RequestType === 'Delete' && physicalId !== undefined && detail?.PhysicalResourceId !== physicalId
      ? '. If this is the clean-up after the key was replaced, the replaced key keeps its material: delete it with `aws kms delete-imported-key-material` if wanted'
      : '';
    throw new ImportError(ErrorCodes.UNTRUSTED_EVENT, `CloudFormation does not confirm this ${event.RequestType} of resource ${event.LogicalResourceId}: ${problems.join('; ')}; nothing was changed${cleanup}`);
  }
}
