/**
 * The HTTP front end: the AWS JSON 1.1 protocol over `POST /`. The Region comes from the SigV4
 * credential scope and the caller from the access key id (a registered principal, else the root of
 * the account it maps to); signatures are not checked. Every request is authorized (authorize.ts).
 */
import * as crypto from 'crypto';
import * as http from 'http';
import { setTimeout as sleep } from 'timers/promises';
import { aliasArn, parseKmsArn } from './arn';
import { Caller, IDENTITY_ONLY_OPERATIONS, RequestAuthorization, secretsManagerManagedKeyPolicy } from './authorize';
import { EmulatorClock } from './clock';
import type { EmulatorConfig, RequestContext } from './context';
import { KmsError, internal, serialization, throttling, unknownOperation, unsupported } from './errors';
import { FaultInjector, FaultRule } from './faults';
import { isImported, keyState, sweep } from './lifecycle';
import { keyMaterialId, sha256Hex } from './material';
import { resolveKey } from './resolve';
import { OPERATIONS, UNIMPLEMENTED_OPERATIONS } from './operations';
import { QuotaOptions, RequestQuotas } from './quotas';
import { keyFamily } from './specs';
import { EmulatorState } from './state';
import { Input } from './validation';
import { PrincipalRegistry, identifyCaller } from '../iam/principals';
import type { Principal } from '../iam/evaluate';
import { listen, parseJsonObject, readBody } from '../json-protocol';
import { buildKey } from './operations/keys';
import { DEFAULT_POOL_SIZES, RsaWrappingKeySpec, WrappingKeyPool } from './wrapping-keys';

export interface KmsEmulatorOptions {
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Region of requests whose Authorization header names none. @default 'us-east-1' */
  region?: string;
  /** Account of access key ids not in `accounts`. @default '111122223333' */
  accountId?: string;
  /** Access key id → account id, to emulate several accounts (e.g. a key owner and a partner): such a caller is the account root. */
  accounts?: Record<string, string>;
  /**
   * The principals (roles, users) callers act as, by access key id, with their IAM policies; shared
   * with the kit's other local services. Access key ids it does not know are the root of an account.
   * @default a new, empty registry
   */
  principals?: PrincipalRegistry;
  /** @default a clock running with real time */
  clock?: EmulatorClock;
  /**
   * Accept RSA_AES_KEY_WRAP_SHA_* for symmetric and HMAC key material (AWS's docs conflict: see README.md, "Choices").
   * @default true
   */
  allowRsaAesForSymmetric?: boolean;
  /**
   * SoftHSM 2.6 compatibility: accept a private key followed by the 1-7 zero bytes that SoftHSM
   * 2.6.1 adds before RFC 5649 wrapping (total a multiple of 8), and import the key without them.
   * Whether real KMS tolerates this is not documented; the default is strict.
   * @default false
   */
  acceptZeroPaddedPkcs8?: boolean;
  /**
   * KMS's request quotas per account, Region and operation (see quotas.ts). Off unless given:
   * the emulator's own unit tests call faster than KMS allows; `LocalCloud` and the
   * `cdk-kms-byok-emulator` command turn them on with AWS's defaults.
   * @default { enabled: false }
   */
  quotas?: QuotaOptions;
  /** Spare wrapping key pairs generated ahead per size. @default { RSA_2048: 3, RSA_3072: 2, RSA_4096: 1 } */
  wrappingKeyPool?: Partial<Record<RsaWrappingKeySpec, number>>;
}

export interface CallRecord {
  operation: string;
  region: string;
  account: string;
  /** The caller's ARN (role session, user or account root). */
  principal: string;
  /** Epoch milliseconds (real time, not the emulator clock). */
  startedAt: number;
  endedAt: number;
  /** Epoch milliseconds on the emulator clock when the request arrived (the time quotas are counted in). */
  clockAt: number;
  /** HTTP status sent; 0 when the connection was reset without a response. */
  status: number;
  /** The `__type` of an error response. */
  errorType?: string;
  /** The injected fault that hit this call, if any. */
  fault?: FaultRule['kind'];
}

export interface InspectedMaterial {
  /** Symmetric keys only, as in KMS. */
  keyMaterialId?: string;
  /** SHA-256 (hex) of the canonical material (see keyMaterialFingerprint); never the material. */
  sha256: string;
  /** KeyMaterialState (CURRENT, NON_CURRENT, PENDING_ROTATION, ...), symmetric keys only. */
  state?: string;
  importState: 'IMPORTED' | 'PENDING_IMPORT';
  validTo?: Date;
}

export interface InspectedKey {
  keyArn: string;
  keyState: string;
  materials: InspectedMaterial[];
}

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

export class KmsEmulator {
  static async start(opts: KmsEmulatorOptions = {}): Promise<KmsEmulator> {
    const emulator = new KmsEmulator(opts);
    await emulator.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
    emulator.wrappingKeys.warm('RSA_2048');
    return emulator;
  }

