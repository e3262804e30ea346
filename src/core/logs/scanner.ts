/**
 * Turns a sequence of lines into fault records, in log order, assembling multi-line prints.
 * Pure: no I/O. The Node file reader (`read-file.ts`) and the editor both drive it.
 */
import { parseLine, type LogLine } from './line';
import type { FaultRecord } from './record';
import type { Continuation, Recognizer } from './recognizer';
import { RECOGNIZERS } from './families';
import { forEachLine } from './text-lines';
import { splitRunTogether } from './run-together';
import { KeySet } from './simd/key-set';

interface Open {
  record: FaultRecord;
  more?: Continuation;
  /** last line that belonged to the record */
  last: number;
}

export interface ScannerOptions {
  file?: string;
  recognizers?: readonly Recognizer[];
}

/** The union of every family's keys: the cheap test that decides whether a line is parsed at all. */
export function allKeys(recognizers: readonly Recognizer[] = RECOGNIZERS): string[] {
  const set = new Set<string>();
  for (const r of recognizers) for (const k of r.keys) set.add(k);
  return [...set];
}

export class Scanner {
  private readonly recognizers: readonly Recognizer[];
  private readonly keys: { key: string; recognizers: Recognizer[] }[];
  private readonly keySet: KeySet;
  private readonly file: string | undefined;
  /** records not yet emitted, in order of first line; the front is emitted once it is closed */
  private queue: Open[] = [];
  private openCount = 0;

  constructor(private readonly emit: (r: FaultRecord) => void, opts: ScannerOptions = {}) {
    this.recognizers = opts.recognizers ?? RECOGNIZERS;
    this.file = opts.file;
    const byKey = new Map<string, Recognizer[]>();
    for (const r of this.recognizers) for (const k of r.keys) {
      const list = byKey.get(k) ?? [];
      if (!list.includes(r)) list.push(r);
      byKey.set(k, list);
    }
    this.keys = [...byKey].map(([key, recognizers]) => ({ key, recognizers }));
    this.keySet = new KeySet(this.keys.map((k) => k.key));
  }

  /** True while a multi-line record is waiting for lines: every line must then be pushed. */
  get wantsEveryLine(): boolean {
    return this.openCount > 0;
  }

  /** The keys this scanner tests lines for, in the order `push`'s `present` indices refer to. */
  get keyList(): readonly string[] {
    return this.keySet.keys;
  }

  /**
   * Feed one raw line (no terminator) with its 1-based number. `present`, when the caller has
   * already searched the line (the SIMD finder), lists the indices into `keyList` of the keys
   * it contains, sparing the per-line key search.
   */
  push(raw: string, lineNo: number, present?: readonly number[]): void {
    const pasted = raw.length > 40 && raw.includes('   [') ? splitRunTogether(raw) : undefined;
    if (pasted) { for (const p of pasted) this.push(p, lineNo); return; }
    let parsed: LogLine | undefined;
    if (this.openCount > 0) {
      parsed = parseLine(raw, lineNo);
      if (this.offerToOpen(parsed)) return;
    }
    let candidates: Recognizer[] | undefined;
    for (const i of present ?? this.keySet.present(raw)) {
      const k = this.keys[i]!;
      if (!candidates) candidates = [...k.recognizers];
      else for (const r of k.recognizers) if (!candidates.includes(r)) candidates.push(r);
    }
    if (!candidates) { this.flush(); return; }
    parsed ??= parseLine(raw, lineNo);
    // Keep registry order so that specific recognisers listed first win over generic ones.
    for (const r of this.recognizers) {
      if (!candidates.includes(r)) continue;
      let got;
      try {
        got = r.recognize(parsed);
      } catch {
        got = undefined; // a recogniser bug must never lose the rest of the log
      }
      if (!got) continue;
      const rec = got.record;
      rec.line = lineNo;
      if (this.file !== undefined) rec.file = this.file;
      if (rec.time === undefined && parsed.time !== undefined) rec.time = parsed.time;
      if (rec.host === undefined) rec.host = parsed.host;
      const o: Open = { record: rec, last: lineNo };
      if (got.more) { o.more = got.more; this.openCount++; }
      this.queue.push(o);
      break;
    }
    this.flush();
  }

  /**
   * Offer a line only to the records still waiting for continuation lines, never as the start of
   * a new record: used past the end of a chunk in parallel scans, where the next chunk's scanner
   * owns new records. Returns true when a record consumed the line.
   */
  pushContinuation(raw: string, lineNo: number): boolean {
    if (this.openCount === 0) return false;
    return this.offerToOpen(parseLine(raw, lineNo));
  }

  /** Close every open record and emit everything. Call at end of input. */
  end(): void {
    for (const o of this.queue) if (o.more) this.close(o);
    this.flush();
  }

  private offerToOpen(l: LogLine): boolean {
    // Newest first: a continuation line most likely belongs to the latest record of its kind.
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const o = this.queue[i]!;
      if (!o.more) continue;
      if (l.line - o.last > o.more.window) { this.close(o); continue; }
      let v;
      try { v = o.more.feed(l); } catch { v = 'end' as const; }
      if (v === 'more' || v === 'done') {
        o.last = l.line;
        o.record.endLine = l.line;
        if (v === 'done') this.close(o);
        this.flush();
        return true;
      }
      if (v === 'end') this.close(o);
    }
    this.flush();
    return false;
  }

  private close(o: Open): void {
    if (!o.more) return;
    const m = o.more;
    delete o.more;
    this.openCount--;
    try { m.finish?.(); } catch { /* keep what was read */ }
  }

  private flush(): void {
    let n = 0;
    while (n < this.queue.length && !this.queue[n]!.more) this.emit(this.queue[n++]!.record);
    if (n) this.queue = this.queue.slice(n);
  }
}

/** Scan a whole text held in memory (tests, editor documents, the decode command). */
export function scanText(text: string, opts: ScannerOptions = {}): FaultRecord[] {
  const out: FaultRecord[] = [];
  const s = new Scanner((r) => out.push(r), opts);
  forEachLine(text, (line, n) => s.push(line, n));
  s.end();
  return out;
}
