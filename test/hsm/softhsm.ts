import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as path from 'path';
import type * as Pkcs11js from 'pkcs11js';
import * as C from '../../lambda/sources/pkcs11/constants';

/**
 * The SoftHSM2 token the HSM tests use, set up by scripts/setup-softhsm.sh (which installs
 * Debian's softhsm2 if it is missing), and an "HSM administrator" on it: a second pkcs11js client
 * in the test process that creates keys the way an HSM user would (CKA_SENSITIVE, CKA_EXTRACTABLE)
 * and computes with them inside the HSM (KCV, HMAC, signatures) to prove what the handler's wraps
 * carry. It never reads a key value either: the keys are sensitive.
 */

export interface SoftHsmEnv {
  readonly SOFTHSM2_CONF: string;
  readonly PKCS11_MODULE: string;
  readonly PKCS11_TOKEN_LABEL: string;
  readonly PKCS11_PIN: string;
}

let setup: { env?: SoftHsmEnv; reason?: string } | undefined;

/** Runs the setup script once per test process; `reason` says why SoftHSM cannot be had here. */
export function softHsm(): { env?: SoftHsmEnv; reason?: string } {
  if (setup) return setup;
  try {
    const out = execFileSync(path.join(__dirname, '..', '..', 'scripts', 'setup-softhsm.sh'), [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    const env = Object.fromEntries([...out.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]])) as unknown as SoftHsmEnv;
    process.env.SOFTHSM2_CONF = env.SOFTHSM2_CONF;
    setup = { env };
  } catch (e) {
    const err = e as { status?: number; stderr?: string; message: string };
    // Exit code 3: softhsm2 is missing and this machine cannot install it (no root, no apt-get).
    if (err.status === 3) setup = { reason: (err.stderr ?? err.message).trim() };
    else throw new Error(`scripts/setup-softhsm.sh failed: ${err.stderr ?? err.message}`);
  }
  return setup;
}

/** `describe`, or `describe.skip` with the reason printed, when SoftHSM cannot be installed. */
export function describeWithSoftHsm(name: string, fn: (env: () => SoftHsmEnv) => void): void {
  const { env, reason } = softHsm();
  if (!env) {
    // eslint-disable-next-line no-console
    console.warn(`SKIPPED "${name}": SoftHSM2 is not installable on this machine: ${reason}`);
    describe.skip(name, () => fn(() => { throw new Error('unreachable'); }));
    return;
  }
  describe(name, () => fn(() => env));
}

export type Handle = Buffer;

/** The HSM administrator's own session on the test token. */
export class HsmAdmin {
  public static open(env: SoftHsmEnv): HsmAdmin {
    const pkcs11js = require('pkcs11js') as typeof Pkcs11js;
    const api = new pkcs11js.PKCS11();
    api.load(env.PKCS11_MODULE);
    try {
      api.C_Initialize();
    } catch (e) {
      if ((e as { code?: number }).code !== C.CKR.CRYPTOKI_ALREADY_INITIALIZED) throw e;
    }
    const slot = api.C_GetSlotList(true).find((s) => api.C_GetTokenInfo(s).label.trim() === env.PKCS11_TOKEN_LABEL);
    if (!slot) throw new Error(`no token ${env.PKCS11_TOKEN_LABEL}`);
    const session = api.C_OpenSession(slot, C.CKF_SERIAL_SESSION | C.CKF_RW_SESSION);
    return new HsmAdmin(api, slot, session, env.PKCS11_PIN);
  }

  private readonly created: Handle[] = [];

  private constructor(public readonly api: Pkcs11js.PKCS11, public readonly slot: Handle, public readonly session: Handle, private readonly pin: string) {
    this.login();
  }

  /**
   * The login state is shared by every session of the process: the handler's close (C_Logout)
   * logs this session out too, so log in again before each use.
   */
  public login(): void {
    try {
      this.api.C_Login(this.session, C.CKU_USER, this.pin);
    } catch (e) {
      if ((e as { code?: number }).code !== C.CKR.USER_ALREADY_LOGGED_IN) throw e;
    }
  }

  /** A fresh label, so tests never see each other's keys. */
  public static label(prefix: string): string {
    return `${prefix}-${randomBytes(6).toString('hex')}`;
  }

  /** An AES key generated in the HSM: sensitive (its value cannot be read) but extractable (wrappable). */
  public generateAes(label: string, bytes = 32, extra: Pkcs11js.Template = []): Handle {
    return this.generateSecret(C.CKM_AES_KEY_GEN, C.CKK_AES, label, bytes, [{ type: C.CKA_ENCRYPT, value: true }, ...extra]);
  }

  /** A generic secret (HMAC) key generated in the HSM, sensitive and extractable. */
  public generateHmac(label: string, bytes: number): Handle {
    const CKM_GENERIC_SECRET_KEY_GEN = 0x350;
    return this.generateSecret(CKM_GENERIC_SECRET_KEY_GEN, C.CKK_GENERIC_SECRET, label, bytes, [{ type: C.CKA_SIGN, value: true }]);
  }

