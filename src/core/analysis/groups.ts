/**
 * One fault group (IOMMU instance + device or stream): counts, reasons, distinct pages, storms
 * and the symptoms attached to it. Everything is an aggregate with a cap, so a group that takes
 * millions of records stays a few kilobytes.
 */
import type { FaultRecord } from '../logs/record';
import type { Culprit, WalkStage } from '../walk/types';
import { PageSet, pageNumber, type PageBudget, type PageSample, type PageSetState, type PageSummary } from './pages';
import { StormStream, type Storm, type StormOptions, type StormStreamState } from './storms';
import type { SymptomHit } from './symptoms';
import type { XenContext } from './xen-context';

export type MatchHow = 'pci-address' | 'device-name' | 'alias' | 'driver' | 'proximity';

export interface SymptomMatch extends SymptomHit {
  match: MatchHow;
  /** seconds from the group's last fault before the symptom (when both lines have times) */
  deltaSeconds?: number;
  /** lines from that fault */
  deltaLines: number;
}

export interface ReasonCount {
  name?: string;
  text?: string;
  code?: number | string;
  /** the family's stage for this reason, when it decodes one */
  stage?: string;
  count: number;
}

export interface FaultGroup {
  id: string;
  family: string;
  iommu?: string;
  device?: string;
  streamId?: string;
  contextBanks?: number[];
  printedBy: ('xen' | 'linux')[];
  records: number;
  kinds: { kind: string; count: number }[];
  reasons: ReasonCount[];
  access: { access: string; count: number }[];
  pasids: string[];
  domains: string[];
  guestConsoles: number[];
  drivers: string[];
  firstLine: number;
  lastLine: number;
  first?: number;
  last?: number;
  /** lines of the first records, for links back into the log */
  sampleLines: number[];
  pages: PageSummary;
  /** tracked pages, most faults first (what a snapshot walk looks at) */
  pageSamples: PageSample[];
  storms: Storm[];
  symptoms: SymptomMatch[];
  /** symptoms attached, including those beyond the list's cap */
  symptomTotal: number;
  xen?: XenContext;
  logCulprit?: Culprit & { stage: WalkStage };
}

const MAX_REASONS = 32;
const MAX_SMALL = 32;
const MAX_SYMPTOMS = 50;
const SAMPLE_LINES = 5;
const WALK_SAMPLES = 1024;
const TAIL = 4;
/** families whose records name the device's driver (io_page_fault traces, GPU MMU prints) */
const DRIVER_FAMILIES = new Set(['iommu', 'gpu-mmu']);

/** A capped tally that remembers its last key: storms repeat the same kind and access millions of times. */
class Tally {
  readonly m = new Map<string, { n: number }>();
  private lastKey: string | undefined;
  private last: { n: number } | undefined;
  add(k: string): void {
    if (k === this.lastKey) { this.last!.n++; return; }
    let c = this.m.get(k);
    if (!c) {
      if (this.m.size >= MAX_SMALL) return;
      this.m.set(k, (c = { n: 0 }));
    }
    c.n++;
    this.lastKey = k;
    this.last = c;
  }
  entries(): [string, number][] {
    return [...this.m].map(([k, v]) => [k, v.n]);
  }
  addCount(k: string, n: number): void {
    const c = this.m.get(k);
    if (c) c.n += n;
    else if (this.m.size < MAX_SMALL) this.m.set(k, { n });
  }
  sorted(): [string, number][] {
    return [...this.m].map(([k, v]) => [k, v.n] as [string, number]).sort((a, b) => b[1] - a[1]);
  }
}

function addCapped<T>(s: Set<T>, v: T, cap = MAX_SMALL): void {
  if (s.size < cap) s.add(v);
}

/** The device or stream part of a group's identity. */
export function whoOf(r: FaultRecord): string {
  return r.device ?? (r.streamId !== undefined ? `sid ${r.streamId}` : r.contextBank !== undefined ? `cb ${r.contextBank}` : '');
}

/** A group's aggregates as plain data (parallel reports merge the parts of a log in order). */
export interface GroupAggState {
  id: string;
  family: string;
  iommu?: string;
  device?: string;
  who: string;
  records: number;
  firstLine: number;
  lastLine: number;
  first?: number;
  last?: number;
  printedBy: ('xen' | 'linux')[];
  kinds: [string, number][];
  reasons: [string, ReasonCount][];
  access: [string, number][];
  pasids: string[];
  domains: string[];
  guestConsoles: number[];
  drivers: string[];
  contextBanks: number[];
  sampleLines: number[];
  streamId?: string;
  tail: { line: number; time?: number }[];
  pages: PageSetState;
  storm: StormStreamState;
  symptoms: SymptomMatch[];
  symptomTotal: number;
}

