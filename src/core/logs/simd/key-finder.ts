/**
 * Finds the lines of a byte block that contain a recogniser key, with WebAssembly SIMD, without
 * decoding the block. Blocks must be placed in the finder's own memory (`buffer()`), which is
 * what lets the caller read a file straight into it. `KeyFinder.create` returns undefined where
 * WebAssembly SIMD is missing or the keys do not suit it; callers then keep the regex path.
 */
import { BLOOM_BITS, BLOOM_MUL, finderModuleBytes, LAYOUT, TEDDY_BYTES } from './finder-module';

const PAGE = 65536;
/** The filter reads up to 15 + TEDDY_BYTES bytes past a block position. */
const SLACK = 64;
const BUCKETS = 8;

interface Exports {
  find(pos: number, end: number, cap: number): number;
  newlines(pos: number, end: number): number;
  keysIn(pos: number, end: number): number;
}

let moduleCache: WebAssembly.Module | null | undefined;

function compiled(): WebAssembly.Module | undefined {
  if (moduleCache === undefined) {
    moduleCache = null;
    try {
      if (typeof WebAssembly === 'object') {
        const bytes = finderModuleBytes();
        if (WebAssembly.validate(bytes)) moduleCache = new WebAssembly.Module(bytes);
      }
    } catch { /* no SIMD support: the regex path stays */ }
  }
  return moduleCache ?? undefined;
}

/**
 * Keys grouped into buckets of neighbouring prefixes, so each bucket's nibble masks stay selective;
 * short keys (which accept anything past their end) share buckets rather than spoil the others.
 */
function bucketize(keys: readonly string[]): string[][] {
  const pre = (k: string) => k.slice(0, TEDDY_BYTES);
  const prefixes = [...new Set(keys.map(pre))].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  const per = Math.ceil(prefixes.length / BUCKETS);
  const bucketOf = new Map(prefixes.map((p, i) => [p, Math.floor(i / per)]));
  const out: string[][] = Array.from({ length: BUCKETS }, () => []);
  for (const k of new Set(keys)) out[bucketOf.get(pre(k))!]!.push(k);
  return out;
}

export class KeyFinder {
  private bytes: Uint8Array;
  private get keyCount(): number { return this.keys.length; }
  private u32: Uint32Array;

  private constructor(private readonly memory: WebAssembly.Memory, private readonly x: Exports, readonly keys: readonly string[]) {
    this.bytes = new Uint8Array(memory.buffer);
    this.u32 = new Uint32Array(memory.buffer);
  }

  /** A finder for `keys`, or undefined when WebAssembly SIMD is unavailable or a key is not 4+ ASCII bytes. */
  static create(keys: readonly string[]): KeyFinder | undefined {
    if (keys.length === 0 || keys.length > LAYOUT.maxKeys) return undefined;
    if (keys.some((k) => k.length < 4 || !/^[\x01-\x7f]*$/.test(k) || k.includes('\n'))) return undefined;
    const total = keys.reduce((a, k) => a + k.length, 0);
    if (LAYOUT.keys + total > LAYOUT.keysEnd) return undefined;
    const mod = compiled();
    if (!mod) return undefined;
    try {
      const memory = new WebAssembly.Memory({ initial: Math.ceil((LAYOUT.data + PAGE) / PAGE) });
      const inst = new WebAssembly.Instance(mod, { env: { mem: memory } });
      const f = new KeyFinder(memory, inst.exports as unknown as Exports, [...keys]);
      f.loadKeys(keys);
      return f;
    } catch {
      return undefined;
    }
  }

