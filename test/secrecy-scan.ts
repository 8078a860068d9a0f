/**
 * The secrecy detector: finds key material in anything a test can observe (logs, CloudFormation
 * answers, errors, templates, files), in every form in which a Node program or the AWS SDK prints
 * a buffer. Rather than listing encodings of the material, it decodes every candidate run in the
 * haystack back to bytes and looks each 16-byte window of every material up in a set, so any
 * slice, at any offset and alignment, is found:
 *
 * - raw bytes, also inside UTF-8 text (`buf.toString('latin1')` printed) and JSON string escapes;
 * - hexadecimal, either case, contiguous (at either nibble alignment) or one byte per token
 *   (`util.inspect`'s `<Buffer a8 30 2a ... 22 more bytes>`, `a8:30:2a`, `0xa8, 0x30`);
 * - base64 and base64url of any slice at any byte offset (every run is decoded at all four
 *   character alignments), also PEM bodies line by line;
 * - decimal byte lists: `JSON.stringify(buf)`'s `{"type":"Buffer","data":[168,48,...]}`, a
 *   Uint8Array's `{"0":168,"1":48,...}`, `util.inspect`'s `Uint8Array(32) [ 168, 48, ...]`, and
 *   comma or space separated numbers.
 *
 * Windows that also occur in `allowed` buffers (a key's public half, which PKCS#8 embeds) are
 * not secret and are not reported.
 */

/** One place where material was found. */
export interface SecrecyHit {
  /** The haystack's name. */
  readonly where: string;
  /** The form it was found in: raw, utf8, json-string, hex, hex-bytes, base64, decimal. */
  readonly form: string;
  /** Index of the material in the list scanned. */
  readonly material: number;
  /** Offset of the first matching window in the material. */
  readonly offset: number;
}

export interface Haystack {
  readonly where: string;
  readonly content: Buffer | string;
}

export interface ScanOptions {
  /** Window size in bytes (default 16): a leak of this many consecutive bytes is found. */
  readonly window?: number;
  /** Public bytes (e.g. a private key's SPKI): windows of the material found in these are ignored. */
  readonly allowed?: Buffer[];
}

