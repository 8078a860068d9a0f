import * as fs from 'fs';
import * as https from 'https';
import { CloudFormationClient, DescribeStackResourceCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambda';
import { STACK_ID_ENV } from '../../lib/private/contract';
import { makeLocalTls } from '../../testing/harness/tls';

/**
 * What the handler needs around it in unit tests: an HTTPS ResponseURL (the handler refuses any
 * other) whose local CA the in-process HTTPS agent trusts, the stack id it was deployed with, and
 * a CloudFormation that confirms each event `invoke` hands it (as CloudFormation would for its own).
 */
export const STACK_ID = 'arn:aws:cloudformation:us-east-1:111122223333:stack/Unit/1e2f3a4b-0000-4000-8000-000000000000';
export const cfn = mockClient(CloudFormationClient);

const STATUS: Record<string, string> = { Create: 'CREATE_IN_PROGRESS', Update: 'UPDATE_IN_PROGRESS', Delete: 'DELETE_IN_PROGRESS' };
let current: any;

/** Calls the handler with an event that CloudFormation confirms (its stack, type, status and physical id). */
export function invoke(event: any, context: { getRemainingTimeInMillis(): number }): Promise<void> {
  process.env[STACK_ID_ENV] = STACK_ID;
  current = event;
  cfn.reset();
  cfn.on(DescribeStackResourceCommand).callsFake(() => ({
    StackResourceDetail: {
      StackId: STACK_ID, LogicalResourceId: current.LogicalResourceId, ResourceType: current.ResourceType,
      ResourceStatus: STATUS[current.RequestType], PhysicalResourceId: current.PhysicalResourceId, LastUpdatedTimestamp: new Date(),
    },
  }));
  return handler(event, context);
}

/** An HTTPS server on 127.0.0.1 with a local CA that this process's default HTTPS agent trusts. */
export async function httpsServer(listener: (req: any, res: any) => void): Promise<{ server: https.Server; url: string; close(): Promise<void> }> {
  const tls = await makeLocalTls();
  https.globalAgent.options.ca = fs.readFileSync(tls.caFile);
  const server = https.createServer({ cert: tls.cert, key: tls.key }, listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as any).port}/response`;
  return { server, url, close: () => new Promise<void>((r) => server.close(() => { tls.dispose(); r(); })) };
}
