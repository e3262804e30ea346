/**
 * The analysis entry point: one streaming pass over the lines that feeds the fault scanner and,
 * on the same lines, the symptom and lifecycle-marker recognisers. It is a Scanner (so the block
 * and file readers that drive `scan` drive it unchanged) whose records go into aggregates, never
 * into a list: memory is bounded by the number of groups and the caps, not by the log's size.
 *
 *   const a = new LogAnalyzer({ file });  a.push(line, n) ...;  a.end();  a.result()
 *   analyzeText(text)                      the same for text held in memory
 *   ANALYSIS_KEYS                          substrings that select candidate lines (records + symptoms + markers)
 */
import { Scanner, allKeys } from '../logs/scanner';
import { forEachLine } from '../logs/text-lines';
import type { FaultRecord } from '../logs/record';
import { parseLine } from '../logs/line';
import { normalizeBdf } from '../logs/normalize';
import { PageRequestTracker, PrRecorder, type PageRequestSummary, type PrSink } from './page-requests';
import { DEFAULT_STORM_OPTIONS, StormStream, type Storm, type StormOptions } from './storms';
import { ALIAS_KEYS, SYMPTOM_KEYS, aliasOf, recognizeSymptom, symptomIdentities, type SymptomHit } from './symptoms';
import { GroupAgg, whoOf, type FaultGroup, type MatchHow, type SymptomMatch } from './groups';
import { xenContext } from './xen-context';
import { culpritFromLog } from './log-culprit';
import type { PageBudget } from './pages';

export interface AnalyzerOptions {
  file?: string;
  storm?: Partial<StormOptions>;
  /** a symptom is attached to a device's faults when it follows the last one within this many seconds */
  symptomWindow?: number;
  /** ... or within this many lines when the lines have no timestamps */
  symptomLines?: number;
  /** at most this many groups; more are folded into one "(other)" group */
  maxGroups?: number;
  /** distinct pages kept per group */
  pagesPerGroup?: number;
  /** distinct pages kept in the whole analysis */
  pageBudget?: number;
  /**
   * Part of a parallel report: lines before this number only set up the scanner's state (records
   * and symptoms there belong to the previous part), and the page-request events are recorded for
   * an ordered replay instead of tracked here. See parts.ts.
   */
  part?: { ownFrom: number };
}


export interface IommuSummary {
  family: string;
  iommu?: string;
  records: number;
  printedBy: ('xen' | 'linux')[];
  storms: Storm[];
  /** storms beyond the list's cap */
  stormsDropped: number;
  /** ratelimit-suppressed faults outside any storm */
  suppressedOutside: number;
}

export interface Analysis {
  file?: string;
  lines: number;
  records: number;
  suppressedNotices: number;
  suppressed: number;
  first?: number;
  last?: number;
  groups: FaultGroup[];
  /** records folded into the "(other)" group after maxGroups */
  foldedGroups: number;
  iommus: IommuSummary[];
  pageRequests: PageRequestSummary;
  symptoms: { seen: number; attributed: number; unattributed: SymptomHit[] };
  /** lines naming PV backends (netback/blkback/gnttab) */
  pvBackendLines: number;
}

const MARKER_KEYS = ['detach_device_from_domain:', 'remove_device_from_group:', 'io_mm_free:', 'io_mm_unbind_free:', 'io_mm_detach:'];
const PV_KEYS = ['xen-netback', 'xen_netback', 'xen-blkback', 'xen_blkback', 'vif vif', 'gntdev'];
const RE_MARKER = /(detach_device_from_domain|remove_device_from_group): {1,24}IOMMU: (?:groupID=-?\d{1,10} )?device=(\S{1,96})/;
// SVA development-tree trace events (io_mm class): a PASID freed, or unbound from one device
const RE_PASID_MARKER = /(io_mm_free|io_mm_unbind_free|io_mm_detach): {1,24}pasid=(\d{1,10})(?: dev=(\S{1,96}))?/;
const SIDE_KEYS: readonly string[] = [...new Set([...SYMPTOM_KEYS, ...ALIAS_KEYS, ...MARKER_KEYS, ...PV_KEYS])];