  private loadKeys(keys: readonly string[]): void {
    const b = this.bytes;
    const dv = new DataView(b.buffer);
    let off = LAYOUT.keys;
    keys.forEach((k, i) => {
      const first = k.charCodeAt(0) | (k.charCodeAt(1) << 8) | (k.charCodeAt(2) << 16) | (k.charCodeAt(3) << 24);
      const h = Math.imul(first, BLOOM_MUL) >>> (32 - BLOOM_BITS);
      b[LAYOUT.bloom + (h >> 3)]! |= 1 << (h & 7);
      dv.setUint32(LAYOUT.refs + 8 * i, off, true);
      dv.setUint32(LAYOUT.refs + 8 * i + 4, k.length, true);
      for (let j = 0; j < k.length; j++) b[off + j] = k.charCodeAt(j);
      off += k.length;
    });
    const index = new Map<string, number>();
    keys.forEach((k, i) => { if (!index.has(k)) index.set(k, i); });
    let entry = 0;
    bucketize(keys).forEach((bucket, bi) => {
      dv.setUint32(LAYOUT.dir + 8 * bi, entry, true);
      dv.setUint32(LAYOUT.dir + 8 * bi + 4, bucket.length, true);
      for (const k of bucket) {
        for (let i = 0; i < TEDDY_BYTES; i++) {
          for (let x = 0; x < 16; x++) {
            const ch = k.charCodeAt(i); // NaN past the end: any byte passes
            if (!(i < k.length) || (ch & 15) === x) b[LAYOUT.masks + 32 * i + x]! |= 1 << bi;
            if (!(i < k.length) || ch >> 4 === x) b[LAYOUT.masks + 32 * i + 16 + x]! |= 1 << bi;
          }
        }
        dv.setUint32(LAYOUT.blist + 4 * entry++, index.get(k)!, true);
      }
    });
  }

  /**
   * A view of `capacity` bytes inside the finder's memory where blocks are placed. Growing the
   * memory detaches earlier views, so ask once for the largest block you will scan.
   */
  buffer(capacity: number): Uint8Array {
    const need = LAYOUT.data + capacity + SLACK;
    if (need > this.memory.buffer.byteLength) {
      this.memory.grow(Math.ceil((need - this.memory.buffer.byteLength) / PAGE));
      this.bytes = new Uint8Array(this.memory.buffer);
      this.u32 = new Uint32Array(this.memory.buffer);
    }
    return new Uint8Array(this.memory.buffer, LAYOUT.data, capacity);
  }

  /**
   * Calls `onLine(lineStart, lineIndex)` for every line of view[start, end) holding a key, in
   * order; offsets are view offsets, `lineIndex` counts newlines from view offset `start` on,
   * plus `newlinesBefore`. Returns that count at `end`.
   */
  forEachCandidate(view: Uint8Array, start: number, end: number, newlinesBefore: number, onLine: (lineStart: number, lineIndex: number) => void): number {
    if (view.buffer !== this.memory.buffer || view.byteOffset !== LAYOUT.data) throw new Error('KeyFinder: the block must be in the view from buffer()');
    const base = LAYOUT.data;
    const s = LAYOUT.state >> 2;
    let u32 = this.u32;
    u32[s] = newlinesBefore;
    u32[s + 1] = base + start;
    u32[s + 2] = 0xffffffff;
    let pos = base + start;
    const stop = base + end;
    while (pos < stop) {
      const n = this.x.find(pos, stop, LAYOUT.outCap - 16);
      u32 = this.u32;
      const o = LAYOUT.out >> 2;
      for (let i = 0; i < n; i++) onLine(u32[o + 2 * i]! - base, u32[o + 2 * i + 1]!);
      pos = u32[s + 3]!;
    }
    return u32[s]!;
  }

  /**
   * Indices (into the keys given to `create`, ascending) of the keys occurring in view[start, end):
   * what Scanner.push would otherwise find with a string search per key.
   */
  keysIn(start: number, end: number): number[] {
    if (!this.x.keysIn(LAYOUT.data + start, LAYOUT.data + end)) return [];
    const out: number[] = [];
    const w0 = LAYOUT.keybits >> 2;
    for (let w = 0; w * 32 < this.keyCount; w++) {
      for (let bits = this.u32[w0 + w]!; bits !== 0; bits &= bits - 1) out.push(w * 32 + 31 - Math.clz32(bits & -bits));
    }
    return out;
  }

  /** Newlines in view[start, end). */
  newlines(start: number, end: number): number {
    return this.x.newlines(LAYOUT.data + start, LAYOUT.data + end);
  }
}
