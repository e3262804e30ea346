/**
 * Fault storms of one stream (an IOMMU, or one device/stream behind it): the fault rate in a
 * sliding window kept as a ring of sub-window buckets, so memory stays constant however fast
 * the faults come. A storm starts when the window holds `threshold` records and ends when it
 * falls below half of that (hysteresis, so one slow second does not split a storm in two).
 *
 * Logs without timestamps use line numbers as the axis (window in lines). Ratelimit notices
 * ("N callbacks suppressed") are folded in: added to the storm they belong to, or, when the
 * printed faults alone never reached the threshold (printk ratelimit lets ~10 through per 5 s),
 * they are the evidence of a storm that the printed lines hide.
 */
import { PageSet, type PageBudget, type PageSummary } from './pages';

export type StormAxis = 'time' | 'lines';

export interface StormOptions {
  /** window length in seconds (time axis) */
  window: number;
  /** window length in lines (logs without timestamps) */
  windowLines: number;
  /** records in one window that make a storm */
  threshold: number;
  /** records in one window of lines that make a storm (logs without timestamps) */
  thresholdLines: number;
  /** printk ratelimit interval assumed between "callbacks suppressed" notices (DEFAULT_RATELIMIT_INTERVAL = 5 s) */
  ratelimitInterval: number;
}

export const DEFAULT_STORM_OPTIONS: StormOptions = { window: 1, windowLines: 200, threshold: 20, thresholdLines: 100, ratelimitInterval: 5 };

export interface Storm {
  axis: StormAxis;
  /** seconds (time axis) or line numbers (lines axis) */
  start: number;
  end: number;
  startLine: number;
  endLine: number;
  /** highest records per second (time) or per window of lines seen in the storm */
  peakRate: number;
  peakAt: number;
  /** fault records printed in the storm */
  printed: number;
  /** faults the ratelimit suppressed, from "callbacks suppressed" notices folded into this storm */
  suppressed: number;
  /** the storm is inferred from ratelimit notices, its bounds and peak are estimates */
  estimated?: boolean;
  /** still storming at the end of the log */
  ongoing?: boolean;
  pages: PageSummary;
  /** devices/streams with the most records in the storm (IOMMU-level storms) */
  topSources?: { source: string; records: number }[];
}

const BUCKETS = 10;
const MAX_STORMS = 64;
const MAX_SOURCES = 64;

interface Open {
  storm: Omit<Storm, 'pages' | 'topSources'>;
  pages: PageSet;
  sources: Map<string, number>;
}

/** A stream's results as plain data (parallel reports merge the parts of a log in order). */
export interface StormStreamState {
  axis?: StormAxis;
  storms: Storm[];
  dropped: number;
  suppressedOutside: number;
  records: number;
}

export class StormStream {
  axis: StormAxis | undefined;
  readonly storms: Storm[] = [];
  /** storms beyond MAX_STORMS, counted only */
  dropped = 0;
  /** suppressed faults that no storm could take (a quiet stream's occasional notice) */
  suppressedOutside = 0;
  records = 0;
  private readonly counts = new Float64Array(BUCKETS);
  private readonly firstPos = new Float64Array(BUCKETS);
  private readonly firstLine = new Float64Array(BUCKETS);
  private cur = -1;
  private sum = 0;
  private open: Open | undefined;
  private lastPos = 0;
  /** records printed since the last ratelimit notice, and the position of the first of them */
  private sinceNotice = 0;
  private firstSinceNotice = 0;
  private firstLineSinceNotice = 0;
  private lastStorm: Omit<Storm, 'pages' | 'topSources'> | undefined;

  constructor(private readonly opts: StormOptions, private readonly pageCap: number, private readonly budget?: PageBudget) {}

  private width = 0;
  private threshold = 0;

  /** The axis is fixed by the stream's first record. */
  private setAxis(time: number | undefined): void {
    this.axis = time !== undefined ? 'time' : 'lines';
    this.width = (this.axis === 'lines' ? this.opts.windowLines : this.opts.window) / BUCKETS;
    this.threshold = this.axis === 'lines' ? this.opts.thresholdLines : this.opts.threshold;
  }