/** Every substring that makes a line worth reading for the analysis. */
export const ANALYSIS_KEYS: readonly string[] = [...new Set([...allKeys(), ...SIDE_KEYS])];

const SIDE_SET = new Set(SIDE_KEYS);
const SIDE_RE = new RegExp(SIDE_KEYS.map((k) => k.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|'));
const MAX_UNATTRIBUTED = 200;
const MAX_HELD = 1000;
export const MAX_ALIASES = 1000;
const PROXIMITY_LINES = 50;
const PROXIMITY_SECONDS = 5;
/** groups (largest first) that get their pages to walk and page ranges; a report lists fewer than this */
const DETAILED_GROUPS = 500;

export class LogAnalyzer extends Scanner {
  protected readonly opts: Required<Omit<AnalyzerOptions, 'file' | 'storm' | 'part'>> & { storm: StormOptions };
  protected readonly budget: PageBudget;
  /** groups by device/stream, then by family and IOMMU (no key string built per record) */
  protected readonly groups = new Map<string, GroupAgg[]>();
  protected groupCount = 0;
  protected readonly byDevice = new Map<string, GroupAgg[]>();
  protected readonly byDriver = new Map<string, GroupAgg[]>();
  protected readonly iommus = new Map<string, { family: string; iommu?: string; stream: StormStream; printedBy: Set<'xen' | 'linux'> }>();
  private readonly lastIommuOfFamily = new Map<string, string>();
  private lastIommu: { family: string; iommu?: string; stream: StormStream; printedBy: Set<'xen' | 'linux'> } | undefined;
  private lastIommuKey: string | undefined;
  private readonly lastNotice = new Map<string, { fn: string; n: number; line: number; time?: number }>();
  protected readonly pr: PrSink;
  private readonly tracker: PageRequestTracker | undefined;
  private readonly ownFrom: number;
  /** parts absorbed so far, and the last part each storm stream appeared in */
  protected parts = 0;
  protected readonly aliases = new Map<string, string>();
  private readonly guestLines = new Map<number, number>();
  private held: SymptomHit[] = [];
  protected readonly unattributed: SymptomHit[] = [];
  protected lastHit: SymptomHit | undefined;
  protected lastMatches: SymptomMatch[] = [];
  protected firstHitLine: number | undefined;
  /** lines of the latest records, to tell whether a fault came between two symptom lines */
  private readonly recordLines: number[] = [];
  /** groups that printed last, newest first: candidates for a symptom that names no device */
  protected recent: GroupAgg[] = [];
  protected other: GroupAgg | undefined;
  protected foldedGroups = 0;
  protected records = 0;
  protected suppressedNotices = 0;
  protected suppressed = 0;
  protected first: number | undefined;
  protected last: number | undefined;
  protected symptomsSeen = 0;
  protected attributed = 0;
  protected pvBackendLines = 0;
  protected pvLastLine = -Infinity;
  protected maxLine = 0;
  protected lastRecordLine = 0;
  private readonly fileName: string | undefined;

  constructor(options: AnalyzerOptions = {}) {
    const sink: { fn: (r: FaultRecord) => void } = { fn: () => undefined };
    super((r) => sink.fn(r), options.file !== undefined ? { file: options.file, extraKeys: SIDE_KEYS } : { extraKeys: SIDE_KEYS });
    sink.fn = (r) => this.onRecord(r);
    this.fileName = options.file;
    this.opts = {
      storm: { ...DEFAULT_STORM_OPTIONS, ...options.storm },
      symptomWindow: options.symptomWindow ?? 30,
      symptomLines: options.symptomLines ?? 500,
      maxGroups: options.maxGroups ?? 5000,
      pagesPerGroup: options.pagesPerGroup ?? 1024,
      pageBudget: options.pageBudget ?? 300_000,
    };
    this.budget = { left: this.opts.pageBudget };
    this.ownFrom = options.part?.ownFrom ?? -Infinity;
    if (options.part) this.pr = new PrRecorder();
    else this.pr = this.tracker = new PageRequestTracker();
  }

  override push(raw: string, lineNo: number, present?: readonly number[]): void {
    if (lineNo > this.maxLine) this.maxLine = lineNo;
    // Guest console marker of a line that may hold a record: remembered until the record is emitted.
    if (raw.includes('(d')) {
      const x = parseLine(raw.length > 300 ? raw.slice(0, 300) : raw, lineNo).xenDomain;
      if (x !== undefined) this.guestLines.set(lineNo, x);
    }
    super.push(raw, lineNo, present);
    // a line that just became a fault record is not also a symptom
    if (this.lastRecordLine !== lineNo && (present ? this.anySideKey(present) : SIDE_RE.test(raw))) this.side(raw, lineNo);
    if (this.held.length && !this.wantsEveryLine) this.release();
  }

  override end(): void {
    super.end();
    this.release();
  }

  /** Which of `keyList` are side keys (symptoms, aliases, markers): the finder names them, no regex needed. */
  private sideKey: boolean[] | undefined;
  private anySideKey(present: readonly number[]): boolean {
    const side = (this.sideKey ??= this.keyList.map((k) => SIDE_SET.has(k)));
    for (const i of present) if (side[i]) return true;
    return false;
  }

  /** Lines counted by the caller (the readers know how many lines they passed over). */
  result(lines = this.maxLine): Analysis {
    // A storm is "ongoing" only if the log ends within a window of its last fault (a stream that
    // went quiet never gets the record that would close its window).
    const quiet = (st: StormStream) => {
      const s = st.storms[st.storms.length - 1];
      if (!s?.ongoing) return;
      if (s.axis === 'time' ? this.last !== undefined && this.last - s.end > this.opts.storm.window : lines - s.endLine > this.opts.storm.windowLines) delete s.ongoing;
    };
    const all = [...this.groups.values()].flat();
    if (this.other) all.push(this.other);
    for (const g of all) g.storm.finish();
    for (const g of all) quiet(g.storm);
    const iommus: IommuSummary[] = [];
    for (const i of this.iommus.values()) {
      i.stream.finish();
      quiet(i.stream);
      if (i.stream.records === 0 && !i.stream.storms.length && !i.stream.suppressedOutside) continue; // seen only while warming up
      const s: IommuSummary = {
        family: i.family, records: i.stream.records, printedBy: [...i.printedBy], storms: i.stream.storms,
        stormsDropped: i.stream.dropped, suppressedOutside: i.stream.suppressedOutside,
      };
      if (i.iommu !== undefined) s.iommu = i.iommu;
      iommus.push(s);
    }
    all.sort((a, b) => b.records - a.records || a.firstLine - b.firstLine);
    const groups = all.map((g, i) => this.buildGroup(g, i < DETAILED_GROUPS));
    const a: Analysis = {
      lines,
      records: this.records,
      suppressedNotices: this.suppressedNotices,
      suppressed: this.suppressed,
      groups,
      foldedGroups: this.foldedGroups,
      iommus: iommus.sort((x, y) => y.records - x.records),
      pageRequests: (this.tracker ?? new PageRequestTracker()).summary(),
      symptoms: { seen: this.symptomsSeen, attributed: this.attributed, unattributed: this.unattributed },
      pvBackendLines: this.pvBackendLines,
    };
    if (this.fileName !== undefined) a.file = this.fileName;
    if (this.first !== undefined) a.first = this.first;
    if (this.last !== undefined) a.last = this.last;
    return a;
  }

  private buildGroup(agg: GroupAgg, walkSamples: boolean): FaultGroup {
    const g = agg.build(walkSamples);
    const top = agg.topReason();
    if (top) {
      const c = culpritFromLog(g.family, top, top.count);
      if (c) g.logCulprit = c;
    }
    const symptomAfterXen = g.symptoms.some((s) => s.category === 'dma-error' || s.category === 'timeout');
    const x = xenContext({
      printedBy: g.printedBy, domains: g.domains, guestConsoles: g.guestConsoles, family: g.family,
      dom0Symptom: g.printedBy.includes('xen') && symptomAfterXen,
      pvBackendNear: g.printedBy.includes('xen') && this.pvLastLine >= g.firstLine - PROXIMITY_LINES && this.pvLastLine <= g.lastLine + PROXIMITY_LINES,
      ...(g.pageSamples[0] ? { iova: g.pageSamples[0].iova } : {}),
    });
    if (x) g.xen = x;
    return g;
  }

  private onRecord(r: FaultRecord): void {
    if (r.line < this.ownFrom) { this.warmUp(r); return; }
    if (r.kind === 'storm-suppressed') { this.onSuppressed(r); return; }
    this.records++;
    if (r.time !== undefined) {
      if (this.first === undefined || r.time < this.first) this.first = r.time;
      if (this.last === undefined || r.time > this.last) this.last = r.time;
    }
    let xenDomain: number | undefined;
    if (this.guestLines.size) {
      xenDomain = this.guestLines.get(r.line);
      for (const l of this.guestLines.keys()) { if (l <= r.line) this.guestLines.delete(l); else break; }
    }
    if (this.recordLines.length >= 16) this.recordLines.shift();
    this.recordLines.push(r.line);
    const g = this.groupOf(r);
    const pk = g.add(r, xenDomain);
    this.lastRecordLine = r.line;
    if (this.recent[0] !== g) {
      const at = this.recent.indexOf(g);
      if (at > 0) this.recent.splice(at, 1);
      this.recent.unshift(g);
      if (this.recent.length > 8) this.recent.pop();
    }
    // storms repeat one IOMMU: skip the key string and lookup while it stays the same
    let i = this.lastIommu;
    let ik = this.lastIommuKey;
    if (!i || i.family !== r.family || i.iommu !== r.iommu) {
      ik = `${r.family}\u0000${r.iommu ?? ''}`;
      i = this.iommus.get(ik);
    }
    if (!i) {
      i = { family: r.family, stream: new StormStream(this.opts.storm, 2048, this.budget), printedBy: new Set() };
      if (r.iommu !== undefined) i.iommu = r.iommu;
      this.iommus.set(ik!, i);
    }
    if (i !== this.lastIommu) { this.lastIommu = i; this.lastIommuKey = ik!; this.lastIommuOfFamily.set(r.family, ik!); }
    if (r.host && !i.printedBy.has(r.host)) i.printedBy.add(r.host);
    i.stream.add(r.time, r.line, r.iova, r.access, whoOf(r) || undefined, pk);
    if (r.kind === 'page-request' || r.kind === 'page-response' || r.kind === 'queue-error' || r.kind === 'event' || r.kind === 'context-fault') this.pr.record(r);
  }

  private groupOf(r: FaultRecord): GroupAgg {
    const who = whoOf(r);
    let list = this.groups.get(who);
    if (list) for (const g of list) if (g.family === r.family && g.iommu === r.iommu) return g;
    if (this.groupCount >= this.opts.maxGroups) {
      this.foldedGroups++;
      this.other ??= new GroupAgg('(other)', r.family, undefined, undefined, this.opts.storm, this.opts.pagesPerGroup, this.budget);
      return this.other;
    }
    const g = new GroupAgg(`g${++this.groupCount}`, r.family, r.iommu, r.device, this.opts.storm, this.opts.pagesPerGroup, this.budget);
    if (!list) this.groups.set(who, (list = []));
    list.push(g);
    if (r.device) {
      const list = this.byDevice.get(r.device) ?? [];
      list.push(g);
      this.byDevice.set(r.device, list);
    }
    const drv = (r.decoded as Record<string, unknown> | undefined)?.driver;
    if (typeof drv === 'string') {
      const list = this.byDriver.get(drv) ?? [];
      list.push(g);
      this.byDriver.set(drv, list);
    }
    return g;
  }

  /** A ratelimit notice: folded into the storm of the family's IOMMU that printed last. */
  private onSuppressed(r: FaultRecord): void {
    const d = r.decoded as { suppressed?: unknown; function?: unknown } | undefined;
    let n = Number(d?.suppressed ?? 0);
    if (!Number.isFinite(n) || n <= 0) return;
    this.suppressedNotices++;
    // Each ratelimited print in a handler has its own ratelimit state and prints its own notice
    // (arm_smmu_global_fault prints two): notices of one function at the same moment count the
    // same faults, so only the excess over the previous one is new.
    const fn = typeof d?.function === 'string' ? d.function : '';
    const excess = this.noticeExcess(r, fn, n);
    if (excess === 0) return;
    n = excess;
    this.suppressed += n;
    const ik = this.lastIommuOfFamily.get(r.family) ?? `${r.family}\u0000`;
    let i = this.iommus.get(ik);
    if (!i) {
      i = { family: r.family, stream: new StormStream(this.opts.storm, 2048, this.budget), printedBy: new Set() };
      this.iommus.set(ik, i);
    }
    i.stream.addSuppressed(n, r.time, r.line);
  }

  /**
   * A record of the previous part, seen while warming up: not counted, but a ratelimit notice in
   * this part needs to know which IOMMU printed last, what it printed since the last notice, and
   * that notice itself (twins).
   */
  private warmUp(r: FaultRecord): void {
    const ik = `${r.family}\u0000${r.kind === 'storm-suppressed' ? this.lastIommuOfFamily.get(r.family)?.split('\u0000')[1] ?? '' : r.iommu ?? ''}`;
    let i = this.iommus.get(ik);
    if (!i && r.kind !== 'storm-suppressed') {
      i = { family: r.family, stream: new StormStream(this.opts.storm, 2048, this.budget), printedBy: new Set() };
      if (r.iommu !== undefined) i.iommu = r.iommu;
      this.iommus.set(ik, i);
    }
    if (r.kind === 'storm-suppressed') {
      const d = r.decoded as { suppressed?: unknown; function?: unknown } | undefined;
      // a twin notice changes nothing in one pass, so it must not here either
      if (this.noticeExcess(r, typeof d?.function === 'string' ? d.function : '', Number(d?.suppressed ?? 0)) > 0) i?.stream.contextNotice();
      return;
    }
    i!.stream.contextRecord(r.time, r.line);
    this.lastIommuOfFamily.set(r.family, ik);
  }

  /** What a notice adds over its twin (same function at the same moment), and remember it. */
  private noticeExcess(r: FaultRecord, fn: string, n: number): number {
    const prev = this.lastNotice.get(r.family);
    this.noteSuppressed(r);
    if (prev && prev.fn === fn && (r.time !== undefined && prev.time !== undefined ? Math.abs(r.time - prev.time) <= 1 : r.line - prev.line <= 4)) return Math.max(0, n - prev.n);
    return n;
  }

  private noteSuppressed(r: FaultRecord): void {
    const d = r.decoded as { suppressed?: unknown; function?: unknown } | undefined;
    const fn = typeof d?.function === 'string' ? d.function : '';
    this.lastNotice.set(r.family, { fn, n: Number(d?.suppressed ?? 0), line: r.line, ...(r.time !== undefined ? { time: r.time } : {}) });
  }

  private side(raw: string, lineNo: number): void {
    if (lineNo < this.ownFrom) return;
    const alias = aliasOf(raw);
    if (alias) { if (this.aliases.size < MAX_ALIASES) this.aliases.set(alias.name, alias.device); return; }
    const m = RE_MARKER.exec(raw);
    if (m) {
      const dev = normalizeBdf(m[2]) ?? m[2]!;
      this.pr.handlerRemoved(dev, lineNo, parseLine(raw, lineNo).time ?? ftraceTime(raw), m[1]!);
      return;
    }
    const pm = RE_PASID_MARKER.exec(raw);
    if (pm) {
      const dev = pm[3] !== undefined ? normalizeBdf(pm[3]) ?? pm[3] : undefined;
      this.pr.pasidReleased('0x' + Number(pm[2]).toString(16), dev, lineNo, parseLine(raw, lineNo).time ?? ftraceTime(raw), pm[1]!);
      return;
    }
    if (PV_KEYS.some((k) => raw.includes(k))) { this.pvBackendLines++; this.pvLastLine = lineNo; return; }
    const hit = recognizeSymptom(raw, lineNo);
    if (!hit) return;
    this.symptomsSeen++;
    if (this.held.length >= MAX_HELD) this.release();
    this.held.push(hit);
  }

  /** Attach held symptoms: every record up to their lines has been emitted by now. */
  private release(): void {
    const held = this.held;
    this.held = [];
    for (const h of held) {
      const prev = this.lastHit;
      // AER and similar prints come as several lines per error: a run folds into one symptom,
      // but never across a fault record (a repeat after a new fault is a symptom of that fault).
      if (prev && prev.rule === h.rule && (prev.device ?? prev.source) === (h.device ?? h.source) && h.line - prev.lastLine <= 8 &&
          !this.recordLines.some((l) => l > prev.lastLine && l <= h.line)) {
        prev.count++;
        prev.lastLine = h.line;
        for (const m of this.lastMatches) { m.count = prev.count; m.lastLine = h.line; }
        continue;
      }
      this.lastHit = h;
      this.firstHitLine ??= h.line;
      this.lastMatches = [];
      this.correlate(h);
    }
  }

  private within(g: GroupAgg, h: SymptomHit): { deltaSeconds?: number; deltaLines: number } | undefined {
    const f = g.lastBefore(h.line);
    if (!f) return undefined;
    const deltaLines = h.line - f.line;
    if (h.time !== undefined && f.time !== undefined) {
      const d = h.time - f.time;
      if (d < 0 || d > this.opts.symptomWindow) return undefined;
      return { deltaSeconds: Math.round(d * 1e6) / 1e6, deltaLines };
    }
    return deltaLines <= this.opts.symptomLines ? { deltaLines } : undefined;
  }

  protected correlate(h: SymptomHit): void {
    const found: { g: GroupAgg; how: MatchHow; d: { deltaSeconds?: number; deltaLines: number } }[] = [];
    const consider = (list: GroupAgg[] | undefined, how: MatchHow) => {
      for (const g of list ?? []) {
        if (found.some((f) => f.g === g)) continue;
        const d = this.within(g, h);
        if (d) found.push({ g, how, d });
      }
    };
    for (const id of symptomIdentities(h, this.aliases)) consider(this.byDevice.get(id.id), id.how);
    if (!found.length && h.driver) consider(this.byDriver.get(h.driver), 'driver');
    if (!found.length) {
      // Nothing names the same device: only a fault group with no device identity, right before, can own it.
      // (records may reach us after the symptom's line when a multi-line print was still open)
      const g = this.recent.filter((x) => x.lastBefore(h.line)).sort((x, y) => y.lastBefore(h.line)!.line - x.lastBefore(h.line)!.line)[0];
      if (g && g.device === undefined) {
        const d = this.within(g, h);
        if (d && d.deltaLines <= PROXIMITY_LINES && (d.deltaSeconds === undefined || d.deltaSeconds <= PROXIMITY_SECONDS)) found.push({ g, how: 'proximity', d });
      }
    }
    if (!found.length) {
      if (this.unattributed.length < MAX_UNATTRIBUTED) this.unattributed.push(h);
      return;
    }
    this.attributed++;
    for (const f of found.slice(0, 3)) {
      const m: SymptomMatch = { ...h, match: f.how, deltaLines: f.d.deltaLines };
      if (f.d.deltaSeconds !== undefined) m.deltaSeconds = f.d.deltaSeconds;
      f.g.attach(m);
      this.lastMatches.push(m);
    }
  }
}

function ftraceTime(raw: string): number | undefined {
  const m = /\s(\d{1,10})\.(\d{1,9}): /.exec(raw.length > 300 ? raw.slice(0, 300) : raw);
  return m ? Number(m[1]) + Number('0.' + m[2]) : undefined;
}

/** Analyse a whole text held in memory (tests, the editor's open document). */
export function analyzeText(text: string, opts: AnalyzerOptions = {}): Analysis {
  const a = new LogAnalyzer(opts);
  const lines = forEachLine(text, (line, n) => a.push(line, n));
  a.end();
  return a.result(lines);
}
