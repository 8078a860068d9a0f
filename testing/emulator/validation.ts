import { serialization, validation } from './errors';

/**
 * Reads one request body the way the KMS front end does: type errors are SerializationException,
 * model constraint violations are collected and reported together as a ValidationException in
 * AWS's wording (AWS-rec):
 * `1 validation error detected: Value 'X' at 'wrappingAlgorithm' failed to satisfy constraint: ...`.
 *
 * Read every member first, then call `done()`; values read before `done()` may be placeholders.
 */
export class Input {
  private readonly errors: string[] = [];

  constructor(private readonly body: Record<string, unknown>) {}

  has(member: string): boolean {
    return this.body[member] !== undefined && this.body[member] !== null;
  }

  string(member: string, c: StringRule & { required: true }): string;
  string(member: string, c?: StringRule): string | undefined;
  string(member: string, c: StringRule = {}): string | undefined {
    const v = this.raw(member, 'string', c.required);
    if (v === undefined) return c.required ? '' : undefined;
    const s = v as string;
    if (c.min !== undefined && s.length < c.min) this.fail(member, s, `Member must have length greater than or equal to ${c.min}`);
    if (c.max !== undefined && s.length > c.max) this.fail(member, s, `Member must have length less than or equal to ${c.max}`);
    if (c.pattern && !c.pattern.test(s)) this.fail(member, s, `Member must satisfy regular expression pattern: ${c.pattern.source}`);
    return s;
  }

  enumValue<T extends string>(member: string, values: readonly T[], required: true): T;
  enumValue<T extends string>(member: string, values: readonly T[], required?: boolean): T | undefined;
  enumValue<T extends string>(member: string, values: readonly T[], required = false): T | undefined {
    const v = this.raw(member, 'string', required);
    if (v === undefined) return required ? values[0] : undefined;
    if (!values.includes(v as T)) this.fail(member, v as string, `Member must satisfy enum value set: [${values.join(', ')}]`);
    return v as T;
  }

  /** A base64 blob. Its value never appears in a message (KMS does not echo blobs either). */
  blob(member: string, c: BlobRule & { required: true }): Buffer;
  blob(member: string, c?: BlobRule): Buffer | undefined;
  blob(member: string, c: BlobRule = {}): Buffer | undefined {
    const v = this.raw(member, 'string', c.required);
    if (v === undefined) return c.required ? Buffer.alloc(0) : undefined;
    const s = v as string;
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 === 1) {
      throw serialization(`Value for '${member}' is not valid base64.`);
    }
    const b = Buffer.from(s, 'base64');
    const min = c.min ?? 1;
    if (b.length < min) this.errors.push(`Value at '${camel(member)}' failed to satisfy constraint: Member must have length greater than or equal to ${min}`);
    if (c.max !== undefined && b.length > c.max) {
      this.errors.push(`Value at '${camel(member)}' failed to satisfy constraint: Member must have length less than or equal to ${c.max}`);
    }
    return b;
  }

  /** Epoch seconds, integer (JS SDK, botocore) or fractional, as the AWS JSON 1.1 protocol allows. */
  timestamp(member: string): Date | undefined {
    const v = this.raw(member, 'number', false);
    return v === undefined ? undefined : new Date(Math.round((v as number) * 1000));
  }

  integer(member: string, c: { required?: boolean; min?: number; max?: number } = {}): number | undefined {
    const v = this.raw(member, 'number', c.required);
    if (v === undefined) return undefined;
    const n = v as number;
    if (!Number.isInteger(n)) throw serialization(`Value for '${member}' is not an integer.`);
    if (c.min !== undefined && n < c.min) this.fail(member, String(n), `Member must have value greater than or equal to ${c.min}`);
    if (c.max !== undefined && n > c.max) this.fail(member, String(n), `Member must have value less than or equal to ${c.max}`);
    return n;
  }

  boolean(member: string): boolean | undefined {
    return this.raw(member, 'boolean', false) as boolean | undefined;
  }

  /** A string→string map such as EncryptionContext. */
  stringMap(member: string): Record<string, string> | undefined {
    const v = this.raw(member, 'object', false);
    if (v === undefined) return undefined;
    for (const value of Object.values(v as object)) {
      if (typeof value !== 'string') throw serialization(`Values of '${member}' must be strings.`);
    }
    return v as Record<string, string>;
  }

  /** A list of objects (e.g. Tags); each element is read with its own Input. */
  objectList(member: string): Array<Record<string, unknown>> | undefined {
    const v = this.raw(member, 'array', false);
    if (v === undefined) return undefined;
    for (const e of v as unknown[]) {
      if (typeof e !== 'object' || e === null || Array.isArray(e)) throw serialization(`Elements of '${member}' must be structures.`);
    }
    return v as Array<Record<string, unknown>>;
  }

  /** A nested structure (e.g. CreateGrant's Constraints), to be read with its own Input. */
  structure(member: string): Input | undefined {
    const v = this.raw(member, 'object', false);
    return v === undefined ? undefined : new Input(v as Record<string, unknown>);
  }

  stringList(member: string): string[] | undefined {
    const v = this.raw(member, 'array', false);
    if (v === undefined) return undefined;
    for (const e of v as unknown[]) if (typeof e !== 'string') throw serialization(`Elements of '${member}' must be strings.`);
    return v as string[];
  }

  /** Adds a constraint failure found by the caller (same wording as the model checks). */
  fail(member: string, value: string | null, constraint: string): void {
    const shown = value === null ? 'null' : `'${value}'`;
    this.errors.push(`Value ${shown} at '${camel(member)}' failed to satisfy constraint: ${constraint}`);
  }

  /** Throws the collected ValidationException, if any. */
  done(): void {
    if (this.errors.length === 0) return;
    const n = this.errors.length;
    throw validation(`${n} validation error${n === 1 ? '' : 's'} detected: ${this.errors.join('; ')}`);
  }

  private raw(member: string, type: 'string' | 'number' | 'boolean' | 'object' | 'array', required = false): unknown {
    const v = this.body[member];
    if (v === undefined || v === null) {
      if (required) this.fail(member, null, 'Member must not be null');
      return undefined;
    }
    const actual = Array.isArray(v) ? 'array' : typeof v;
    if (actual !== type) throw serialization(`Expected ${type} for '${member}' but found ${actual}.`);
    return v;
  }
}

/** The KeyId member of most operations: a key id, key ARN, alias name or alias ARN of 1–2048 characters. */
export const KEY_ID: StringRule & { required: true } = { required: true, min: 1, max: 2048 };

export interface StringRule {
  required?: boolean;
  min?: number;
  max?: number;
  pattern?: RegExp;
}

export interface BlobRule {
  required?: boolean;
  /** @default 1 */
  min?: number;
  max?: number;
}

/** AWS names members in validation messages in lower camel case: KeyId → keyId. */
function camel(member: string): string {
  return member.charAt(0).toLowerCase() + member.slice(1);
}
