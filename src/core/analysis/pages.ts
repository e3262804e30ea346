/**
 * Distinct faulting pages (4 KiB) of a group or storm, with bounded memory: a set capped per
 * owner and by a budget shared across the whole analysis. Pages seen after the cap are counted,
 * not stored, so a storm over millions of addresses still reports "at least N distinct, M more
 * faults on pages not tracked".
 */

export interface PageSample {
  /** the first faulting address seen on this page */
  iova: string;
  access?: string;
  pasid?: string;
  faults: number;
}

export interface PageRange {
  start: string;
  /** last byte of the range */
  end: string;
  pages: number;
  faults: number;
}

export interface PageSummary {
  /** distinct pages tracked */
  distinct: number;
  /** faults on pages that were not tracked because the cap was reached (their pages may or may not be new) */
  untracked: number;
  lowest?: string;
  highest?: string;
  /** contiguous runs of tracked pages, most faults first */
  ranges: PageRange[];
}

/** Shared allowance of stored pages for one analysis. */
export interface PageBudget {
  left: number;
}

const PAGE_SHIFT = 12n;

/** Page key of a normalised address ("0x7f3a1234" -> "0x7f3a1"): string slicing, no BigInt per fault. */
export function pageKey(iova: string): string {
  return iova.length > 5 ? iova.slice(0, -3) : '0x0';
}

/**
 * The page number of a normalised address (the contract's "0x" + lowercase hex without leading
 * zeros, at most 16 digits), exact as a double: at most 13 hex digits, 52 bits. -1 for any other
 * text, which PageSet keys by pageKey() as before, so that two spellings of one page that were
 * two pages stay two.
 */
export function pageNumber(iova: string): number {
  const n = iova.length;
  if (n < 3 || n > 18 || iova.charCodeAt(0) !== 48 || iova.charCodeAt(1) !== 120) return -1;
  if (iova.charCodeAt(2) === 48 && n !== 3) return -1; // leading zero: not normalised
  let page = 0;
  for (let i = 2; i < n; i++) {
    const c = iova.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0) return -1;
    if (i < n - 3) page = page * 16 + d;
  }
  return page;
}

/**
 * Page number -> index, open addressing in typed arrays: a storm adds every fault to two or three
 * page sets, and a Map keyed by sliced strings allocated a key and hashed it for each of them.
 */
const NO_KEYS = new Float64Array(0);
const NO_VALS = new Int32Array(0);
const NO_FAULTS = new Float64Array(0);

class PageTable {
  // allocated on the first page: most storms' and groups' sets of a big log stay small or empty
  private keys = NO_KEYS;
  private vals = NO_VALS;
  private mask = 0;
  count = 0;

