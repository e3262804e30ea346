/**
 * A log analysed in parts (parallel reports): each part is analysed by a PartsAnalyzer created
 * with `part: { ownFrom: 1 }` on a worker and exported with chunkState(); the main thread's
 * PartsAnalyzer absorbs the parts in log order and produces the Analysis of the whole.
 */
import type { SymptomHit } from './symptoms';
import { GroupAgg, type GroupAggState } from './groups';
import { StormStream, type StormStreamState } from './storms';
import { PrRecorder, replayPrEvents, type PrEvent } from './page-requests';
import { LogAnalyzer, MAX_ALIASES } from './analyzer';

/** One part of a log analysed on its own (lines numbered from 1 within the part), for absorb(). */
export interface ChunkState {
  lines: number;
  records: number;
  suppressedNotices: number;
  suppressed: number;
  first?: number;
  last?: number;
  groups: GroupAggState[];
  other?: GroupAggState;
  foldedGroups: number;
  iommus: { family: string; iommu?: string; printedBy: ('xen' | 'linux')[]; stream: StormStreamState }[];
  prEvents: PrEvent[];
  unattributed: SymptomHit[];
  symptomsSeen: number;
  attributed: number;
  aliases: [string, string][];
  pvBackendLines: number;
  pvLastLine: number;
  /** the part's first and last symptom (a run of one symptom may continue across parts) */
  firstHitLine?: number;
  lastHit?: SymptomHit;
}

