/**
 * The HTTP front end: AWS JSON 1.1 over `POST /` (spec §1). The Region comes from the SigV4
 * credential scope and the account from the access key id; signatures are not checked.
 */
import * as crypto from 'crypto';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { setTimeout as sleep } from 'timers/promises';
import { parseKmsArn } from './arn';
import { EmulatorClock } from './clock';
import type { EmulatorConfig, RequestContext } from './context';
import { KmsError, internal, serialization, throttling, unknownOperation, unsupported } from './errors';
import { FaultInjector, FaultRule } from './faults';
import { isImported, keyState, sweep } from './lifecycle';
import { OPERATIONS, UNIMPLEMENTED_OPERATIONS } from './operations';
import { QuotaOptions, RequestQuotas } from './quotas';
import { keyFamily } from './specs';
import { EmulatorState } from './state';
import { Input } from './validation';
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
  /** Access key id → account id, to emulate several accounts (e.g. a key owner and a partner). */
  accounts?: Record<string, string>;
  /** @default a clock running with real time */
  clock?: EmulatorClock;
  /**
   * Accept RSA_AES_KEY_WRAP_SHA_* for symmetric and HMAC key material (AWS's docs conflict, spec §3).
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
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    const shownHost = host.includes(':') ? `[${host}]` : host;
    Object.assign(this, { port: address.port, endpoint: `http://${shownHost}:${address.port}` });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const startedAt = Date.now();
    const clockAt = this.clock.now().getTime();
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : target;
    const { region, account } = this.identify(req.headers.authorization);
    const record = (status: number, errorType?: string, fault?: FaultRule['kind']) =>
      this.calls.push({ operation, region, account, startedAt, endedAt: Date.now(), clockAt, status, errorType, fault });

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
        payload = await this.dispatch(operation, body, region, account);
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

  private async dispatch(operation: string, body: string, region: string, account: string): Promise<Record<string, unknown>> {
    const handler = OPERATIONS[operation];
    if (!handler) {
      if (UNIMPLEMENTED_OPERATIONS.has(operation)) throw unsupported(`The KMS emulator does not implement ${operation}.`);
      throw unknownOperation();
    }
    let parsed: unknown;
    try {
      parsed = body.trim() === '' ? {} : JSON.parse(body);
    } catch {
      throw serialization('Malformed JSON in the request body.');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw serialization('The request body must be a JSON object.');

    const now = this.clock.now();
    sweep(this.state, now);
    const ctx: RequestContext = { state: this.state, account, region, now, config: this.config, wrappingKeys: this.wrappingKeys };
    return handler(ctx, new Input(parsed as Record<string, unknown>));
  }

  /** `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261123/eu-west-1/kms/aws4_request, ...` */
  private identify(authorization: string | undefined): { region: string; account: string } {
    const m = /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\/[^/,\s]+\/aws4_request/.exec(authorization ?? '');
    return {
      region: m?.[2] ?? this.defaultRegion,
      account: (m && this.accounts[m[1]]) ?? this.defaultAccount,
    };
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
