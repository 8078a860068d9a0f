/** The little big-integer arithmetic the emulator needs (RSA key normalisation, ECDSA scalars). */

export function toBigInt(b: Buffer): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + b.toString('hex'));
}

/** Big-endian bytes; `size` left-pads to a fixed length. */
export function toBuffer(v: bigint, size = 0): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return Buffer.from(hex.padStart(size * 2, '0'), 'hex');
}

export function gcd(a: bigint, b: bigint): bigint {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** a⁻¹ mod m, or undefined when a and m are not coprime. */
export function modInverse(a: bigint, m: bigint): bigint | undefined {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return oldR === 1n ? ((oldS % m) + m) % m : undefined;
}
