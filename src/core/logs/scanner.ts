/**
 * Turns a sequence of lines into fault records, in log order, assembling multi-line prints.
 * Pure: no I/O. The Node file reader (`read-file.ts`) and the editor both drive it.
 */
import { parseLine, type LogLine } from './line';
import type { FaultRecord } from './record';
import type { Continuation, Recognition, Recognizer } from './recognizer';
import { RECOGNIZERS } from './families';
import { forEachLine } from './text-lines';
import { splitRunTogether } from './run-together';
import { KeySet } from './simd/key-set';

interface Open {
  record: FaultRecord;
  /** undefined once closed (never deleted: a deleted field leaves a slow dictionary-mode object) */
  more: Continuation | undefined;
  /** last line that belonged to the record */
  last: number;
}

export interface ScannerOptions {
  file?: string;
  recognizers?: readonly Recognizer[];
  /**
   * Keys that select lines no recogniser starts a record on (the analysis' symptom and marker
   * lines), listed after the recognisers' own in `keyList`, so that one finder searching that
   * list names every key a subclass wants to see.
   */
  extraKeys?: readonly string[];
}

/**
 * The candidate recognisers of a line follow from which keys it holds: one signature per key set.
 * A number for up to three keys (no string to build and hash per line), else the joined indices.
 */
function signatureOf(present: readonly number[]): string | number {
  switch (present.length) {
    case 1: return present[0]!;
    case 2: return present[0]! + 1 + (present[1]! + 1) * 0x10000;
    case 3: return present[0]! + 1 + (present[1]! + 1) * 0x10000 + (present[2]! + 1) * 0x100000000;
    default: return present.join(',');
  }
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
  /** recognisers to try, in registry order, per key signature */
  private readonly bySignature = new Map<string | number, Recognizer[]>();

  constructor(private readonly emit: (r: FaultRecord) => void, opts: ScannerOptions = {}) {
    this.recognizers = opts.recognizers ?? RECOGNIZERS;
    this.file = opts.file;
    const byKey = new Map<string, Recognizer[]>();
    for (const r of this.recognizers) for (const k of r.keys) {
      const list = byKey.get(k) ?? [];
      if (!list.includes(r)) list.push(r);
      byKey.set(k, list);
    }
    for (const k of opts.extraKeys ?? []) if (!byKey.has(k)) byKey.set(k, []);
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
    if (this.openCount > 0 && this.anyWants(raw, lineNo)) {
      parsed = parseLine(raw, lineNo);
      if (this.offerToOpen(parsed)) return;
    }
    const keys = present ?? this.keySet.present(raw);
    if (!keys.length) { this.flush(); return; }
    const sig = signatureOf(keys);
    let candidates = this.bySignature.get(sig);
    if (!candidates) this.bySignature.set(sig, (candidates = this.candidates(keys)));
    if (!candidates.length) { this.flush(); return; } // only extra keys: nothing to recognise
    parsed ??= parseLine(raw, lineNo);
    const got = this.recognizeWith(parsed, candidates);
    if (got) {
      const rec = got.record;
      rec.line = lineNo;
      if (this.file !== undefined) rec.file = this.file;
      if (rec.time === undefined && parsed.time !== undefined) rec.time = parsed.time;
      if (rec.host === undefined) rec.host = parsed.host;
      if (!got.more && this.queue.length === 0) { this.emit(rec); return; }
      const o: Open = { record: rec, more: got.more, last: lineNo };
      if (got.more) this.openCount++;
      this.queue.push(o);
    }
    this.flush();
  }

  /** The recognisers owning any of these keys, in registry order (specific ones listed first win over generic ones). */
  private candidates(keys: readonly number[]): Recognizer[] {
    const owners = new Set<Recognizer>();
    for (const i of keys) for (const r of this.keys[i]!.recognizers) owners.add(r);
    return this.recognizers.filter((r) => owners.has(r));
  }

  private recognizeWith(line: LogLine, candidates: readonly Recognizer[]): Recognition | undefined {
    for (const r of candidates) {
      let got;
      try {
        got = r.recognize(line);
      } catch {
        got = undefined; // a recogniser bug must never lose the rest of the log
      }
      if (got) return got;
    }
    return undefined;
  }

  /**
   * Offer a line only to the records still waiting for continuation lines, never as the start of
   * a new record: used past the end of a chunk in parallel scans, where the next chunk's scanner
   * owns new records. Returns true when a record consumed the line.
   */
  pushContinuation(raw: string, lineNo: number): boolean {
    if (this.openCount === 0) return false;
    if (!this.anyWants(raw, lineNo)) { this.flush(); return false; }
    return this.offerToOpen(parseLine(raw, lineNo));
  }

  /**
   * Whether an open record may take this line. Records whose window has passed are closed here,
   * as offerToOpen would close them before offering (newest first); a record whose continuation
   * says it does not want the line would only answer 'skip'.
   */
  private anyWants(raw: string, lineNo: number): boolean {
    let wanted = false;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const o = this.queue[i]!;
      const more = o.more;
      if (!more) continue;
      if (lineNo - o.last > more.window) { this.close(o); continue; }
      if (!wanted && (!more.wants || more.wants(raw))) wanted = true;
    }
    return wanted;
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
    o.more = undefined;
    this.openCount--;
    try { m.finish?.(); } catch { /* keep what was read */ }
  }

  private flush(): void {
    let n = 0;
    while (n < this.queue.length && !this.queue[n]!.more) this.emit(this.queue[n++]!.record);
    if (n === this.queue.length) { if (n) this.queue.length = 0; }
    else if (n) this.queue = this.queue.slice(n);
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
