/**
 * Physical memory assembled from a snapshot's sources (ELF cores, raw files). Reads are lazy and go
 * through a bounded cache of 4 KiB pages: a multi-GB core costs only the pages a walk touches.
 * read64/read32 are the walkers' hot path: no allocation except the returned value when the page
 * is cached, and the last page used is checked before the cache map.
 */
import type { PhysicalMemory } from './memory';
import type { MemoryExtent } from './elf';

const PAGE_SIZE = 4096;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** aligned typed-array reads are faster than DataView, but they use the host's byte order */
const LE_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** a 4-level walk storm touches a few hundred table pages: the front covers the whole default cache */
const TLB_SIZE = 1024;
const TLB_MASK = TLB_SIZE - 1;

/** A piece of physical memory with one backing: bytes in a source, or zeros (p_filesz < p_memsz). */
interface Run {
  start: bigint;
  end: bigint;
  /** undefined: reads as zeros */
  extent?: MemoryExtent;
  /** source offset of `start` when backed by the file */
  fileOffset: number;
  label: string;
  priority: number;
}

interface Page {
  data: Uint8Array;
  view: DataView;
  u64: BigUint64Array;
  u32: Uint32Array;
  /** every byte of the page is in the snapshot */
  full: boolean;
  /** when not full: sorted, merged [lo, hi) byte ranges of the page that are in the snapshot */
  spans: number[];
  stamp: number;
}

export interface PhysicalMemoryOptions {
  /** pages kept in the cache (default 1024 = 4 MiB) */
  cachePages?: number;
}

/** Split an extent into the parts that exist: file-backed, then zero-filled; a truncated middle is absent. */
function runsOf(ext: MemoryExtent, priority: number): Run[] {
  const out: Run[] = [];
  const present = ext.truncatedFrom ?? ext.fileLength;
  const fileEnd = ext.start + BigInt(Math.min(present, ext.fileLength));
  if (fileEnd > ext.start) out.push({ start: ext.start, end: fileEnd, extent: ext, fileOffset: ext.fileOffset, label: ext.label, priority });
  const zeroStart = ext.start + BigInt(ext.fileLength);
  if (ext.end > zeroStart) out.push({ start: zeroStart, end: ext.end, fileOffset: 0, label: `${ext.label} (zero-filled: p_filesz < p_memsz)`, priority });
  return out;
}

/**
 * Resolve overlaps so that the first source listed wins (and, inside one source, the first segment):
 * a sweep over run boundaries keeping the active run with the best priority. O(n log n).
 */
function resolve(runs: Run[]): Run[] {
  if (runs.length === 0) return [];
  type Ev = { at: bigint; run: Run; open: boolean };
  const evs: Ev[] = [];
  for (const r of runs) {
    evs.push({ at: r.start, run: r, open: true }, { at: r.end, run: r, open: false });
  }
  evs.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const active = new Set<Run>();
  const out: Run[] = [];
  let i = 0;
  let cur: bigint | undefined;
  while (i < evs.length) {
    const at = evs[i]!.at;
    // emit the piece [cur, at) with the winner among the active runs
    if (cur !== undefined && at > cur && active.size > 0) {
      let best: Run | undefined;
      for (const r of active) if (!best || r.priority < best.priority) best = r;
      const w = best!;
      const last = out[out.length - 1];
      const fileOffset = w.fileOffset + Number(cur - w.start);
      if (last && last.end === cur && last.extent === w.extent && last.label === w.label && last.priority === w.priority) last.end = at;
      else out.push({ ...w, start: cur, end: at, fileOffset });
    }
    while (i < evs.length && evs[i]!.at === at) {
      const e = evs[i]!;
      if (e.open) active.add(e.run);
      else active.delete(e.run);
      i++;
    }
    cur = at;
  }
  return out;
}

