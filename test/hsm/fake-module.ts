import { constants, createCipheriv, createPublicKey, KeyObject, publicEncrypt, randomBytes } from 'crypto';
import { Handle, LoadedModule, Pkcs11Api, RsaAesKeyWrapParams, Template } from '../../lambda/sources/pkcs11/binding';
import * as C from '../../lambda/sources/pkcs11/constants';

/**
 * A PKCS#11 module in JavaScript, for what SoftHSM cannot show: the exact mechanism parameters
 * the source passes to C_WrapKey for the SHA-256 algorithms and for native CKM_RSA_AES_KEY_WRAP,
 * the fallbacks, and cleanup when a call fails. It records every call, and it really computes
 * the wraps (with node's crypto, from the parameters it was given), so a test can also unwrap
 * the output the way KMS does.
 */

export interface Call {
  readonly fn: string;
  readonly args: unknown[];
}

interface FakeObject {
  readonly attributes: Map<number, unknown>;
  /** The key value of a secret key, or the PKCS#8 of a private key: what a real HSM keeps inside. */
  readonly value?: Buffer;
}

/** A pkcs11js-style error. */
export function pkcs11Error(code: number, fn: string): Error {
  return Object.assign(new Error(`${C.ckrName(code)}`), { name: 'Pkcs11Error', code, method: fn });
}

export interface FakeOptions {
  readonly mechanisms?: number[];
  /** Offer koffi's native CKM_RSA_AES_KEY_WRAP call. */
  readonly native?: boolean;
  /** Make a function fail with a CKR code (optionally only for one mechanism). */
  readonly failures?: { fn: string; code: number; mechanism?: number }[];
  /** Make CKM_AES_KEY_WRAP_PAD behave like RFC 3394 + PKCS#7 (as some vendors read v2.40). */
  readonly pkcs7Pad?: boolean;
}

export class FakeModule {
  public readonly calls: Call[] = [];
  public readonly objects = new Map<number, FakeObject>();
  public readonly openSessions = new Set<number>();
  public loggedIn = false;
  private next = 100;
  public readonly slot = handle(7);
  public readonly tokenLabel = 'fake-token';

  constructor(private readonly options: FakeOptions = {}) {}

  /** Puts a key "in the HSM". */
  public addKey(attributes: Record<number, unknown>, value?: Buffer): Handle {
    const h = this.next++;
    this.objects.set(h, { attributes: new Map(Object.entries(attributes).map(([k, v]) => [Number(k), v])), value });
    return handle(h);
  }

  public callsOf(fn: string): unknown[][] {
    return this.calls.filter((c) => c.fn === fn).map((c) => c.args);
  }

  public module(): LoadedModule {
    return { api: this.api(), rsaAesKeyWrap: this.options.native ? this.nativeRsaAes.bind(this) : undefined };
  }

  private record(fn: string, args: unknown[], mechanism?: number): void {
    this.calls.push({ fn, args });
    const failure = this.options.failures?.find((f) => f.fn === fn && (f.mechanism === undefined || f.mechanism === mechanism));
    if (failure) throw pkcs11Error(failure.code, fn);
  }