  private rate(sum: number): number {
    return this.axis === 'lines' ? sum : sum / this.opts.window;
  }

  /** One record at `time` (seconds, when the line had one) on `line`. */
  add(time: number | undefined, line: number, iova?: string, access?: string, source?: string, page?: number): void {
    if (this.axis === undefined) this.setAxis(time);
    const pos = this.axis === 'lines' ? line : time ?? this.lastPos;
    const k = Math.floor(pos / this.width);
    if (this.cur < 0) this.cur = k;
    if (k > this.cur) this.advance(k);
    else if (k <= this.cur - BUCKETS) this.restart(k); // the clock went back (a reboot in a concatenated log)
    const b = ((k % BUCKETS) + BUCKETS) % BUCKETS;
    if (this.counts[b] === 0) { this.firstPos[b] = pos; this.firstLine[b] = line; }
    this.counts[b]!++;
    this.sum++;
    this.records++;
    if (this.sinceNotice++ === 0) { this.firstSinceNotice = pos; this.firstLineSinceNotice = line; }
    const o = this.open;
    if (o) {
      o.storm.printed++;
      o.storm.end = pos;
      o.storm.endLine = line;
    } else if (this.sum >= this.threshold) {
      this.startStorm(pos, line);
    }
    const s = this.open;
    if (s) {
      const r = this.rate(this.sum);
      if (r > s.storm.peakRate) { s.storm.peakRate = r; s.storm.peakAt = pos; }
      if (iova !== undefined) s.pages.add(iova, access, undefined, page);
      if (source !== undefined) {
        const n = s.sources.get(source);
        if (n !== undefined) s.sources.set(source, n + 1);
        else if (s.sources.size < MAX_SOURCES) s.sources.set(source, 1);
      }
    }
    this.lastPos = pos;
  }

  /**
   * A record of the previous part of the log, seen while warming up a part: it only counts for
   * the "printed since the last notice" estimate of a notice that follows.
   */
  contextRecord(time: number | undefined, line: number): void {
    if (this.axis === undefined) this.setAxis(time);
    const pos = this.axis === 'lines' ? line : time ?? this.lastPos;
    if (this.sinceNotice++ === 0) { this.firstSinceNotice = pos; this.firstLineSinceNotice = line; }
    this.lastPos = pos;
  }

  /** A notice of the previous part, seen while warming up. */
  contextNotice(): void {
    this.sinceNotice = 0;
  }

  /** A ratelimit notice: `n` faults of this stream were not printed in the interval before `line`. */
  addSuppressed(n: number, time: number | undefined, line: number): void {
    if (this.axis === undefined) this.setAxis(time);
    const pos = this.axis === 'lines' ? line : time ?? this.lastPos;
    const interval = this.axis === 'lines' ? this.opts.windowLines : this.opts.ratelimitInterval;
    // What the ratelimit let through in the interval the notice closes. The interval starts at its
    // first print and the notice comes with the first call after it expired: more than `interval` later.
    const printed = this.sinceNotice > 0 && pos - this.firstSinceNotice <= 2 * interval ? this.sinceNotice : 0;
    const firstPrinted = this.firstSinceNotice;
    const firstPrintedLine = this.firstLineSinceNotice;
    this.sinceNotice = 0;
    const o = this.open?.storm;
    if (o) {
      o.suppressed += n;
      this.raisePeak(o, n, interval, pos);
      return;
    }
    const last = this.lastStorm;
    if (last && pos - last.end <= interval) {
      last.suppressed += n;
      if (last.estimated) { last.end = pos; last.endLine = line; }
      this.raisePeak(last, n, interval, pos);
      return;
    }
    // Printed faults alone stayed under the threshold; the notice says how many really happened.
    const perWindow = this.axis === 'lines' ? n + printed : ((n + printed) / interval) * this.opts.window;
    if (perWindow >= this.threshold) {
      const s: Omit<Storm, 'pages' | 'topSources'> = {
        axis: this.axis!, start: printed ? firstPrinted : Math.max(0, pos - interval), end: pos, startLine: printed ? firstPrintedLine : line, endLine: line,
        peakRate: 0, peakAt: pos, printed, suppressed: n, estimated: true,
      };
      this.raisePeak(s, n + printed, interval, pos);
      this.push(s, new PageSet(0), new Map());
      return;
    }
    this.suppressedOutside += n;
  }

