// The summary builder as of b7ed907, kept verbatim as the oracle for the cached-counter equivalence tests.
/**
 * The scan summary: counts by family, IOMMU, device and reason, first/last time, top offenders.
 * Incremental and bounded: memory grows with the number of distinct keys, not with records.
 */
import type { FaultRecord } from '../../../src/core/logs/record';

export interface Counter {
  key: string;
  count: number;
  first?: number;
  last?: number;
  firstLine: number;
  lastLine: number;
}

export interface ScanSummary {
  records: number;
  /** records that are "N callbacks suppressed" notices; `suppressed` sums their N */
  suppressedNotices: number;
  suppressed: number;
  first?: number;
  last?: number;
  byFamily: Counter[];
  byKind: Counter[];
  byReason: Counter[];
  /** "family iommu device" groups, most records first */
  offenders: Counter[];
}

const MAX_KEYS = 100_000; // a hostile log with millions of distinct devices must not exhaust memory

class Tally {
  m = new Map<string, Counter>();
  /** Records may arrive out of line order (parallel scans): first/last follow line numbers. */
  add(key: string, r: FaultRecord): void {
    this.addCounter(key, 1, r.line, r.line, r.time, r.time);
  }
  addCounter(key: string, count: number, firstLine: number, lastLine: number, first?: number, last?: number): void {
    let c = this.m.get(key);
    if (!c) {
      if (this.m.size >= MAX_KEYS) key = '(other)';
      c = this.m.get(key);
      if (!c) {
        c = { key, count: 0, firstLine, lastLine };
        if (first !== undefined) c.first = first;
        if (last !== undefined) c.last = last;
        this.m.set(key, c);
      }
    }
    if (c.count > 0) {
      if (firstLine < c.firstLine) { c.firstLine = firstLine; if (first !== undefined) c.first = first; }
      else if (c.first === undefined && first !== undefined) c.first = first;
      if (lastLine > c.lastLine) { c.lastLine = lastLine; if (last !== undefined) c.last = last; }
      else if (c.last === undefined && last !== undefined) c.last = last;
    }
    c.count += count;
  }
  merge(list: Counter[]): void {
    for (const c of list) this.addCounter(c.key, c.count, c.firstLine, c.lastLine, c.first, c.last);
  }
  sorted(): Counter[] {
    return [...this.m.values()].sort((a, b) => b.count - a.count || a.firstLine - b.firstLine);
  }
}

/**
 * `a + sep + b`, the same string object each time for repeated pairs: a fault storm repeats a few
 * keys millions of times, and building and hashing a fresh composite string per record was the
 * summary's main cost. Bounded, so hostile logs with endless distinct values only lose the cache.
 */
class Joiner {
  private m = new Map<string, Map<string, string>>();
  constructor(private readonly sep: string) {}
  join(a: string, b: string): string {
    let inner = this.m.get(a);
    if (!inner) {
      if (this.m.size >= 4096) return a + this.sep + b;
      inner = new Map();
      this.m.set(a, inner);
    }
    let k = inner.get(b);
    if (k === undefined) {
      k = a + this.sep + b;
      if (inner.size < 4096) inner.set(b, k);
    }
    return k;
  }
}

export class SummaryBuilder {
  private readonly space = new Joiner(' ');
  private readonly space2 = new Joiner(' ');
  private readonly dash = new Joiner(' — ');
  private records = 0;
  private suppressedNotices = 0;
  private suppressed = 0;
  private first: number | undefined;
  private last: number | undefined;
  private fam = new Tally();
  private kind = new Tally();
  private reason = new Tally();
  private off = new Tally();

  add(r: FaultRecord): void {
    if (r.kind === 'storm-suppressed') {
      this.suppressedNotices++;
      const n = Number((r.decoded as { suppressed?: number } | undefined)?.suppressed ?? 0);
      if (Number.isFinite(n)) this.suppressed += n;
      return;
    }
    this.records++;
    if (r.time !== undefined) {
      if (this.first === undefined || r.time < this.first) this.first = r.time;
      if (this.last === undefined || r.time > this.last) this.last = r.time;
    }
    this.fam.add(r.family, r);
    this.kind.add(this.space.join(r.family, r.kind), r);
    if (r.reason) {
      const named = this.space.join(r.family, String(r.reason.name ?? r.reason.code ?? '?'));
      this.reason.add(r.reason.text ? this.dash.join(named, r.reason.text) : named, r);
    }
    const who = r.device ?? (r.streamId !== undefined ? `sid ${r.streamId}` : r.contextBank !== undefined ? `cb ${r.contextBank}` : '(unknown device)');
    this.off.add(this.space2.join(this.space.join(r.family, r.iommu ?? '-'), who), r);
  }

  /** Fold in a summary built elsewhere (another worker's share of the file). */
  merge(o: ScanSummary): void {
    this.records += o.records;
    this.suppressedNotices += o.suppressedNotices;
    this.suppressed += o.suppressed;
    if (o.first !== undefined && (this.first === undefined || o.first < this.first)) this.first = o.first;
    if (o.last !== undefined && (this.last === undefined || o.last > this.last)) this.last = o.last;
    this.fam.merge(o.byFamily);
    this.kind.merge(o.byKind);
    this.reason.merge(o.byReason);
    this.off.merge(o.offenders);
  }

  build(): ScanSummary {
    const s: ScanSummary = {
      records: this.records,
      suppressedNotices: this.suppressedNotices,
      suppressed: this.suppressed,
      byFamily: this.fam.sorted(),
      byKind: this.kind.sorted(),
      byReason: this.reason.sorted(),
      offenders: this.off.sorted(),
    };
    if (this.first !== undefined) s.first = this.first;
    if (this.last !== undefined) s.last = this.last;
    return s;
  }
}

function t(v: number | undefined): string {
  return v === undefined ? '-' : v.toFixed(6);
}

export function summaryToText(files: string[], s: ScanSummary, opts: { top?: number } = {}): string {
  const top = opts.top ?? 10;
  const out: string[] = [];
  out.push(`${files.join(', ')}: ${s.records} IOMMU fault record${s.records === 1 ? '' : 's'}` +
    (s.suppressedNotices ? `, ${s.suppressed} more suppressed by ratelimit (${s.suppressedNotices} notices)` : ''));
  if (s.first !== undefined) out.push(`time: ${t(s.first)} … ${t(s.last)} s`);
  const table = (title: string, rows: Counter[], n: number) => {
    if (!rows.length) return;
    out.push('', title);
    const w = String(rows[0]!.count).length;
    for (const c of rows.slice(0, n)) {
      out.push(`  ${String(c.count).padStart(w)}  ${c.key}  (lines ${c.firstLine}–${c.lastLine}${c.first !== undefined ? `, ${t(c.first)}–${t(c.last)} s` : ''})`);
    }
    if (rows.length > n) out.push(`  … ${rows.length - n} more`);
  };
  table('by family:', s.byFamily, 50);
  table('by kind:', s.byKind, 50);
  table('by reason:', s.byReason, top);
  table('top offenders (family, IOMMU, device):', s.offenders, top);
  return out.join('\n');
}
