/**
 * Number-only helpers shared by the walkers' hot paths: table powers of two, exact alignment,
 * hex formatting and BigInt-free memory reads. `2 ** n` with a variable n is a Math.pow call, `%`
 * on doubles an fmod call, and BigInt values are heap allocations; a walk storm pays for each.
 */
import type { PhysicalMemory } from '../snapshot/memory';

const POW2 = new Float64Array(128).map((_, i) => 2 ** i);
/** 2 ** n for an integer 0 <= n < 128, by table */
export const pow2 = (n: number): number => POW2[n]!;
const P2 = pow2;
export const TWO32 = 4294967296;
const BYTE_HEX: string[] = [];
for (let i = 0; i < 256; i++) BYTE_HEX.push(i.toString(16).padStart(2, '0'));

function hex32(x: number): string {
  if (x < 0x100) return x < 16 ? '0123456789abcdef'[x]! : BYTE_HEX[x]!;
  let out = '';
  for (let sh = 24; sh >= 0; sh -= 8) {
    const b = (x >>> sh) & 255;
    if (out === '') {
      if (b !== 0) out = b < 16 ? '0123456789abcdef'[b]! : BYTE_HEX[b]!;
    } else out += BYTE_HEX[b]!;
  }
  return out;
}

/** '0x' + n.toString(16) for a non-negative integer below 2^53, without the slow double-to-radix path */
export function hexn(n: number): string {
  if (n < TWO32) return '0x' + hex32(n);
  const hi = Math.floor(n / TWO32);
  const lo = n - hi * TWO32;
  return '0x' + hex32(hi) + BYTE_HEX[lo >>> 24]! + BYTE_HEX[(lo >>> 16) & 255]! + BYTE_HEX[(lo >>> 8) & 255]! + BYTE_HEX[lo & 255]!;
}

/** '0x' + (hi * 2^32 + lo).toString(16) for two unsigned 32-bit halves */
export function hex64(lo: number, hi: number): string {
  if (hi === 0) return '0x' + hex32(lo);
  return '0x' + hex32(hi) + BYTE_HEX[lo >>> 24]! + BYTE_HEX[(lo >>> 16) & 255]! + BYTE_HEX[(lo >>> 8) & 255]! + BYTE_HEX[lo & 255]!;
}

/**
 * a - (a % 2^n), exactly as that expression computes it (negative a included): division by a
 * power of two is exact, and `%` on doubles is an fmod call.
 */
export function alignDown(a: number, n: number): number {
  return Math.trunc(a / P2(n)) * P2(n);
}

/** a % 2^n, exactly (the sign of a, like `%`), without the fmod call */
export function modPow2(a: number, n: number): number {
  return a - Math.trunc(a / P2(n)) * P2(n);
}

/**
 * Read out.length little-endian 32-bit words at `addr`: through the memory's BigInt-free readWords
 * when it has one, else with read64/read. false when any byte is not in the snapshot.
 */
export function readWordsLE(mem: PhysicalMemory, addr: number, out: Uint32Array): boolean {
  // a fractional address takes the BigInt path (and throws there), as it always did
  if (mem.readWords && Number.isInteger(addr)) return mem.readWords(addr, out);
  if (out.length === 2) {
    const d = mem.read64(BigInt(addr));
    if (d === undefined) return false;
    out[0] = Number(d & 0xffffffffn);
    out[1] = Number(d >> 32n);
    return true;
  }
  const b = mem.read(BigInt(addr), 4 * out.length);
  if (!b) return false;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = dv.getUint32(4 * i, true);
  return true;
}