export class SnapshotMemory implements PhysicalMemory {
  private readonly runs: Run[];
  private readonly cache = new Map<number, Page>();
  private readonly capacity: number;
  private tick = 0;
  /**
   * Direct-mapped front of the cache, indexed by the page number's low bits: a walk touches a
   * handful of pages, and a hit here costs no Map lookup. Entries are always also in `cache`.
   */
  private readonly tlbPn = new Float64Array(TLB_SIZE).fill(NaN);
  private readonly tlbPage: (Page | undefined)[] = new Array(TLB_SIZE).fill(undefined);
  /** the words of the slot's page when every byte of it is in the snapshot: readWords' one-load path */
  private readonly tlbWords: (Uint32Array | undefined)[] = new Array(TLB_SIZE).fill(undefined);
  /** cache misses that went to a source, for benchmarks and `snapshot info` */
  pageLoads = 0;

  /** `sources`: extents of each source, in manifest order (earlier sources win on overlap) */
  constructor(sources: MemoryExtent[][], options: PhysicalMemoryOptions = {}) {
    const all: Run[] = [];
    let priority = 0;
    for (const exts of sources) for (const e of exts) all.push(...runsOf(e, priority++));
    this.runs = resolve(all);
    this.capacity = Math.max(8, options.cachePages ?? 1024);
  }

  ranges(): { start: bigint; end: bigint; source: string }[] {
    return this.runs.map((r) => ({ start: r.start, end: r.end, source: r.label }));
  }

  read64(addr: bigint): bigint | undefined {
    // Number() first: addresses of 2^53 and up convert to >= 2^53 and take the exact slow path
    const a = Number(addr);
    if (a >= 0 && a <= Number.MAX_SAFE_INTEGER) {
      const pn = Math.floor(a / PAGE_SIZE);
      const off = a - pn * PAGE_SIZE;
      if (off <= PAGE_SIZE - 8) {
        const slot = pn & TLB_MASK;
        const pg = this.tlbPn[slot] === pn ? this.tlbPage[slot]! : this.page(pn);
        if (pg.full) return (off & 7) === 0 && LE_HOST ? pg.u64[off >>> 3]! : pg.view.getBigUint64(off, true);
        return covered(pg, off, 8) ? pg.view.getBigUint64(off, true) : undefined;
      }
    }
    const b = this.read(addr, 8);
    return b && new DataView(b.buffer).getBigUint64(0, true);
  }

  readWords(addr: number, out: Uint32Array): boolean {
    const n = out.length;
    if (addr >= 0 && addr <= Number.MAX_SAFE_INTEGER) {
      const pn = Math.floor(addr / PAGE_SIZE);
      const off = addr - pn * PAGE_SIZE;
      if (off <= PAGE_SIZE - 4 * n) {
        const slot = pn & TLB_MASK;
        const i = off >>> 2;
        if (this.tlbPn[slot] === pn && i * 4 === off && LE_HOST) {
          const w = this.tlbWords[slot];
          if (w !== undefined) {
            // a full page in the front cache: straight to its words
            out[0] = w[i]!;
            if (n === 2) out[1] = w[i + 1]!;
            else for (let k = 1; k < n; k++) out[k] = w[i + k]!;
            return true;
          }
        }
        const pg = this.tlbPn[slot] === pn ? this.tlbPage[slot]! : this.page(pn);
        if (!pg.full && !covered(pg, off, 4 * n)) return false;
        if (i * 4 === off && LE_HOST) {
          const u32 = pg.u32;
          out[0] = u32[i]!;
          if (n === 2) out[1] = u32[i + 1]!; // one 64-bit descriptor: the walkers' most frequent read
          else for (let k = 1; k < n; k++) out[k] = u32[i + k]!;
          return true;
        }
        // unaligned, or a fractional address (not a byte address: not in any snapshot)
        if (!Number.isInteger(off)) return false;
        for (let k = 0; k < n; k++) out[k] = pg.view.getUint32(off + 4 * k, true);
        return true;
      }
    }
    if (!Number.isInteger(addr) || addr < 0) return false;
    const b = this.read(BigInt(addr), 4 * n);
    if (!b) return false;
    const v = new DataView(b.buffer);
    for (let k = 0; k < n; k++) out[k] = v.getUint32(4 * k, true);
    return true;
  }

