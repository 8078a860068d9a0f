import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as path from 'path';
import type * as Pkcs11js from 'pkcs11js';
import * as C from '../../lambda/sources/pkcs11/constants';
import { whenMissing } from '../tools';

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
    // One token per jest worker: SoftHSM's file store is not safe for two processes writing one token.
    const dir = path.join(__dirname, '..', '..', '.softhsm', `worker-${process.env.JEST_WORKER_ID ?? '0'}`);
    const out = execFileSync(path.join(__dirname, '..', '..', 'scripts', 'setup-softhsm.sh'), [], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000, env: { ...process.env, SOFTHSM_DIR: dir },
    });
    const env = Object.fromEntries([...out.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]])) as unknown as SoftHsmEnv;
    setNativeEnv('SOFTHSM2_CONF', env.SOFTHSM2_CONF);
    setup = { env };
  } catch (e) {
    const err = e as { status?: number; stderr?: string; message: string };
    // Exit code 3: softhsm2 is missing and this machine cannot install it (no root, no apt-get).
    if (err.status === 3) setup = { reason: (err.stderr ?? err.message).trim() };
    else throw new Error(`scripts/setup-softhsm.sh failed: ${err.stderr ?? err.message}`, { cause: e });
  }
  return setup;
}

/**
 * SoftHSM reads SOFTHSM2_CONF with getenv() in C_Initialize. Jest gives each test file a copy of
 * process.env that never reaches the C environment, so set it there too, through libc's setenv.
 */
function setNativeEnv(name: string, value: string): void {
  process.env[name] = value;
  const koffi = require('koffi') as typeof import('koffi');
  const setenv = koffi.load('libc.so.6').func('int setenv(const char *name, const char *value, int overwrite)');
  if (setenv(name, value, 1) !== 0) throw new Error(`setenv ${name} failed`);
}

/**
 * `describe` with the token; when SoftHSM cannot be installed, a failing test in CI and a
 * one-line skip elsewhere (test/tools.ts).
 */
export function describeWithSoftHsm(name: string, fn: (env: () => SoftHsmEnv) => void): void {
  const { env, reason } = softHsm();
  const missing = whenMissing(name, env ? undefined : `SoftHSM2 is not installable on this machine: ${reason}`);
  if (missing === 'skip') describe.skip(name, () => fn(() => { throw new Error('unreachable'); }));
  else if (!missing) describe(name, () => fn(() => env!));
}

/**
 * The installed SoftHSM's version as `major.minor` (from `softhsm2-util --version`), known when
 * tests are defined, so that a test whose assertion depends on it can say in its name which
 * behaviour it proves. Undefined without SoftHSM.
 */