const SEP = String.raw`(?:[\s,;]|\\[nrt])+`;
const HEX_RUN = /[0-9a-fA-F]{16,}/g;
const HEX_TOKENS = new RegExp(String.raw`(?:0x)?[0-9a-fA-F]{2}(?![0-9a-zA-Z])(?:(?:${SEP}|:)(?:0x)?[0-9a-fA-F]{2}(?![0-9a-zA-Z]))+`, 'g');
const BASE64_RUN = /[A-Za-z0-9+/_-]{16,}/g;
const DECIMAL_ITEM = /(?:["']?\d+["']?\s*:\s*)?(?<![\d.])(\d{1,3})(?![\d.])/g;
const DECIMAL_GAP = new RegExp(`^${SEP}$`);

/** Every form the haystack can be read as: [form, bytes]. */
export function decodings(content: Buffer | string): Array<[string, Buffer]> {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const text = typeof content === 'string' ? content : content.toString('latin1');
  const out: Array<[string, Buffer]> = [['raw', bytes]];
  const utf8 = typeof content === 'string' ? content : content.toString('utf8');
  out.push(['utf8', latin1Bytes(utf8)]);
  if (/\\u00[0-9a-fA-F]{2}|\\[nrt"\\]/.test(utf8)) out.push(['json-string', latin1Bytes(unescapeJson(utf8))]);
  for (const m of text.matchAll(HEX_RUN)) {
    const run = m[0];
    out.push(['hex', Buffer.from(run.slice(0, run.length & ~1), 'hex')], ['hex', Buffer.from(run.slice(1, 1 + ((run.length - 1) & ~1)), 'hex')]);
  }
  for (const m of text.matchAll(HEX_TOKENS)) {
    const tokens = m[0].split(/(?:[\s,;:]|\\[nrt])+/).filter(Boolean).map((t) => t.replace(/^0x/i, ''));
    out.push(['hex-bytes', Buffer.from(tokens.join(''), 'hex')]);
  }
  for (const m of text.matchAll(BASE64_RUN)) {
    const run = m[0].replace(/-/g, '+').replace(/_/g, '/');
    for (let shift = 0; shift < 4; shift++) {
      // Node decodes a trailing partial group too (base64 of 16 bytes is 22 characters unpadded).
      out.push(['base64', Buffer.from(run.slice(shift), 'base64')]);
    }
  }
  let run: number[] = [];
  let end = -1;
  const flush = () => { if (run.length >= 4) out.push(['decimal', Buffer.from(run)]); run = []; };
  for (const m of text.matchAll(DECIMAL_ITEM)) {
    const value = Number(m[1]);
    if (end >= 0 && !DECIMAL_GAP.test(text.slice(end, m.index))) flush();
    if (value > 255) { flush(); end = -1; continue; }
    run.push(value);
    end = m.index + m[0].length;
  }
  flush();
  return out;
}

function latin1Bytes(text: string): Buffer {
  // Characters above U+00FF cannot be material bytes; each becomes one NUL, which splits nothing a
  // real leak would contain.
  // eslint-disable-next-line no-control-regex
  return Buffer.from(text.replace(/[^\u0000-\u00ff]/g, '\u0000'), 'latin1');
}

function unescapeJson(text: string): string {
  return text.replace(/\\u([0-9a-fA-F]{4})|\\([nrtbf"\\/])/g, (_, hex: string | undefined, c: string | undefined) => {
    if (hex) return String.fromCharCode(parseInt(hex, 16));
    return ({ n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' } as Record<string, string>)[c!] ?? c!;
  });
}

/** The windows of each material, keyed by their latin1 text: material index and offset. */
function windowIndex(materials: Buffer[], size: number, allowed: Buffer[]): Map<string, [number, number]> {
  const publicWindows = new Set<string>();
  for (const a of allowed) for (let i = 0; i + size <= a.length; i++) publicWindows.add(a.toString('latin1', i, i + size));
  const index = new Map<string, [number, number]>();
  materials.forEach((m, n) => {
    if (m.length < size) throw new Error(`material ${n} is ${m.length} bytes, shorter than the ${size}-byte window`);
    for (let i = 0; i + size <= m.length; i++) {
      const w = m.toString('latin1', i, i + size);
      if (!publicWindows.has(w) && !index.has(w)) index.set(w, [n, i]);
    }
  });
  return index;
}

/** Finds every material in every haystack; returns one hit per haystack, form and material. */
export function scanForMaterial(materials: Buffer[], haystacks: Haystack[], options: ScanOptions = {}): SecrecyHit[] {
  const size = options.window ?? 16;
  if (size < 4) throw new Error(`a window of ${size} bytes is too small to mean anything`);
  const index = windowIndex(materials, size, options.allowed ?? []);
  // A cheap first filter (a window's first 4 bytes as a number) keeps the scan of a large bundle fast.
  const prefixes = new Set([...index.keys()].map((w) => Buffer.from(w, 'latin1').readUInt32LE(0)));
  const hits: SecrecyHit[] = [];
  for (const { where, content } of haystacks) {
    const seen = new Set<string>();
    for (const [form, bytes] of decodings(content)) {
      if (bytes.length < size) continue;
      for (let i = 0; i + size <= bytes.length; i++) {
        if (!prefixes.has(bytes.readUInt32LE(i))) continue;
        const found = index.get(bytes.toString('latin1', i, i + size));
        if (found && !seen.has(`${form}/${found[0]}`)) {
          seen.add(`${form}/${found[0]}`);
          hits.push({ where, form, material: found[0], offset: found[1] });
        }
      }
    }
  }
  return hits;
}

/** A short, material-free description of hits for an assertion message. */
export function describeHits(hits: SecrecyHit[]): string[] {
  return hits.map((h) => `material #${h.material} (bytes ${h.offset}+) as ${h.form} in ${h.where}`);
}

/**
 * What a stored secret value could leak as: its text itself, the bytes that text decodes to
 * (base64, hex, each PEM body) and a SecretBinary's bytes; each at least `window` bytes long.
 * PEM armour lines (`-----BEGIN ...-----`) are returned as `allowed`: a message may name a
 * known label.
 */
export function secretValueMaterials(stored: { secretString?: string; secretBinary?: Uint8Array }, window = 16): { materials: Buffer[]; allowed: Buffer[] } {
  const materials: Buffer[] = [];
  const allowed: Buffer[] = [];
  if (stored.secretBinary) materials.push(Buffer.from(stored.secretBinary));
  const text = stored.secretString;
  if (text !== undefined) {
    materials.push(Buffer.from(text, 'utf8'));
    const compact = text.includes('-----BEGIN') ? '' : text.replace(/\s+/g, '');
    if (/^[A-Za-z0-9+/_-]+=*$/.test(compact)) materials.push(Buffer.from(compact, 'base64'));
    if (/^(0x)?[0-9a-fA-F]+$/.test(compact)) materials.push(Buffer.from(compact.replace(/^0x/i, ''), 'hex'));
    for (const m of text.matchAll(/-----BEGIN [^-]*-----([\s\S]*?)-----END/g)) materials.push(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
    for (const m of text.matchAll(/-----(?:BEGIN|END) [^-\n]*-----/g)) allowed.push(Buffer.from(m[0]));
  }
  return { materials: materials.filter((m) => m.length >= window), allowed };
}