  private api(): Pkcs11Api {
    const self = this;
    return {
      C_GetSlotList: () => [self.slot],
      C_GetTokenInfo: () => ({ label: self.tokenLabel.padEnd(32, ' ') }),
      C_GetMechanismList: () => self.options.mechanisms ?? [C.CKM_RSA_PKCS_OAEP, C.CKM_AES_KEY_GEN, C.CKM_AES_KEY_WRAP_PAD],
      C_GetMechanismInfo: () => ({ flags: C.CKF_WRAP }),
      C_OpenSession(slot, flags) {
        self.record('C_OpenSession', [slot, flags], flags);
        const h = self.next++;
        self.openSessions.add(h);
        return handle(h);
      },
      C_CloseSession(session) {
        self.record('C_CloseSession', [session]);
        self.openSessions.delete(num(session));
      },
      C_Login(session, userType, pin) {
        self.record('C_Login', [session, userType, pin]);
        self.loggedIn = true;
      },
      C_Logout(session) {
        self.record('C_Logout', [session]);
        self.loggedIn = false;
      },
      C_FindObjectsInit(session, template) {
        self.record('C_FindObjectsInit', [session, template]);
        self.search = [...self.objects.entries()].filter(([, o]) => matches(o, template)).map(([h]) => handle(h));
      },
      C_FindObjects(_session, max) {
        return self.search.splice(0, max);
      },
      C_FindObjectsFinal() {
        self.search = [];
      },
      C_GetAttributeValue(_session, object, template) {
        const o = self.get(object);
        return template.map(({ type }) => {
          if (!o.attributes.has(type)) throw pkcs11Error(C.CKR.ATTRIBUTE_TYPE_INVALID, 'C_GetAttributeValue');
          return { type, value: encode(o.attributes.get(type)) };
        });
      },
      C_CreateObject(session, template) {
        self.record('C_CreateObject', [session, template]);
        return self.addKey(Object.fromEntries(template.map((a) => [a.type, a.value])));
      },
      C_DestroyObject(session, object) {
        self.record('C_DestroyObject', [session, object]);
        self.objects.delete(num(object));
      },
      C_GenerateKey(session, mechanism, template) {
        self.record('C_GenerateKey', [session, mechanism, template], mechanism.mechanism);
        const length = template.find((a) => a.type === C.CKA_VALUE_LEN)?.value as number;
        return self.addKey(Object.fromEntries(template.map((a) => [a.type, a.value])), randomBytes(length));
      },
      C_WrapKey(session, mechanism, wrappingKey, key, out) {
        self.record('C_WrapKey', [session, mechanism, wrappingKey, key, out.length], mechanism.mechanism);
        const target = self.get(key).value!;
        const wrapper = self.get(wrappingKey);
        if (mechanism.mechanism === C.CKM_RSA_PKCS_OAEP) {
          const p = mechanism.parameter as unknown as { hashAlg: number; mgf: number };
          return oaep(rsaPublicKey(wrapper), p.hashAlg, target);
        }
        if (mechanism.mechanism === C.CKM_AES_KEY_WRAP_PAD || mechanism.mechanism === C.CKM_AES_KEY_WRAP_KWP) {
          if (self.options.pkcs7Pad) return Buffer.alloc(8 + target.length + (8 - (target.length % 8)));
          return kwp(wrapper.value!, target);
        }
        throw pkcs11Error(C.CKR.MECHANISM_INVALID, 'C_WrapKey');
      },
    };
  }

  private search: Handle[] = [];

  private nativeRsaAes(session: Handle, params: RsaAesKeyWrapParams, wrappingKey: Handle, key: Handle, maxLength: number): Buffer {
    this.record('C_WrapKey(koffi)', [session, params, wrappingKey, key, maxLength], C.CKM_RSA_AES_KEY_WRAP);
    const aes = randomBytes(params.aesKeyBits / 8);
    return Buffer.concat([oaep(rsaPublicKey(this.get(wrappingKey)), params.hashAlg, aes), kwp(aes, this.get(key).value!)]);
  }

  private get(h: Handle): FakeObject {
    const o = this.objects.get(num(h));
    if (!o) throw pkcs11Error(C.CKR.KEY_HANDLE_INVALID, 'get');
    return o;
  }
}

export function handle(n: number): Handle {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

function num(h: Handle): number {
  return Number(h.readBigUInt64LE(0));
}

function matches(o: FakeObject, template: Template): boolean {
  return template.every((a) => encode(o.attributes.get(a.type))?.equals(encode(a.value)!) ?? false);
}

/** pkcs11js's encoding of attribute values: CK_ULONG as 8 bytes, CK_BBOOL as 1, strings as UTF-8. */
function encode(v: unknown): Buffer | undefined {
  if (v === undefined) return undefined;
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'boolean') return Buffer.from([v ? 1 : 0]);
  if (typeof v === 'number') { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return b; }
  return Buffer.from(String(v), 'utf8');
}

function rsaPublicKey(o: FakeObject): KeyObject {
  const n = o.attributes.get(C.CKA_MODULUS) as Buffer;
  const e = o.attributes.get(C.CKA_PUBLIC_EXPONENT) as Buffer;
  return createPublicKey({ key: { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') }, format: 'jwk' });
}

function oaep(key: KeyObject, hashAlg: number, data: Buffer): Buffer {
  const oaepHash = hashAlg === C.CKM_SHA256 ? 'sha256' : hashAlg === C.CKM_SHA_1 ? 'sha1' : undefined;
  if (!oaepHash) throw pkcs11Error(C.CKR.MECHANISM_PARAM_INVALID, 'C_WrapKey');
  return publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, data);
}

function kwp(key: Buffer, data: Buffer): Buffer {
  const cipher = createCipheriv('id-aes256-wrap-pad', key, Buffer.from('A65959A6', 'hex'));
  return Buffer.concat([cipher.update(data), cipher.final()]);
}
