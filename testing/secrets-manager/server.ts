/**
 * The HTTP front end of the local Secrets Manager: AWS JSON 1.1 over `POST /` with
 * `X-Amz-Target: secretsmanager.<Operation>`. The Region comes from the SigV4 credential scope and
 * the caller from the access key id; signatures are not checked.
 */
import * as crypto from 'crypto';
import * as http from 'http';
import { identifyCaller, PrincipalRegistry } from '../iam';
import { listen, parseJsonObject, readBody } from '../json-protocol';
import { iamAuthorizer } from './authorize';
import { internal, SecretsManagerError, serialization, unknownOperation } from './errors';
import { Caller, KeyAuthority, Keyring } from './keyring';
import { OPERATIONS } from './operations';
import { SecretsState } from './state';

export interface SecretsManagerServerOptions {
  /** 0 picks a free port. @default 0 */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Region of requests whose Authorization header names none. @default 'us-east-1' */
  readonly region?: string;
  /** Account of access key ids that neither `principals` nor `accounts` knows. @default '111122223333' */
  readonly accountId?: string;
  /** Access key id → account id: the key acts as that account's root. @default {} */
  readonly accounts?: Record<string, string>;
  /** Principals with their identity policies, by access key id (shared with the KMS emulator). @default - none */
  readonly principals?: PrincipalRegistry;
  /** Which KMS key a secret's versions use, and whether the caller may use it. @default - keys taken as named, nothing refused */
  readonly keys?: KeyAuthority;
  /** The time, e.g. the KMS emulator's movable clock. @default real time */
  readonly clock?: { now(): Date };
}

/** One request served. */
export interface SecretsCallRecord {
  readonly operation: string;
  readonly region: string;
  readonly principalArn: string;
  readonly status: number;
  readonly errorType?: string;
}

/** A local AWS Secrets Manager endpoint in this process. */
export class SecretsManagerServer {
  static async start(options: SecretsManagerServerOptions = {}): Promise<SecretsManagerServer> {
    const server = new SecretsManagerServer(options);
    await server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
    return server;
  }

  readonly endpoint: string = '';
  readonly calls: SecretsCallRecord[] = [];
  private readonly server: http.Server;
  private readonly state = new SecretsState();
  private readonly keyring: Keyring;
  private readonly principals: PrincipalRegistry;

  private constructor(private readonly options: SecretsManagerServerOptions) {
    this.keyring = new Keyring(options.keys);
    this.principals = options.principals ?? new PrincipalRegistry();
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async listen(port: number, host: string): Promise<void> {
    Object.assign(this, { endpoint: (await listen(this.server, port, host)).endpoint });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('secretsmanager.') ? target.slice('secretsmanager.'.length) : target;
    const { region, caller } = this.identify(req.headers.authorization);
    let status = 200;
    let payload: Record<string, unknown>;
    try {
      payload = await this.dispatch(req.method, operation, body, region, caller);
    } catch (e) {
      const err = e instanceof SecretsManagerError ? e : internal(`The local Secrets Manager failed: ${(e as Error).message}`);
      [status, payload] = [err.status, err.toBody()];
    }
    const json = JSON.stringify(payload);
    res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'Content-Length': Buffer.byteLength(json), 'x-amzn-RequestId': crypto.randomUUID() });
    res.end(json);
    this.calls.push({ operation, region, principalArn: caller.arn, status, errorType: status === 200 ? undefined : String(payload.__type) });
  }

  private async dispatch(method: string | undefined, operation: string, body: string, region: string, caller: Caller): Promise<Record<string, unknown>> {
    const handler = OPERATIONS[operation];
    if (method !== 'POST' || !handler) throw unknownOperation();
    const parsed = parseJsonObject(body);
    if ('error' in parsed) throw serialization(parsed.error);
    const now = this.options.clock?.now() ?? new Date();
    this.state.sweep(now);
    return handler({ state: this.state, keyring: this.keyring, authorizer: iamAuthorizer, caller, region, now }, parsed.input);
  }

  /** The Region of the credential scope, and the principal of the access key id (an unknown key: its account's root). */
  private identify(authorization: string | undefined): { region: string; caller: Caller } {
    const { region, principal } = identifyCaller(this.principals, authorization, {
      accounts: this.options.accounts, defaultAccount: this.options.accountId ?? '111122223333', defaultRegion: this.options.region ?? 'us-east-1',
    });
    return { region, caller: principal };
  }
}