  read32(addr: bigint): number | undefined {
    const a = Number(addr);
    if (a >= 0 && a <= Number.MAX_SAFE_INTEGER) {
      const pn = Math.floor(a / PAGE_SIZE);
      const off = a - pn * PAGE_SIZE;
      if (off <= PAGE_SIZE - 4) {
        const slot = pn & TLB_MASK;
        const pg = this.tlbPn[slot] === pn ? this.tlbPage[slot]! : this.page(pn);
        if (pg.full) return (off & 3) === 0 && LE_HOST ? pg.u32[off >>> 2]! : pg.view.getUint32(off, true);
        return covered(pg, off, 4) ? pg.view.getUint32(off, true) : undefined;
      }
    }
    const b = this.read(addr, 4);
    return b && new DataView(b.buffer).getUint32(0, true);
  }

  read(addr: bigint, len: number): Uint8Array | undefined {
    if (len < 0 || addr < 0n || addr + BigInt(len) > 1n << 64n) return undefined;
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const a = addr + BigInt(done);
      const base = a & ~0xfffn;
      const off = Number(a - base);
      const n = Math.min(len - done, PAGE_SIZE - off);
      const pg = base <= MAX_SAFE ? this.page(Number(base) / PAGE_SIZE) : this.fill(base);
      if (!pg.full && !covered(pg, off, n)) return undefined;
      out.set(pg.data.subarray(off, off + n), done);
      done += n;
    }
    return out;
  }

  private page(pn: number): Page {
    let pg = this.cache.get(pn);
    if (pg) {
      pg.stamp = ++this.tick;
    } else {
      pg = this.fill(BigInt(pn) * 4096n);
      pg.stamp = ++this.tick;
      if (this.cache.size >= this.capacity) this.evict();
      this.cache.set(pn, pg);
    }
    const slot = pn & TLB_MASK;
    this.tlbPn[slot] = pn;
    this.tlbPage[slot] = pg;
    this.tlbWords[slot] = pg.full ? pg.u32 : undefined;
    return pg;
  }

  /** Drop the least recently used quarter at once, so eviction costs O(1) amortised per miss. */
  private evict(): void {
    const stamps = [...this.cache.values()].map((p) => p.stamp).sort((a, b) => a - b);
    const cut = stamps[Math.floor(stamps.length / 4)]!;
    for (const [k, p] of this.cache) if (p.stamp <= cut) this.cache.delete(k);
    this.tlbPn.fill(NaN);
    this.tlbPage.fill(undefined);
    this.tlbWords.fill(undefined);
  }

  private fill(base: bigint): Page {
    this.pageLoads++;
    const data = new Uint8Array(PAGE_SIZE);
    const spans: number[] = [];
    const end = base + BigInt(PAGE_SIZE);
    // first run ending after the page start
    let lo = 0;
    let hi = this.runs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.runs[mid]!.end <= base) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.runs.length; i++) {
      const r = this.runs[i]!;
      if (r.start >= end) break;
      const s = r.start > base ? r.start : base;
      const e = r.end < end ? r.end : end;
      const ps = Number(s - base);
      const pe = Number(e - base);
      if (r.extent) {
        const want = pe - ps;
        const got = r.extent.source.read(data.subarray(ps, pe), r.fileOffset + Number(s - r.start), want);
        if (got < want) {
          // the file shrank or the read failed part way: only what arrived is memory
          if (got > 0) addSpan(spans, ps, ps + got);
          continue;
        }
      }
      addSpan(spans, ps, pe);
    }
    const full = spans.length === 2 && spans[0] === 0 && spans[1] === PAGE_SIZE;
    return { data, view: new DataView(data.buffer), u64: new BigUint64Array(data.buffer), u32: new Uint32Array(data.buffer), full, spans, stamp: 0 };
  }
}

function addSpan(spans: number[], lo: number, hi: number): void {
  const n = spans.length;
  if (n > 0 && spans[n - 1] === lo) spans[n - 1] = hi;
  else spans.push(lo, hi);
}

function covered(pg: Page, off: number, len: number): boolean {
  const s = pg.spans;
  for (let i = 0; i < s.length; i += 2) if (off >= s[i]! && off + len <= s[i + 1]!) return true;
  return false;
}