export function softHsmVersion(): string | undefined {
  try {
    return /^(\d+\.\d+)/.exec(execFileSync('softhsm2-util', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim())?.[1];
  } catch {
    return undefined;
  }
}

export type Handle = Buffer;

/**
 * A key the administrator made, by label and class. SoftHSM invalidates the handles of private
 * objects at logout, and the handler under test logs out, so handles are looked up per operation.
 */
export interface KeyRef {
  readonly label: string;
  readonly cls: number;
}

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

  private readonly created: KeyRef[] = [];

  private constructor(public readonly api: Pkcs11js.PKCS11, public readonly slot: Handle, public readonly session: Handle, private readonly pin: string) {
  }

  /**
   * The login state is shared by every session of the process (PKCS#11 §5.6): each operation logs
   * in and out again, so that the handler under test always does its own C_Login, as in Lambda.
   */
  public run<T>(fn: () => T): T {
    try {
      this.api.C_Login(this.session, C.CKU_USER, this.pin);
    } catch (e) {
      if ((e as { code?: number }).code !== C.CKR.USER_ALREADY_LOGGED_IN) throw e;
    }
    try {
      return fn();
    } finally {
      this.api.C_Logout(this.session);
    }
  }

  /** A fresh label, so tests never see each other's keys. */
  public static label(prefix: string): string {
    return `${prefix}-${randomBytes(6).toString('hex')}`;
  }

  /** An AES key generated in the HSM: sensitive (its value cannot be read) but extractable (wrappable). */
  public generateAes(label: string, bytes = 32, extra: Pkcs11js.Template = []): KeyRef {
    return this.generateSecret(C.CKM_AES_KEY_GEN, C.CKK_AES, label, bytes, [{ type: C.CKA_ENCRYPT, value: true }, ...extra]);
  }

  /** A generic secret (HMAC) key generated in the HSM, sensitive and extractable. */
  public generateHmac(label: string, bytes: number): KeyRef {
    const CKM_GENERIC_SECRET_KEY_GEN = 0x350;
    return this.generateSecret(CKM_GENERIC_SECRET_KEY_GEN, C.CKK_GENERIC_SECRET, label, bytes, [{ type: C.CKA_SIGN, value: true }]);
  }

  private generateSecret(mechanism: number, keyType: number, label: string, bytes: number, extra: Pkcs11js.Template): KeyRef {
    this.run(() => this.api.C_GenerateKey(this.session, { mechanism }, [
      { type: C.CKA_CLASS, value: C.CKO_SECRET_KEY },
      { type: C.CKA_KEY_TYPE, value: keyType },
      { type: C.CKA_VALUE_LEN, value: bytes },
      { type: C.CKA_TOKEN, value: true },
      { type: C.CKA_PRIVATE, value: true },
      { type: C.CKA_SENSITIVE, value: true },
      { type: C.CKA_EXTRACTABLE, value: true },
      { type: C.CKA_LABEL, value: label },
      ...extra,
    ].reduce(dedupe, [])));
    const ref = { label, cls: C.CKO_SECRET_KEY };
    this.created.push(ref);
    return ref;
  }

  /** An RSA key pair generated in the HSM; the private key is sensitive and extractable. */
  public generateRsa(label: string, bits: number): { privateKey: KeyRef; publicKey: KeyRef } {
    const CKM_RSA_PKCS_KEY_PAIR_GEN = 0x0;
    return this.generatePair(CKM_RSA_PKCS_KEY_PAIR_GEN, label, [
      { type: 0x121 /* CKA_MODULUS_BITS */, value: bits },
      { type: C.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
    ]);
  }

  /** An EC key pair on a named curve (OID in DER hex), generated in the HSM. */
  public generateEc(label: string, ecParamsHex: string): { privateKey: KeyRef; publicKey: KeyRef } {
    const CKM_EC_KEY_PAIR_GEN = 0x1040;
    return this.generatePair(CKM_EC_KEY_PAIR_GEN, label, [{ type: C.CKA_EC_PARAMS, value: Buffer.from(ecParamsHex, 'hex') }]);
  }

  private generatePair(mechanism: number, label: string, publicAttributes: Pkcs11js.Template): { privateKey: KeyRef; publicKey: KeyRef } {
    this.run(() => this.api.C_GenerateKeyPair(this.session, { mechanism }, [
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
    ]));
    const keys = { privateKey: { label, cls: C.CKO_PRIVATE_KEY }, publicKey: { label, cls: C.CKO_PUBLIC_KEY } };
    this.created.push(keys.privateKey, keys.publicKey);
    return keys;
  }

  /** KCV of an AES key computed by the HSM: AES-ECB of one zero block. */
  public aesKcv(key: KeyRef): Buffer {
    const CKM_AES_ECB = 0x1081;
    return this.run(() => {
      this.api.C_EncryptInit(this.session, { mechanism: CKM_AES_ECB }, this.handle(key));
      return this.api.C_Encrypt(this.session, Buffer.alloc(16), Buffer.alloc(16));
    });
  }

  /** An HMAC computed by the HSM, with the hash of an HMAC key spec ('sha224', 'sha256', 'sha384', 'sha512'). */
  public hmac(key: KeyRef, hash: 'sha224' | 'sha256' | 'sha384' | 'sha512', data: Buffer): Buffer {
    const mechanism = { sha224: 0x256, sha256: 0x251, sha384: 0x261, sha512: 0x271 }[hash]; // CKM_SHA*_HMAC
    return this.sign(key, mechanism, data);
  }

  /** SHA-256 of a secret key's value, computed inside the HSM (C_DigestKey): comparable, never revealed. */
  public sha256OfKey(key: KeyRef): Buffer {
    return this.run(() => {
      const handle = this.handle(key);
      this.api.C_DigestInit(this.session, { mechanism: C.CKM_SHA256 });
      this.api.C_DigestKey(this.session, handle);
      return this.api.C_DigestFinal(this.session, Buffer.alloc(32));
    });
  }

  /** A signature (or MAC) made by the HSM. */
  public sign(key: KeyRef, mechanism: number, data: Buffer): Buffer {
    return this.run(() => {
      this.api.C_SignInit(this.session, { mechanism }, this.handle(key));
      return this.api.C_Sign(this.session, data, Buffer.alloc(1024));
    });
  }

  public attribute(key: KeyRef, type: number): Buffer {
    return this.run(() => this.api.C_GetAttributeValue(this.session, this.handle(key), [{ type }])[0].value as Buffer);
  }

  /** The handle of a key, valid while logged in (inside run). */
  public handle(key: KeyRef): Handle {
    const found = this.find([{ type: C.CKA_LABEL, value: key.label }, { type: C.CKA_CLASS, value: key.cls }]);
    if (found.length !== 1) throw new Error(`${found.length} objects labelled ${key.label}`);
    return found[0];
  }

  private find(template: Pkcs11js.Template): Handle[] {
    this.api.C_FindObjectsInit(this.session, template);
    try {
      return this.api.C_FindObjects(this.session, 10);
    } finally {
      this.api.C_FindObjectsFinal(this.session);
    }
  }

  /** Objects (token or session) with a label, e.g. leftovers of the handler. */
  public findByLabel(label: string): Handle[] {
    return this.run(() => this.find([{ type: C.CKA_LABEL, value: label }]));
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
    const keys = this.created.splice(0);
    this.run(() => {
      for (const key of keys) {
        for (const handle of this.find([{ type: C.CKA_LABEL, value: key.label }, { type: C.CKA_CLASS, value: key.cls }])) {
          this.api.C_DestroyObject(this.session, handle);
        }
      }
    });
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