  readonly endpoint: string = '';
  readonly port: number = 0;
  readonly clock: EmulatorClock;
  readonly calls: CallRecord[] = [];
  /** The request quotas: `quotas.setQuota(...)` plays a quota increase, `quotas.setEnabled(false)` turns throttling off. */
  readonly quotas: RequestQuotas;
  /** Who may call: `emu.principals.credentialsFor(roleArn, { identityPolicies })` gives SDK credentials. */
  readonly principals: PrincipalRegistry;

  private readonly server: http.Server;
  private readonly state = new EmulatorState();
  private readonly faults = new FaultInjector();
  private readonly wrappingKeys: WrappingKeyPool;
  private readonly config: EmulatorConfig;
  private readonly defaultRegion: string;
  private readonly defaultAccount: string;
  private readonly accounts: Record<string, string>;
  private latencyMs = 0;

  private constructor(opts: KmsEmulatorOptions) {
    this.clock = opts.clock ?? new EmulatorClock();
    this.quotas = new RequestQuotas(opts.quotas ?? { enabled: false });
    this.defaultRegion = opts.region ?? 'us-east-1';
    this.defaultAccount = opts.accountId ?? '111122223333';
    this.accounts = { ...(opts.accounts ?? {}) };
    this.principals = opts.principals ?? new PrincipalRegistry();
    this.config = { allowRsaAesForSymmetric: opts.allowRsaAesForSymmetric ?? true, acceptZeroPaddedPkcs8: opts.acceptZeroPaddedPkcs8 ?? false };
    this.wrappingKeys = new WrappingKeyPool({ ...DEFAULT_POOL_SIZES, ...(opts.wrappingKeyPool ?? {}) });
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
  }

  clearCalls(): void {
    this.calls.length = 0;
  }

  injectFault(rule: FaultRule): void {
    this.faults.add(rule);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Milliseconds added to every request, to emulate network and service latency in benchmarks. */
  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  /**
   * A key's state and a fingerprint of each of its materials, never the material itself.
   * `keyIdOrArn` may be a key ARN (its Region and account are used) or a key id in `region`
   * / `account` (default: the emulator's defaults).
   */
  inspectKey(keyIdOrArn: string, region?: string, account?: string): InspectedKey | undefined {
    sweep(this.state, this.clock.now());
    const arn = parseKmsArn(keyIdOrArn);
    const key = arn
      ? arn.resourceType === 'key'
        ? this.state.store(arn.account, arn.region).keys.get(arn.resource)
        : undefined
      : this.state.store(account ?? this.defaultAccount, region ?? this.defaultRegion).keys.get(keyIdOrArn);
    if (!key) return undefined;
    const symmetric = keyFamily(key.keySpec) === 'SYMMETRIC';
    return {
      keyArn: key.arn,
      keyState: keyState(key),
      materials: key.materials.map((m) => ({
        keyMaterialId: symmetric ? m.keyMaterialId : undefined,
        sha256: m.fingerprint,
        state: symmetric ? m.state : undefined,
        importState: isImported(m) ? 'IMPORTED' : 'PENDING_IMPORT',
        validTo: m.validTo,
      })),
    };
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await this.wrappingKeys.stop();
  }

  private async listen(port: number, host: string): Promise<void> {
    Object.assign(this, await listen(this.server, port, host));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const startedAt = Date.now();
    const clockAt = this.clock.now().getTime();
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : target;
    const { region, caller } = this.identify(req.headers.authorization);
    const account = caller.principal.account;
    const principal = caller.principal.callerArn ?? caller.principal.arn;
    const record = (status: number, errorType?: string, fault?: FaultRule['kind']) =>
      this.calls.push({ operation, region, account, principal, startedAt, endedAt: Date.now(), clockAt, status, errorType, fault });

    const fault = this.faults.take(operation);
    // unref: a held-back answer must not keep a stopping process alive.
    if (this.latencyMs > 0) await sleep(this.latencyMs, undefined, { ref: false });
    if (fault?.kind === 'delay') await sleep(fault.delayMs ?? 1000, undefined, { ref: false });
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      record(0, undefined, 'reset');
      return;
    }

    let status = 200;
    let payload: Record<string, unknown>;
    // Over its quota a request is refused before it is looked at, and changes nothing.
    const throttled = fault?.kind === 'throttle' || (fault?.kind !== 'internal' && req.method === 'POST' && !this.quotas.take(operation, account, region, clockAt));
    if (throttled || fault?.kind === 'internal') {
      const e = throttled ? throttling() : internal('An internal error occurred in AWS KMS (injected fault).');
      [status, payload] = [e.status, e.toBody()];
    } else if (req.method !== 'POST') {
      const e = unknownOperation();
      [status, payload] = [e.status, e.toBody()];
    } else {
      try {
        payload = await this.dispatch(operation, body, region, caller);
      } catch (e) {
        const err = e instanceof KmsError ? e : internal(`The KMS emulator failed: ${(e as Error).message}`);
        [status, payload] = [err.status, err.toBody()];
      }
    }
    const errorType = status === 200 ? undefined : String(payload.__type);

    if (fault?.kind === 'lose-response') {
      // The operation was applied; the caller never learns it.
      req.socket.destroy();
      record(status, errorType, fault.kind);
      return;
    }
    const json = JSON.stringify(payload);
    res.writeHead(status, {
      'Content-Type': JSON_CONTENT_TYPE,
      'Content-Length': Buffer.byteLength(json),
      'x-amzn-RequestId': crypto.randomUUID(),
    });
    res.end(json);
    record(status, errorType, fault?.kind);
  }