  private raisePeak(s: Omit<Storm, 'pages' | 'topSources'>, n: number, interval: number, pos: number): void {
    const r = this.axis === 'lines' ? n : n / interval;
    if (r > s.peakRate) { s.peakRate = r; s.peakAt = pos; }
  }

  private startStorm(pos: number, line: number): void {
    let start = pos;
    let startLine = line;
    for (let i = 0; i < BUCKETS; i++) {
      if (this.counts[i]! > 0 && this.firstPos[i]! < start) { start = this.firstPos[i]!; startLine = this.firstLine[i]!; }
    }
    this.open = {
      storm: { axis: this.axis!, start, end: pos, startLine, endLine: line, peakRate: 0, peakAt: pos, printed: this.sum, suppressed: 0 },
      pages: new PageSet(this.pageCap, this.budget),
      sources: new Map(),
    };
  }

  private advance(k: number): void {
    const steps = k - this.cur;
    if (steps >= BUCKETS) { this.counts.fill(0); this.sum = 0; }
    else {
      for (let j = this.cur + 1; j <= k; j++) {
        const b = ((j % BUCKETS) + BUCKETS) % BUCKETS;
        this.sum -= this.counts[b]!;
        this.counts[b] = 0;
      }
    }
    this.cur = k;
    if (this.open && this.sum < this.threshold / 2) this.close(false);
  }

  private restart(k: number): void {
    if (this.open) this.close(false);
    this.counts.fill(0);
    this.sum = 0;
    this.cur = k;
  }

  private close(ongoing: boolean): void {
    const o = this.open!;
    this.open = undefined;
    if (ongoing) o.storm.ongoing = true;
    this.push(o.storm, o.pages, o.sources);
  }

  private push(s: Omit<Storm, 'pages' | 'topSources'>, pages: PageSet, sources: Map<string, number>): void {
    this.lastStorm = s;
    if (this.storms.length >= MAX_STORMS) { this.dropped++; return; }
    const full = s as Storm;
    // The page summary is taken now: the storm's page set is not kept after it ends.
    full.pages = pages.summary(8);
    if (sources.size > 1) full.topSources = [...sources].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([source, records]) => ({ source, records }));
    this.storms.push(full);
  }

  /** End of the log: a storm still open is reported as ongoing. */
  finish(): void {
    if (this.open) this.close(true);
  }

  exportState(): StormStreamState {
    this.finish();
    const st: StormStreamState = { storms: this.storms, dropped: this.dropped, suppressedOutside: this.suppressedOutside, records: this.records };
    if (this.axis !== undefined) st.axis = this.axis;
    return st;
  }

  /**
   * Append the next part of the log (its lines shifted by `lineOffset`). A storm that was still
   * going at the end of the previous part and one that starts within a window of the part's
   * start are one storm cut by the part boundary: they are joined.
   */
  mergeState(st: StormStreamState, lineOffset: number): void {
    if (this.axis === undefined && st.axis !== undefined) this.setAxis(st.axis === 'time' ? 0 : undefined);
    this.records += st.records;
    this.dropped += st.dropped;
    this.suppressedOutside += st.suppressedOutside;
    const byLines = st.axis === 'lines';
    for (const [i, s0] of st.storms.entries()) {
      const s: Storm = { ...s0, startLine: s0.startLine + lineOffset, endLine: s0.endLine + lineOffset };
      if (byLines) { s.start += lineOffset; s.end += lineOffset; s.peakAt += lineOffset; }
      const prev = this.storms[this.storms.length - 1];
      const gap = byLines ? this.opts.windowLines : this.opts.window * 2;
      if (i === 0 && prev?.ongoing && s.start - prev.end <= gap && prev.axis === s.axis) {
        prev.end = s.end;
        prev.endLine = s.endLine;
        prev.printed += s.printed;
        prev.suppressed += s.suppressed;
        if (s.peakRate > prev.peakRate) { prev.peakRate = s.peakRate; prev.peakAt = s.peakAt; }
        if (s.ongoing) prev.ongoing = true; else delete prev.ongoing;
        if (s.estimated && !prev.estimated) delete s.estimated;
        prev.pages = joinPages(prev.pages, s.pages, prev.estimated ? 0 : this.pageCap);
        if (s.topSources) prev.topSources = joinSources(prev.topSources ?? [], s.topSources);
        continue;
      }
      // the previous part's storm ended with that part only because the part ended
      if (i === 0 && prev?.ongoing) delete prev.ongoing;
      if (this.storms.length >= MAX_STORMS) { this.dropped++; continue; }
      this.storms.push(s);
    }
    if (!st.storms.length) { const prev = this.storms[this.storms.length - 1]; if (prev?.ongoing && st.records > 0) delete prev.ongoing; }
  }
}