export class PartsAnalyzer extends LogAnalyzer {
  /** This part's aggregates as plain data (call after end()). */
  chunkState(lines: number): ChunkState {
    const groups: GroupAggState[] = [];
    for (const [who, list] of this.groups) for (const g of list) groups.push(g.exportState(who));
    // in creation order (g1, g2, ...), so that the whole log numbers its groups as one pass would
    groups.sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)));
    const st: ChunkState = {
      lines, records: this.records, suppressedNotices: this.suppressedNotices, suppressed: this.suppressed,
      groups, foldedGroups: this.foldedGroups,
      iommus: [...this.iommus.values()].map((i) => ({ family: i.family, ...(i.iommu !== undefined ? { iommu: i.iommu } : {}), printedBy: [...i.printedBy], stream: i.stream.exportState() })),
      prEvents: this.pr instanceof PrRecorder ? this.pr.events : [],
      unattributed: this.unattributed, symptomsSeen: this.symptomsSeen, attributed: this.attributed,
      aliases: [...this.aliases], pvBackendLines: this.pvBackendLines, pvLastLine: this.pvLastLine,
    };
    if (this.other) st.other = this.other.exportState('');
    if (this.firstHitLine !== undefined) st.firstHitLine = this.firstHitLine;
    if (this.lastHit) st.lastHit = this.lastHit;
    if (this.first !== undefined) st.first = this.first;
    if (this.last !== undefined) st.last = this.last;
    return st;
  }

  /**
   * Fold in the next part of the log, analysed elsewhere (its lines shifted by `offset`, the
   * lines of the parts before it). Parts must come in log order. Symptoms the part could not
   * place are tried against the earlier parts' faults; page-request events are replayed in order.
   */
  absorb(part: ChunkState, offset: number): void {
    if (this.parts === 0) {
      // lines this analyzer read itself come first: their storms end (or go on) at the cut
      for (const list of this.groups.values()) for (const g of list) g.storm.finish();
      this.other?.storm.finish();
      for (const i of this.iommus.values()) i.stream.finish();
    }
    this.parts++;
    this.records += part.records;
    this.suppressedNotices += part.suppressedNotices;
    this.suppressed += part.suppressed;
    if (part.first !== undefined && (this.first === undefined || part.first < this.first)) this.first = part.first;
    if (part.last !== undefined && (this.last === undefined || part.last > this.last)) this.last = part.last;
    this.maxLine = offset + part.lines;
    for (const [n, d] of part.aliases) if (this.aliases.size < MAX_ALIASES) this.aliases.set(n, d);
    this.symptomsSeen += part.symptomsSeen;
    this.attributed += part.attributed;
    const firstRecord = Math.min(...part.groups.map((g) => g.firstLine), part.other?.firstLine ?? Infinity);
    let lastHitCopy: SymptomHit | undefined;
    for (const h0 of part.unattributed) {
      const h = { ...h0, line: h0.line + offset, lastLine: h0.lastLine + offset };
      if (h0 === part.lastHit) lastHitCopy = h;
      const prev = this.lastHit;
      // the part's first symptom may continue a run of the previous part's last one
      if (h0.line === part.firstHitLine && prev && prev.rule === h.rule && (prev.device ?? prev.source) === (h.device ?? h.source) &&
          h.line - prev.lastLine <= 8 && this.lastRecordLine <= prev.lastLine && firstRecord > h0.line) {
        prev.count += h.count;
        prev.lastLine = h.lastLine;
        for (const m of this.lastMatches) { m.count = prev.count; m.lastLine = h.lastLine; }
        if (h0 === part.lastHit) lastHitCopy = prev;
        continue;
      }
      this.lastMatches = [];
      this.correlate(h);
      if (this.unattributed[this.unattributed.length - 1] === h) this.lastHit = h;
    }
    const touched: GroupAgg[] = [];
    for (const gs of part.groups) {
      let list = this.groups.get(gs.who);
      let g = list?.find((x) => x.family === gs.family && x.iommu === gs.iommu);
      if (!g) {
        if (this.groupCount >= this.opts.maxGroups) {
          this.foldedGroups += gs.records;
          this.other ??= new GroupAgg('(other)', gs.family, undefined, undefined, this.opts.storm, this.opts.pagesPerGroup, this.budget);
          this.other.mergeState(gs, offset);
          continue;
        }
        g = new GroupAgg(`g${++this.groupCount}`, gs.family, gs.iommu, gs.device, this.opts.storm, this.opts.pagesPerGroup, this.budget);
        if (!list) this.groups.set(gs.who, (list = []));
        list.push(g);
        if (gs.device) this.byDevice.set(gs.device, [...(this.byDevice.get(gs.device) ?? []), g]);
      }
      for (const d of gs.drivers) {
        const l = this.byDriver.get(d) ?? [];
        if (!l.includes(g)) { l.push(g); this.byDriver.set(d, l); }
      }
      g.mergeState(gs, offset);
      touched.push(g);
    }
    if (part.other) {
      this.other ??= new GroupAgg('(other)', part.other.family, undefined, undefined, this.opts.storm, this.opts.pagesPerGroup, this.budget);
      this.other.mergeState(part.other, offset);
    }
    this.foldedGroups += part.foldedGroups;
    this.recent = touched.sort((a, b) => b.lastLine - a.lastLine).slice(0, 8);
    for (const g of touched) if (g.lastLine > this.lastRecordLine) this.lastRecordLine = g.lastLine;
    if (part.lastHit) {
      const line = part.lastHit.line + offset;
      this.lastHit = lastHitCopy ?? { ...part.lastHit, line, lastLine: part.lastHit.lastLine + offset };
      this.lastMatches = lastHitCopy ? this.lastMatches : touched.flatMap((g) => g.symptoms.filter((m) => m.line === line && m.rule === part.lastHit!.rule));
    }
    for (const is of part.iommus) {
      const key = `${is.family}\u0000${is.iommu ?? ''}`;
      let i = this.iommus.get(key);
      if (!i) {
        i = { family: is.family, stream: new StormStream(this.opts.storm, 2048, this.budget), printedBy: new Set() };
        if (is.iommu !== undefined) i.iommu = is.iommu;
        this.iommus.set(key, i);
      }
      for (const h of is.printedBy) i.printedBy.add(h);
      i.stream.mergeState(is.stream, offset);
    }
    replayPrEvents(this.pr, part.prEvents, offset);
    this.pvBackendLines += part.pvBackendLines;
    if (part.pvBackendLines) this.pvLastLine = part.pvLastLine + offset;
  }

}