  private slot(page: number): number {
    let h = Math.imul((page >>> 0) ^ Math.imul(Math.floor(page / 4294967296), 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    let i = h & this.mask;
    const keys = this.keys;
    while (keys[i] !== page && keys[i] !== -1) i = (i + 1) & this.mask;
    return i;
  }

  get(page: number): number {
    if (this.count === 0) return -1;
    const i = this.slot(page);
    return this.keys[i] === -1 ? -1 : this.vals[i]!;
  }

  set(page: number, v: number): void {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const i = this.slot(page);
    if (this.keys[i] === -1) this.count++;
    this.keys[i] = page;
    this.vals[i] = v;
  }

  private grow(): void {
    const keys = this.keys, vals = this.vals;
    const n = Math.max(16, keys.length * 2);
    this.keys = new Float64Array(n).fill(-1);
    this.vals = new Int32Array(n);
    this.mask = n - 1;
    for (let j = 0; j < keys.length; j++) {
      if (keys[j] === -1) continue;
      const i = this.slot(keys[j]!);
      this.keys[i] = keys[j]!;
      this.vals[i] = vals[j]!;
    }
  }

  forEach(f: (page: number, index: number) => void): void {
    for (let j = 0; j < this.keys.length; j++) if (this.keys[j] !== -1) f(this.keys[j]!, this.vals[j]!);
  }
}

/** Normalised hex strings order by length first, then by text. */
function hexLess(a: string, b: string): boolean {
  return a.length !== b.length ? a.length < b.length : a < b;
}

/** A page set as plain data (sent between threads in parallel reports). */
export interface PageSetState {
  faults: number[];
  iovas: string[];
  accesses: (string | undefined)[];
  pasids: (string | undefined)[];
  untracked: number;
  lowest?: string;
  highest?: string;
}

export class PageSet {
  /** page number -> index into `faults` (a hit costs one probe and no allocation) */
  private readonly pages = new PageTable();
  /** pageKey -> index, for the addresses pageNumber() does not take */
  private readonly odd = new Map<string, number>();
  private faults = NO_FAULTS;
  // first address, access and PASID seen on each tracked page, by index: enough to walk it in a snapshot
  private readonly iovas: string[] = [];
  private readonly accesses: (string | undefined)[] = [];
  private readonly pasids: (string | undefined)[] = [];
  private untracked = 0;
  private lowest: string | undefined;
  private highest: string | undefined;
  // their page numbers (-1: an odd spelling): a storm's faults mostly differ from them by page,
  // and comparing numbers spares comparing the address strings
  private lowestPage = -1;
  private highestPage = -1;

  constructor(private readonly cap: number, private readonly budget?: PageBudget) {}

  /** `page` is pageNumber(iova), passed in when the caller adds the same address to several sets. */
  add(iova: string, access?: string, pasid?: string, page?: number): void {
    const p = page ?? pageNumber(iova);
    // normalised addresses on different pages order as their pages; else as hexLess orders them
    if (this.lowest === undefined || (p >= 0 && this.lowestPage >= 0 && p !== this.lowestPage ? p < this.lowestPage : hexLess(iova, this.lowest))) {
      this.lowest = iova;
      this.lowestPage = p;
    }
    if (this.highest === undefined || (p >= 0 && this.highestPage >= 0 && p !== this.highestPage ? p > this.highestPage : hexLess(this.highest, iova))) {
      this.highest = iova;
      this.highestPage = p;
    }
    this.count(iova, p, 1, access, pasid);
  }

  /** Add `n` faults on the page of `iova` (tracked with this first address if new). */
  private count(iova: string, page: number, n: number, access: string | undefined, pasid: string | undefined): void {
    let key: string | undefined;
    if (page < 0) {
      // an odd spelling whose page key reads as a normalised page ("0x12" + "ABC") is that page, as before
      key = pageKey(iova);
      const alias = key === '0x0' ? 0 : pageNumber(key + '000');
      if (alias >= 0) { page = alias; key = undefined; }
    }
    const p = key === undefined ? this.pages.get(page) : this.odd.get(key) ?? -1;
    if (p >= 0) { this.faults[p]! += n; return; }
    const size = this.size;
    if (size >= this.cap || (this.budget && this.budget.left <= 0)) { this.untracked += n; return; }
    if (this.budget) this.budget.left--;
    if (size === this.faults.length) { const f = new Float64Array(Math.max(16, size * 2)); f.set(this.faults); this.faults = f; }
    this.faults[size] = n;
    if (key === undefined) this.pages.set(page, size);
    else this.odd.set(key, size);
    this.iovas.push(iova);
    this.accesses.push(access);
    this.pasids.push(pasid);
  }

  get size(): number {
    return this.pages.count + this.odd.size;
  }

  exportState(): PageSetState {
    const st: PageSetState = {
      faults: Array.from(this.faults.subarray(0, this.size)),
      iovas: this.iovas, accesses: this.accesses, pasids: this.pasids, untracked: this.untracked,
    };
    if (this.lowest !== undefined) st.lowest = this.lowest;
    if (this.highest !== undefined) st.highest = this.highest;
    return st;
  }

  /** Fold in another part of the log's set (same cap and budget rules as add). */
  mergeState(st: PageSetState): void {
    if (st.lowest !== undefined && (this.lowest === undefined || hexLess(st.lowest, this.lowest))) { this.lowest = st.lowest; this.lowestPage = pageNumber(st.lowest); }
    if (st.highest !== undefined && (this.highest === undefined || hexLess(this.highest, st.highest))) { this.highest = st.highest; this.highestPage = pageNumber(st.highest); }
    this.untracked += st.untracked;
    for (let j = 0; j < st.iovas.length; j++) this.count(st.iovas[j]!, pageNumber(st.iovas[j]!), st.faults[j]!, st.accesses[j], st.pasids[j]);
  }

  /** Tracked pages, most faults first: what a snapshot walk looks at. */
  samples(max = Infinity): PageSample[] {
    const order = this.iovas.map((_, i) => i).sort((a, b) => this.faults[b]! - this.faults[a]!).slice(0, max);
    return order.map((i) => {
      const s: PageSample = { iova: this.iovas[i]!, faults: this.faults[i]! };
      const a = this.accesses[i];
      const p = this.pasids[i];
      if (a !== undefined) s.access = a;
      if (p !== undefined) s.pasid = p;
      return s;
    });
  }

  /** `maxRanges` 0 skips the range computation (groups too small to be reported). */
  summary(maxRanges = 16): PageSummary {
    const s: PageSummary = { distinct: this.size, untracked: this.untracked, ranges: maxRanges > 0 ? this.ranges(maxRanges) : [] };
    if (this.lowest !== undefined) s.lowest = this.lowest;
    if (this.highest !== undefined) s.highest = this.highest;
    return s;
  }

  /**
   * In tracking order, as the string-keyed map gave them before: pages of equal number from two
   * spellings keep their order through the stable sorts.
   */
  private ranges(max: number): PageRange[] {
    const byIndex: (number | string)[] = new Array(this.size);
    this.pages.forEach((page, i) => { byIndex[i] = page; });
    for (const [k, i] of this.odd) byIndex[i] = k;
    return ranges(byIndex, this.faults, max);
  }
}

/** Page numbers below 2^52 (every real IOVA) as doubles: sorting numbers is far cheaper than BigInts. */
function ranges(keys: readonly (number | string)[], counts: Float64Array, max: number): PageRange[] {
  const list: { page: number; faults: number }[] = [];
  const big: { page: bigint; faults: number }[] = [];
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const faults = counts[i]!;
    if (typeof k === 'number') list.push({ page: k, faults });
    else if (k.length <= 15) list.push({ page: parseInt(k.slice(2), 16), faults });
    else big.push({ page: BigInt(k), faults });
  }
  list.sort((a, b) => a.page - b.page);
  big.sort((a, b) => (a.page < b.page ? -1 : a.page > b.page ? 1 : 0));
  const all: { page: bigint | number; faults: number }[] = [...list, ...big];
  const out: { first: bigint | number; last: bigint | number; pages: number; faults: number }[] = [];
  for (const p of all) {
    const cur = out[out.length - 1];
    if (cur && typeof cur.last === typeof p.page && (typeof p.page === 'number' ? p.page === (cur.last as number) + 1 : p.page === (cur.last as bigint) + 1n)) {
      cur.last = p.page; cur.pages++; cur.faults += p.faults;
    } else out.push({ first: p.page, last: p.page, pages: 1, faults: p.faults });
  }
  return out
    .sort((a, b) => b.faults - a.faults || b.pages - a.pages)
    .slice(0, max)
    .map((r) => ({
      start: '0x' + (BigInt(r.first) << PAGE_SHIFT).toString(16),
      end: '0x' + (((BigInt(r.last) + 1n) << PAGE_SHIFT) - 1n).toString(16),
      pages: r.pages,
      faults: r.faults,
    }));
}
