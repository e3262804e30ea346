/**
 * FROZEN COPY of src/core/analysis/pages.ts before page sets were keyed by page number (session 3):
 * the reference the differential test compares against. Do not edit.
 *
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

export class BaselinePageSet {
  /** page key -> index into `faults` (a hit costs one hash lookup and no allocation) */
  private readonly pages = new Map<string, number>();
  private faults = new Float64Array(16);
  // first address, access and PASID seen on each tracked page, by index: enough to walk it in a snapshot
  private readonly iovas: string[] = [];
  private readonly accesses: (string | undefined)[] = [];
  private readonly pasids: (string | undefined)[] = [];
  private untracked = 0;
  private lowest: string | undefined;
  private highest: string | undefined;

  constructor(private readonly cap: number, private readonly budget?: PageBudget) {}

  /** `key` is pageKey(iova), passed in when the caller adds the same address to several sets. */
  add(iova: string, access?: string, pasid?: string, key?: string): void {
    if (this.lowest === undefined || hexLess(iova, this.lowest)) this.lowest = iova;
    if (this.highest === undefined || hexLess(this.highest, iova)) this.highest = iova;
    const k = key ?? pageKey(iova);
    const p = this.pages.get(k);
    if (p !== undefined) { this.faults[p]!++; return; }
    if (this.pages.size >= this.cap || (this.budget && this.budget.left <= 0)) { this.untracked++; return; }
    if (this.budget) this.budget.left--;
    const i = this.pages.size;
    if (i === this.faults.length) { const f = new Float64Array(i * 2); f.set(this.faults); this.faults = f; }
    this.faults[i] = 1;
    this.pages.set(k, i);
    this.iovas.push(iova);
    this.accesses.push(access);
    this.pasids.push(pasid);
  }

  get size(): number {
    return this.pages.size;
  }

  exportState(): PageSetState {
    const st: PageSetState = {
      faults: Array.from(this.faults.subarray(0, this.pages.size)),
      iovas: this.iovas, accesses: this.accesses, pasids: this.pasids, untracked: this.untracked,
    };
    if (this.lowest !== undefined) st.lowest = this.lowest;
    if (this.highest !== undefined) st.highest = this.highest;
    return st;
  }

  /** Fold in another part of the log's set (same cap and budget rules as add). */
  mergeState(st: PageSetState): void {
    if (st.lowest !== undefined && (this.lowest === undefined || hexLess(st.lowest, this.lowest))) this.lowest = st.lowest;
    if (st.highest !== undefined && (this.highest === undefined || hexLess(this.highest, st.highest))) this.highest = st.highest;
    this.untracked += st.untracked;
    for (let j = 0; j < st.iovas.length; j++) {
      const k = pageKey(st.iovas[j]!);
      const p = this.pages.get(k);
      if (p !== undefined) { this.faults[p]! += st.faults[j]!; continue; }
      if (this.pages.size >= this.cap || (this.budget && this.budget.left <= 0)) { this.untracked += st.faults[j]!; continue; }
      if (this.budget) this.budget.left--;
      const i = this.pages.size;
      if (i === this.faults.length) { const f = new Float64Array(i * 2); f.set(this.faults); this.faults = f; }
      this.faults[i] = st.faults[j]!;
      this.pages.set(k, i);
      this.iovas.push(st.iovas[j]!);
      this.accesses.push(st.accesses[j]);
      this.pasids.push(st.pasids[j]);
    }
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
    const s: PageSummary = { distinct: this.pages.size, untracked: this.untracked, ranges: maxRanges > 0 ? ranges(this.pages, this.faults, maxRanges) : [] };
    if (this.lowest !== undefined) s.lowest = this.lowest;
    if (this.highest !== undefined) s.highest = this.highest;
    return s;
  }
}

/** Page numbers below 2^52 (every real IOVA) as doubles: sorting numbers is far cheaper than BigInts. */
function ranges(pages: Map<string, number>, counts: Float64Array, max: number): PageRange[] {
  const list: { page: number; faults: number }[] = [];
  const big: { page: bigint; faults: number }[] = [];
  for (const [k, i] of pages) {
    const faults = counts[i]!;
    if (k.length <= 15) list.push({ page: parseInt(k.slice(2), 16), faults });
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