export class GroupAgg {
  records = 0;
  firstLine = 0;
  lastLine = 0;
  first: number | undefined;
  last: number | undefined;
  readonly printedBy = new Set<'xen' | 'linux'>();
  readonly kinds = new Tally();
  readonly reasons = new Map<string, ReasonCount>();
  readonly access = new Tally();
  readonly pasids = new Set<string>();
  readonly domains = new Set<string>();
  readonly guestConsoles = new Set<number>();
  readonly drivers = new Set<string>();
  readonly contextBanks = new Set<number>();
  readonly sampleLines: number[] = [];
  readonly pages: PageSet;
  readonly storm: StormStream;
  readonly symptoms: SymptomMatch[] = [];
  symptomTotal = 0;
  streamId: string | undefined;
  private lastHost: string | undefined;
  private lastReason: ReasonCount | undefined;
  private lastReasonKey: string | undefined;
  // the last TAIL records' lines and times, as a ring (no allocation per record)
  private readonly tailLine = new Float64Array(TAIL);
  private readonly tailTime = new Float64Array(TAIL);
  private tailAt = 0;

  constructor(
    readonly id: string,
    readonly family: string,
    readonly iommu: string | undefined,
    readonly device: string | undefined,
    storm: StormOptions,
    pageCap: number,
    budget: PageBudget,
  ) {
    this.pages = new PageSet(pageCap, budget);
    this.storm = new StormStream(storm, Math.min(pageCap, 512), budget);
  }

  /** The group's latest record at or before `line` (records can arrive after later lines were read). */
  lastBefore(line: number): { line: number; time?: number } | undefined {
    for (let i = 1; i <= TAIL && i <= this.records; i++) {
      const j = (this.tailAt - i + TAIL) % TAIL;
      if (this.tailLine[j]! <= line) {
        const t = this.tailTime[j]!;
        return Number.isNaN(t) ? { line: this.tailLine[j]! } : { line: this.tailLine[j]!, time: t };
      }
    }
    return undefined;
  }

  /** Returns the record's page number (pageNumber), for the caller's other page sets. */
  add(r: FaultRecord, xenDomain: number | undefined): number | undefined {
    this.tailLine[this.tailAt] = r.line;
    this.tailTime[this.tailAt] = r.time ?? NaN;
    this.tailAt = (this.tailAt + 1) % TAIL;
    if (this.records === 0) this.firstLine = r.line;
    this.records++;
    this.lastLine = r.line;
    if (r.time !== undefined) {
      if (this.first === undefined) this.first = r.time;
      this.last = r.time;
    }
    if (this.sampleLines.length < SAMPLE_LINES) this.sampleLines.push(r.line);
    if (r.host && r.host !== this.lastHost) { this.printedBy.add(r.host); this.lastHost = r.host; }
    this.kinds.add(r.kind);
    if (r.reason) {
      const k = r.reason.name ?? String(r.reason.code ?? '');
      const c = k === this.lastReasonKey ? this.lastReason : this.reasons.get(k);
      if (c) { c.count++; this.lastReason = c; this.lastReasonKey = k; }
      else if (this.reasons.size < MAX_REASONS) {
        const rc: ReasonCount = { count: 1 };
        if (r.reason.name !== undefined) rc.name = r.reason.name;
        if (r.reason.text !== undefined) rc.text = r.reason.text;
        if (r.reason.code !== undefined) rc.code = r.reason.code;
        const st = ((r.decoded as Record<string, unknown> | undefined)?.reason as { stage?: unknown } | undefined)?.stage;
        if (typeof st === 'string') rc.stage = st;
        this.reasons.set(k, rc);
      }
    }
    if (r.access) this.access.add(r.access);
    if (r.pasid) addCapped(this.pasids, r.pasid);
    if (r.domain) addCapped(this.domains, r.domain, 16);
    if (xenDomain !== undefined) addCapped(this.guestConsoles, xenDomain, 16);
    if (r.contextBank !== undefined) addCapped(this.contextBanks, r.contextBank, 16);
    if (this.streamId === undefined && r.streamId !== undefined) this.streamId = r.streamId;
    if (DRIVER_FAMILIES.has(this.family)) {
      const drv = (r.decoded as Record<string, unknown> | undefined)?.driver;
      if (typeof drv === 'string') addCapped(this.drivers, drv, 8);
    }
    const pk = r.iova !== undefined ? pageNumber(r.iova) : undefined;
    if (r.iova !== undefined) this.pages.add(r.iova, r.access, r.pasid, pk);
    this.storm.add(r.time, r.line, r.iova, r.access, undefined, pk);
    return pk;
  }

