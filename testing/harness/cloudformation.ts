import { randomUUID } from 'crypto';
import * as http from 'http';
import { accessDeniedMessage, evaluate, Principal } from '../iam/evaluate';

/** What CloudFormation reports about one resource of a stack (DescribeStackResource). */
export interface StackResourceDetail {
  /** The stack's ARN. */
  readonly stackId: string;
  readonly stackName: string;
  readonly logicalId: string;
  /** Absent while the resource is being created. */
  readonly physicalId?: string;
  readonly resourceType: string;
  /** CREATE_IN_PROGRESS, UPDATE_COMPLETE, DELETE_IN_PROGRESS, ... */
  readonly status: string;
  readonly updatedAt: Date;
}

/** Finds a resource by stack (name or id) and logical id, as the account `account` sees it. */
export type StackResourceLookup = (stackName: string, logicalId: string, account: string) => StackResourceDetail | undefined;

const XMLNS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

/**
 * The part of CloudFormation's API the handler calls: `DescribeStackResource`, over the AWS Query
 * protocol (form-encoded POST, XML answer:
 * docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackResource.html), so
 * the handler's check that CloudFormation really sent an event runs end to end. The caller is
 * identified by its access key id, as in the KMS emulator, and authorized with its identity
 * policies (testing/iam): a role needs `cloudformation:DescribeStackResource` on the stack.
 */
export class CloudFormationServer {
  public static async start(lookup: StackResourceLookup, identify: (authorization: string | undefined) => Principal): Promise<CloudFormationServer> {
    const server = new CloudFormationServer(lookup, identify);
    await new Promise<void>((resolve) => server.server.listen(0, '127.0.0.1', resolve));
    return server;
  }

  private readonly server: http.Server;
  /** Every request, as (action, parameters): what the handler asked. */
  public readonly calls: Array<{ action: string; params: Record<string, string> }> = [];

  private constructor(lookup: StackResourceLookup, identify: (authorization: string | undefined) => Principal) {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        const params = Object.fromEntries(new URLSearchParams(body));
        this.calls.push({ action: params.Action, params });
        const send = (status: number, xml: string) => res.writeHead(status, { 'content-type': 'text/xml' }).end(`<?xml version="1.0"?>\n${xml}`);
        const error = (status: number, code: string, message: string) => send(status,
          `<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escape(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
        if (req.method !== 'POST' || params.Action !== 'DescribeStackResource') {
          error(400, 'InvalidAction', `The action ${params.Action ?? '(none)'} is not valid for this web service.`);
          return;
        }
        const principal = identify(req.headers.authorization);
        const detail = lookup(params.StackName ?? '', params.LogicalResourceId ?? '', principal.account);
        if (!detail) {
          // CloudFormation's wording for an unknown stack or resource.
          error(400, 'ValidationError', `Resource ${params.LogicalResourceId} does not exist for stack ${params.StackName}`);
          return;
        }
        const request = { principal, action: 'cloudformation:DescribeStackResource', resource: detail.stackId, resourceAccount: principal.account, mode: 'resource-or-identity' as const };
        const decision = evaluate(request);
        if (!decision.allowed) {
          error(403, 'AccessDenied', accessDeniedMessage(request, decision));
          return;
        }
        const fields: Array<[string, string | undefined]> = [
          ['StackName', detail.stackName], ['StackId', detail.stackId], ['LogicalResourceId', detail.logicalId],
          ['PhysicalResourceId', detail.physicalId], ['ResourceType', detail.resourceType],
          ['LastUpdatedTimestamp', detail.updatedAt.toISOString()], ['ResourceStatus', detail.status],
        ];
        const xml = fields.filter(([, v]) => v !== undefined).map(([k, v]) => `<${k}>${escape(v!)}</${k}>`).join('');
        send(200, `<DescribeStackResourceResponse xmlns="${XMLNS}"><DescribeStackResourceResult><StackResourceDetail>${xml}</StackResourceDetail></DescribeStackResourceResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></DescribeStackResourceResponse>`);
      });
    });
  }

  public get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  public stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