  private generateSecret(mechanism: number, keyType: number, label: string, bytes: number, extra: Pkcs11js.Template): Handle {
    this.login();
    const handle = this.api.C_GenerateKey(this.session, { mechanism }, [
      { type: C.CKA_CLASS, value: C.CKO_SECRET_KEY },
      { type: C.CKA_KEY_TYPE, value: keyType },
      { type: C.CKA_VALUE_LEN, value: bytes },
      { type: C.CKA_TOKEN, value: true },
      { type: C.CKA_PRIVATE, value: true },
      { type: C.CKA_SENSITIVE, value: true },
      { type: C.CKA_EXTRACTABLE, value: true },
      { type: C.CKA_LABEL, value: label },
      ...extra,
    ].reduce(dedupe, []));
    this.created.push(handle);
    return handle;
  }

  /** An RSA key pair generated in the HSM; the private key is sensitive and extractable. */
  public generateRsa(label: string, bits: number): { privateKey: Handle; publicKey: Handle } {
    const CKM_RSA_PKCS_KEY_PAIR_GEN = 0x0;
    return this.generatePair(CKM_RSA_PKCS_KEY_PAIR_GEN, label, [
      { type: 0x121 /* CKA_MODULUS_BITS */, value: bits },
      { type: C.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
    ]);
  }

  /** An EC key pair on a named curve (OID in DER hex), generated in the HSM. */
  public generateEc(label: string, ecParamsHex: string): { privateKey: Handle; publicKey: Handle } {
    const CKM_EC_KEY_PAIR_GEN = 0x1040;
    return this.generatePair(CKM_EC_KEY_PAIR_GEN, label, [{ type: C.CKA_EC_PARAMS, value: Buffer.from(ecParamsHex, 'hex') }]);
  }

  private generatePair(mechanism: number, label: string, publicAttributes: Pkcs11js.Template): { privateKey: Handle; publicKey: Handle } {
    this.login();
    const keys = this.api.C_GenerateKeyPair(this.session, { mechanism }, [
      { type: C.CKA_TOKEN, value: true },
      { type: C.CKA_VERIFY, value: true },
      { type: C.CKA_LABEL, value: label },
      ...publicAttributes,
    ], [
      { type: C.CKA_TOKEN, value: true },
      { type: C.CKA_PRIVATE, value: true },
      { type: C.CKA_SENSITIVE, value: true },
      { type: C.CKA_EXTRACTABLE, value: true },
      { type: C.CKA_SIGN, value: true },
      { type: C.CKA_LABEL, value: label },
    ]);
    this.created.push(keys.privateKey, keys.publicKey);
    return keys;
  }

  /** KCV of an AES key computed by the HSM: AES-ECB of one zero block. */
  public aesKcv(key: Handle): Buffer {
    this.login();
    const CKM_AES_ECB = 0x1081;
    this.api.C_EncryptInit(this.session, { mechanism: CKM_AES_ECB }, key);
    return this.api.C_Encrypt(this.session, Buffer.alloc(16), Buffer.alloc(16));
  }

  /** HMAC-SHA-256 computed by the HSM. */
  public hmacSha256(key: Handle, data: Buffer): Buffer {
    this.login();
    const CKM_SHA256_HMAC = 0x251;
    this.api.C_SignInit(this.session, { mechanism: CKM_SHA256_HMAC }, key);
    return this.api.C_Sign(this.session, data, Buffer.alloc(32));
  }

  /** A signature made by the HSM: RSA PKCS#1 v1.5 with SHA-256, or raw ECDSA (r || s) over a digest. */
  public sign(key: Handle, mechanism: number, data: Buffer): Buffer {
    this.login();
    this.api.C_SignInit(this.session, { mechanism }, key);
    return this.api.C_Sign(this.session, data, Buffer.alloc(1024));
  }

  public attribute(object: Handle, type: number): Buffer {
    this.login();
    return this.api.C_GetAttributeValue(this.session, object, [{ type }])[0].value as Buffer;
  }

  /** SoftHSM's version from C_GetInfo, e.g. '2.6'. */
  public libraryVersion(): string {
    const info = this.api.C_GetInfo();
    return `${info.libraryVersion.major}.${info.libraryVersion.minor}`;
  }

  /** Whether a session handle is still open (C_GetSessionInfo answers for it). */
  public sessionIsOpen(session: Handle): boolean {
    try {
      this.api.C_GetSessionInfo(session);
      return true;
    } catch (e) {
      if ((e as { code?: number }).code === C.CKR.SESSION_HANDLE_INVALID) return false;
      throw e;
    }
  }

  /** Deletes every key this administrator made. */
  public cleanup(): void {
    this.login();
    for (const handle of this.created.splice(0)) {
      try {
        this.api.C_DestroyObject(this.session, handle);
      } catch {
        // already gone
      }
    }
  }

  public close(): void {
    this.cleanup();
    try {
      this.api.C_CloseSession(this.session);
    } catch {
      // closed
    }
  }
}

function dedupe(acc: Pkcs11js.Template, a: Pkcs11js.Attribute): Pkcs11js.Template {
  const i = acc.findIndex((b) => b.type === a.type);
  if (i >= 0) acc[i] = a;
  else acc.push(a);
  return acc;
}
