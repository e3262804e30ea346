/**
 * The scan summary: counts by family, IOMMU, device and reason, first/last time, top offenders.
 * Incremental and bounded: memory grows with the number of distinct keys, not with records.
 */
import type { FaultRecord } from '../logs/record';

export interface Counter {
  key: string;
  count: number;
  /** time of the first and last records that have one (by line) */
  first?: number;
  last?: number;
  firstLine: number;
  lastLine: number;
  /** lines of the records `first` and `last` come from: what makes merged summaries agree with one scan */
  firstTimedLine?: number;
  lastTimedLine?: number;
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
  /**
   * Records may arrive out of line order (parallel scans): first/last follow line numbers.
   * Returns the counter the record went to. The key -> counter mapping never changes once made
   * (a key sent to '(other)' finds the map still full later), so callers may keep it.
   */
  add(key: string, r: FaultRecord): Counter {
    const c = this.counter(key, r.line, r.line);
    addAgain(c, r);
    return c;
  }
  /** The counter for `key`, made empty at the given lines if new. */
  private counter(key: string, firstLine: number, lastLine: number): Counter {
    let c = this.m.get(key);
    if (!c) {
      if (this.m.size >= MAX_KEYS) key = '(other)';
      c = this.m.get(key);
      if (!c) {
        // every field from the start: one hidden class for all counters (fields added later made addAgain megamorphic)
        c = { key, count: 0, firstLine, lastLine, first: undefined, last: undefined, firstTimedLine: undefined, lastTimedLine: undefined };
        this.m.set(key, c);
      }
    }
    return c;
  }
  merge(list: Counter[]): void {
    for (const o of list) {
      const c = this.counter(o.key, o.firstLine, o.lastLine);
      if (c.count === 0 || o.firstLine < c.firstLine) c.firstLine = o.firstLine;
      if (c.count === 0 || o.lastLine > c.lastLine) c.lastLine = o.lastLine;
      if (o.first !== undefined && o.firstTimedLine !== undefined) timedAt(c, o.firstTimedLine, o.first);
      if (o.last !== undefined && o.lastTimedLine !== undefined) timedAt(c, o.lastTimedLine, o.last);
      c.count += o.count;
    }
  }
  sorted(): Counter[] {
    return [...this.m.values()].sort((a, b) => b.count - a.count || a.firstLine - b.firstLine);
  }
}

/** `Tally.add(key, r)` for a counter that add() already returned for `key`. */
function addAgain(c: Counter, r: FaultRecord): void {
  const line = r.line;
  if (c.count === 0 || line < c.firstLine) c.firstLine = line;
  if (c.count === 0 || line > c.lastLine) c.lastLine = line;
  if (r.time !== undefined) timedAt(c, line, r.time);
  c.count += 1;
}

/** A record at `line` has `time`: it sets first/last when it is the earliest/latest timed one. */
function timedAt(c: Counter, line: number, time: number): void {
  if (c.firstTimedLine === undefined || line < c.firstTimedLine) { c.firstTimedLine = line; c.first = time; }
  if (c.lastTimedLine === undefined || line > c.lastTimedLine) { c.lastTimedLine = line; c.last = time; }
}

/*
 * A fault storm repeats a few (family, kind, reason, IOMMU, device) values millions of times.
 * Instead of building composite keys ("family iommu device") and looking each up in its tally per
 * record, the counters a record's parts led to are kept in small maps keyed by the parts
 * themselves: mostly one or two lookups of strings whose hashes V8 has already cached. Equal parts
 * always give the same composite key, so a cached counter is the one the tally would return.
 * Bounded as a whole, so hostile logs with endless distinct values only lose the cache.
 */
const MAX_CACHED = 200_000;

/** Offender counters of one (family, IOMMU), by how the device was named. */
interface IommuCache {
  device: Map<unknown, Counter>;
  streamId: Map<unknown, Counter>;
  contextBank: Map<unknown, Counter>;
  unknown?: Counter;
}

/**
 * Reason counters of one (family, reason name or code), by text ('' for none). Names are table
 * constants, whose hashes V8 keeps; texts are often sliced out of each line and would be hashed
 * afresh, so the text seen last is compared first.
 */
interface ReasonCache {
  lastText: unknown;
  last: Counter;
  byText: Map<unknown, Counter>;
}

interface FamilyCache {
  family: Counter;
  kinds: Map<unknown, Counter>;
  reasons: Map<unknown, ReasonCache>;
  iommus: Map<unknown, IommuCache>;
}

export class SummaryBuilder {
  private records = 0;
  private suppressedNotices = 0;
  private suppressed = 0;
  private first: number | undefined;
  private last: number | undefined;
  private fam = new Tally();
  private kind = new Tally();
  private reason = new Tally();
  private off = new Tally();
  private families = new Map<unknown, FamilyCache>();
  private cacheRoom = MAX_CACHED;

  private keep<K, V>(m: Map<K, V>, k: K, v: V): V {
    if (this.cacheRoom > 0) { this.cacheRoom--; m.set(k, v); }
    return v;
  }

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
    const family = r.family;
    let fc = this.families.get(family);
    if (fc) addAgain(fc.family, r);
    else fc = this.keep(this.families, family, { family: this.fam.add(family, r), kinds: new Map(), reasons: new Map(), iommus: new Map() });

    let c = fc.kinds.get(r.kind);
    if (c) addAgain(c, r);
    else this.keep(fc.kinds, r.kind, this.kind.add(family + ' ' + r.kind, r));

    const reason = r.reason;
    if (reason) {
      const name = reason.name ?? reason.code ?? '?';
      // Falsy texts all print as no text; other equal values print alike.
      const text = reason.text || '';
      const rc = fc.reasons.get(name);
      if (rc && rc.lastText === text) addAgain(rc.last, r);
      else if (rc && (c = rc.byText.get(text))) { addAgain(c, r); rc.lastText = text; rc.last = c; }
      else {
        const named = family + ' ' + String(name);
        c = this.reason.add(reason.text ? named + ' — ' + reason.text : named, r);
        if (rc) { this.keep(rc.byText, text, c); rc.lastText = text; rc.last = c; }
        else {
          const byText = new Map<unknown, Counter>();
          this.keep(byText, text, c);
          this.keep(fc.reasons, name, { lastText: text, last: c, byText });
        }
      }
    }

    const iommu = r.iommu ?? '-';
    let ic = fc.iommus.get(iommu);
    if (!ic) ic = this.keep(fc.iommus, iommu, { device: new Map(), streamId: new Map(), contextBank: new Map() });
    // The offender is "family iommu who", who being the device, else "sid N", else "cb N".
    const device = r.device;
    if (device !== undefined && device !== null) {
      if ((c = ic.device.get(device))) addAgain(c, r);
      else this.keep(ic.device, device, this.off.add(family + ' ' + iommu + ' ' + device, r));
    } else if (r.streamId !== undefined) {
      if ((c = ic.streamId.get(r.streamId))) addAgain(c, r);
      else this.keep(ic.streamId, r.streamId, this.off.add(family + ' ' + iommu + ' ' + `sid ${r.streamId}`, r));
    } else if (r.contextBank !== undefined) {
      if ((c = ic.contextBank.get(r.contextBank))) addAgain(c, r);
      else this.keep(ic.contextBank, r.contextBank, this.off.add(family + ' ' + iommu + ' ' + `cb ${r.contextBank}`, r));
    } else if (ic.unknown) addAgain(ic.unknown, r);
    else ic.unknown = this.off.add(family + ' ' + iommu + ' (unknown device)', r);
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