  private async dispatch(operation: string, body: string, region: string, caller: Caller): Promise<Record<string, unknown>> {
    const handler = OPERATIONS[operation];
    if (!handler) {
      if (UNIMPLEMENTED_OPERATIONS.has(operation)) throw unsupported(`The KMS emulator does not implement ${operation}.`);
      throw unknownOperation();
    }
    const parsed = parseJsonObject(body);
    if ('error' in parsed) throw serialization(parsed.error);

    const now = this.clock.now();
    sweep(this.state, now);
    const params = parsed.input;
    const authz = new RequestAuthorization(caller, operation, params, this.state, this.principals);
    const account = caller.principal.account;
    // Requests that name no key are for IAM policies alone; alias operations also need the alias.
    if (IDENTITY_ONLY_OPERATIONS.has(operation) || (operation === 'ListAliases' && params.KeyId === undefined)) authz.identityOnly('*');
    if (/^(Create|Update|Delete)Alias$/.test(operation) && typeof params.AliasName === 'string') authz.identityOnly(aliasArn(account, region, params.AliasName));
    const ctx: RequestContext = { state: this.state, account, region, now, config: this.config, wrappingKeys: this.wrappingKeys, authz };
    return handler(ctx, new Input(params));
  }

  private identify(authorization: string | undefined): { region: string; caller: Caller } {
    const { region, principal } = identifyCaller(this.principals, authorization, { accounts: this.accounts, defaultAccount: this.defaultAccount, defaultRegion: this.defaultRegion });
    return { region, caller: { principal } };
  }

  /**
   * For the kit's other services (Secrets Manager): may `principal` perform `action` (kms:Decrypt,
   * kms:GenerateDataKey, ...) on the key `keyId` (an ARN, or a key id or alias name in
   * `keyAccount`) through `service`, e.g. `secretsmanager.eu-west-1.amazonaws.com`? The request is
   * evaluated as KMS evaluates one an integrated service makes for the principal (kms:ViaService,
   * kms:CallerAccount, kms:EncryptionContext:*). Returns the key's ARN and state; throws the
   * KmsError KMS would answer (NotFoundException, AccessDeniedException with AWS's message).
   */
  authorizeKeyUseViaService(req: {
    principal: Principal; keyId: string; action: string; service: string; region: string; keyAccount?: string; encryptionContext?: Record<string, string>;
  }): { keyArn: string; keyState: string } {
    sweep(this.state, this.clock.now());
    const operation = req.action.replace(/^kms:/, '');
    const params = { KeyId: req.keyId, ...(req.encryptionContext ? { EncryptionContext: req.encryptionContext } : {}) };
    const authz = new RequestAuthorization({ principal: req.principal, viaService: req.service }, operation, params, this.state, this.principals);
    const account = req.keyAccount ?? req.principal.account;
    const ctx: RequestContext = { state: this.state, account, region: req.region, now: this.clock.now(), config: this.config, wrappingKeys: this.wrappingKeys, authz };
    const key = resolveKey(ctx, req.keyId, { aliases: true, action: req.action });
    return { keyArn: key.arn, keyState: keyState(key) };
  }

  /**
   * The AWS managed key `alias/aws/secretsmanager` of an account and Region, created on first use
   * as Secrets Manager does, with the policy AWS gives it (usable only through Secrets Manager by
   * principals of the same account). Returns its ARN.
   */
  secretsManagerManagedKey(account: string, region: string): string {
    const store = this.state.store(account, region);
    const existing = store.aliases.get('alias/aws/secretsmanager');
    if (existing) return store.keys.get(existing.targetKeyId)!.arn;
    const now = this.clock.now();
    // buildKey reads only the owner account and the creation time of the request context.
    const ctx = { account, now } as RequestContext;
    const key = buildKey(ctx, {
      keyId: crypto.randomUUID(), region, spec: 'SYMMETRIC_DEFAULT', usage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS',
      description: 'Default key that protects my Secrets Manager data when no other key is defined', policy: secretsManagerManagedKeyPolicy(account, region), tags: [],
    });
    key.awsManaged = true;
    const material = crypto.randomBytes(32);
    key.materials.push({ keyMaterialId: keyMaterialId(key.keyId, material), fingerprint: sha256Hex(material), material, state: 'CURRENT' });
    store.keys.set(key.keyId, key);
    store.aliases.set('alias/aws/secretsmanager', { aliasName: 'alias/aws/secretsmanager', targetKeyId: key.keyId, creationDate: now, lastUpdatedDate: now });
    return key.arn;
  }
}