  exportState(who: string): GroupAggState {
    const tail: { line: number; time?: number }[] = [];
    for (let i = Math.min(TAIL, this.records); i >= 1; i--) {
      const j = (this.tailAt - i + TAIL) % TAIL;
      const t = this.tailTime[j]!;
      tail.push(Number.isNaN(t) ? { line: this.tailLine[j]! } : { line: this.tailLine[j]!, time: t });
    }
    const st: GroupAggState = {
      id: this.id, family: this.family, who, records: this.records, firstLine: this.firstLine, lastLine: this.lastLine,
      printedBy: [...this.printedBy], kinds: this.kinds.entries(), reasons: [...this.reasons], access: this.access.entries(),
      pasids: [...this.pasids], domains: [...this.domains], guestConsoles: [...this.guestConsoles], drivers: [...this.drivers],
      contextBanks: [...this.contextBanks], sampleLines: this.sampleLines, tail, pages: this.pages.exportState(),
      storm: this.storm.exportState(), symptoms: this.symptoms, symptomTotal: this.symptomTotal,
    };
    if (this.iommu !== undefined) st.iommu = this.iommu;
    if (this.device !== undefined) st.device = this.device;
    if (this.first !== undefined) st.first = this.first;
    if (this.last !== undefined) st.last = this.last;
    if (this.streamId !== undefined) st.streamId = this.streamId;
    return st;
  }

  /** Fold in the same group's aggregates from the next part of the log, its lines shifted by `off`. */
  mergeState(st: GroupAggState, off: number): void {
    if (this.records === 0) this.firstLine = st.firstLine + off;
    if (st.records > 0) this.lastLine = st.lastLine + off;
    this.records += st.records;
    if (st.first !== undefined && this.first === undefined) this.first = st.first;
    if (st.last !== undefined) this.last = st.last;
    for (const h of st.printedBy) this.printedBy.add(h);
    for (const [k, n] of st.kinds) this.kinds.addCount(k, n);
    for (const [k, n] of st.access) this.access.addCount(k, n);
    for (const [k, r] of st.reasons) {
      const c = this.reasons.get(k);
      if (c) c.count += r.count;
      else if (this.reasons.size < MAX_REASONS) this.reasons.set(k, { ...r });
    }
    for (const v of st.pasids) addCapped(this.pasids, v);
    for (const v of st.domains) addCapped(this.domains, v, 16);
    for (const v of st.guestConsoles) addCapped(this.guestConsoles, v, 16);
    for (const v of st.drivers) addCapped(this.drivers, v, 8);
    for (const v of st.contextBanks) addCapped(this.contextBanks, v, 16);
    for (const l of st.sampleLines) if (this.sampleLines.length < SAMPLE_LINES) this.sampleLines.push(l + off);
    if (this.streamId === undefined && st.streamId !== undefined) this.streamId = st.streamId;
    for (const t of st.tail) {
      this.tailLine[this.tailAt] = t.line + off;
      this.tailTime[this.tailAt] = t.time ?? NaN;
      this.tailAt = (this.tailAt + 1) % TAIL;
    }
    this.pages.mergeState(st.pages);
    this.storm.mergeState(st.storm, off);
    for (const m of st.symptoms) this.attach({ ...m, line: m.line + off, lastLine: m.lastLine + off });
    this.symptomTotal += st.symptomTotal - st.symptoms.length;
  }

  attach(s: SymptomMatch): void {
    this.symptomTotal++;
    if (this.symptoms.length < MAX_SYMPTOMS) this.symptoms.push(s);
  }

  /** The most frequent reason. */
  topReason(): ReasonCount | undefined {
    let best: ReasonCount | undefined;
    for (const r of this.reasons.values()) if (!best || r.count > best.count) best = r;
    return best;
  }

  /** `walkSamples`: include the pages to walk and the page ranges (left empty for groups too small to be reported). */
  build(walkSamples = true): FaultGroup {
    const g: FaultGroup = {
      id: this.id,
      family: this.family,
      printedBy: [...this.printedBy],
      records: this.records,
      kinds: this.kinds.sorted().map(([kind, count]) => ({ kind, count })),
      reasons: [...this.reasons.values()].sort((a, b) => b.count - a.count),
      access: this.access.sorted().map(([access, count]) => ({ access, count })),
      pasids: [...this.pasids],
      domains: [...this.domains],
      guestConsoles: [...this.guestConsoles],
      drivers: [...this.drivers],
      firstLine: this.firstLine,
      lastLine: this.lastLine,
      sampleLines: this.sampleLines,
      pages: this.pages.summary(walkSamples ? 16 : 0),
      pageSamples: walkSamples ? this.pages.samples(WALK_SAMPLES) : [],
      storms: this.storm.storms,
      symptoms: this.symptoms,
      symptomTotal: this.symptomTotal,
    };
    if (this.iommu !== undefined) g.iommu = this.iommu;
    if (this.device !== undefined) g.device = this.device;
    if (this.streamId !== undefined) g.streamId = this.streamId;
    if (this.contextBanks.size) g.contextBanks = [...this.contextBanks].sort((a, b) => a - b);
    if (this.first !== undefined) g.first = this.first;
    if (this.last !== undefined) g.last = this.last;
    return g;
  }
}