/**
 * Page summaries of two halves of one storm. When each half's ranges list all its pages, their
 * union is exact; otherwise distinct pages add up (an upper bound, kept under the cap).
 */
function joinPages(a: PageSummary, b: PageSummary, cap: number): PageSummary {
  const complete = (p: PageSummary) => p.untracked === 0 && p.ranges.reduce((n, r) => n + r.pages, 0) === p.distinct;
  const spans = [...a.ranges, ...b.ranges]
    .map((r) => ({ first: BigInt(r.start) >> 12n, last: BigInt(r.end) >> 12n, faults: r.faults }))
    .sort((x, y) => (x.first < y.first ? -1 : x.first > y.first ? 1 : 0));
  const merged: { first: bigint; last: bigint; faults: number }[] = [];
  for (const r of spans) {
    const cur = merged[merged.length - 1];
    if (cur && r.first <= cur.last + 1n) { if (r.last > cur.last) cur.last = r.last; cur.faults += r.faults; }
    else merged.push({ ...r });
  }
  const ranges = merged
    .map((r) => ({ start: '0x' + (r.first << 12n).toString(16), end: '0x' + (((r.last + 1n) << 12n) - 1n).toString(16), pages: Number(r.last - r.first + 1n), faults: r.faults }))
    .sort((x, y) => y.faults - x.faults);
  const out: PageSummary = { distinct: 0, untracked: a.untracked + b.untracked, ranges: ranges.slice(0, 8) };
  if (complete(a) && complete(b)) out.distinct = ranges.reduce((n, r) => n + r.pages, 0);
  else out.distinct = a.distinct + b.distinct;
  // the halves may share pages: keep the sum under the cap a single pass would have had
  if (out.distinct > cap) { out.untracked += out.distinct - cap; out.distinct = cap; }
  const lows = [a.lowest, b.lowest].filter((x): x is string => x !== undefined).sort((x, y) => (x.length - y.length) || (x < y ? -1 : 1));
  const highs = [a.highest, b.highest].filter((x): x is string => x !== undefined).sort((x, y) => (y.length - x.length) || (x < y ? 1 : -1));
  if (lows[0]) out.lowest = lows[0];
  if (highs[0]) out.highest = highs[0];
  return out;
}

function joinSources(a: { source: string; records: number }[], b: { source: string; records: number }[]): { source: string; records: number }[] {
  const m = new Map<string, number>();
  for (const x of [...a, ...b]) m.set(x.source, (m.get(x.source) ?? 0) + x.records);
  return [...m].sort((x, y) => y[1] - x[1]).slice(0, 8).map(([source, records]) => ({ source, records }));
}
