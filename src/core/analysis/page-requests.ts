/**
 * Lifecycle of recoverable faults: PCIe page-request groups (Intel PRQ, SMMUv3 PRI, AMD-Vi PPR,
 * generic dev_fault traces) and stalled transactions (SMMUv3 stall events, SMMUv2 FSR.SS), from
 * what the log shows of requests, responses, handler removal and queue overflows.
 *
 * A group is keyed by (device, PASID, group index). States:
 *   pending        no response seen (yet)
 *   answered       a response was seen or the driver's print implies one (success / invalid / failure / unknown)
 *   auto-answered  the handler went away (io-pgfault abort, device detached) and the core answered
 *   spurious       a response for which no request of that PASID and group was outstanding
 *   stale          a response to a group whose handler/PASID went away since the request (re-allocated PASID)
 *   lost           the request queue overflowed or restarted (records of kind queue-error, seq# going back)
 * Memory is bounded: open groups are capped, finished groups are counted with a few samples kept.
 */
import type { FaultRecord } from '../logs/record';

export type PrState = 'pending' | 'answered' | 'auto-answered' | 'spurious' | 'stale' | 'lost';
export type PrResponse = 'success' | 'invalid' | 'failure' | 'unknown';

export const PR_STATES: readonly PrState[] = ['pending', 'answered', 'auto-answered', 'spurious', 'stale', 'lost'];

export interface PageRequestGroup {
  kind: 'page-request' | 'stall' | 'response';
  state: PrState;
  family: string;
  iommu?: string;
  device?: string;
  streamId?: string;
  pasid?: string;
  /** PRG index, SMMUv3 STAG, AMD PPR tag, or the context bank of an SMMUv2 stall */
  group: string;
  /** requests seen in the group */
  requests: number;
  /** the last request of the group (LPIG / L / PPR tag bit 9) was seen */
  complete: boolean;
  firstLine: number;
  lastLine: number;
  first?: number;
  last?: number;
  iova?: string;
  access?: string;
  /** Intel prq_report sequence numbers of the group's requests */
  seq?: { first: number; last: number };
  response?: PrResponse;
  /** what answered: the driver's print, a dev_page_response trace, the IOMMU core, ... */
  answeredBy?: string;
  answerLine?: number;
  answerTime?: number;
  note?: string;
}

export interface QueueLoss {
  family: string;
  iommu?: string;
  line: number;
  time?: number;
  what: string;
}

export interface SeqGap {
  iommu: string;
  /** last sequence number seen before the gap, and the one after it */
  after: number;
  next: number;
  missing: number;
  line: number;
}

export interface PageRequestSummary {
  counts: Record<PrState, number>;
  /** groups still waiting at the end of the log, in log order */
  pending: PageRequestGroup[];
  /** a few finished groups of each state, in log order */
  samples: PageRequestGroup[];
  losses: QueueLoss[];
  seqGaps: SeqGap[];
  /** open groups not tracked because the cap was reached (counted as pending) */
  untracked: number;
}

const MAX_OPEN = 20_000;
const MAX_CLOSED_KEYS = 20_000;
const SAMPLES_PER_STATE = 20;
const MAX_LOSSES = 200;
const MAX_GAPS = 100;

function dec(d: Record<string, unknown> | undefined, k: string): unknown {
  return d ? d[k] : undefined;
}

function numberOf(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^(?:0x[0-9a-f]{1,8}|\d{1,10})$/i.test(v)) return Number(v);
  return undefined;
}

/** Who is behind a request: the PCI device when printed, else the stream on its IOMMU. */
function deviceKey(r: FaultRecord): string {
  if (r.device) return r.device;
  return `${r.iommu ?? r.family} sid ${r.streamId ?? '?'}`;
}

function groupKey(dev: string, pasid: string | undefined, group: string): string {
  return `${dev}\u0000${pasid ?? '-'}\u0000${group}`;
}

interface RequestFacts {
  kind: 'page-request' | 'stall';
  group: string;
  last: boolean;
  seq?: number;
  /** the driver answered this request itself, as its print says */
  answered?: { response: PrResponse; by: string };
  note?: string;
}

function hasOverflowReason(r: FaultRecord): boolean {
  const n = r.reason?.name ?? '';
  return /OVERFLOW|LOG_RESTART|PRIQ_ABT/.test(n);
}

/** What a record says about a page request or a stalled transaction, if anything. */
function requestFacts(r: FaultRecord): RequestFacts | undefined {
  const d = r.decoded as Record<string, unknown> | undefined;
  if (r.kind === 'page-request') {
    const prq = dec(d, 'prq') as Record<string, unknown> | undefined;
    if (prq) {
      const idx = numberOf(prq.prgIndex);
      const last = prq.lpig === true;
      const f: RequestFacts = { kind: 'page-request', group: idx !== undefined ? String(idx) : '?', last };
      const seq = numberOf(prq.seq);
      if (seq !== undefined) f.seq = seq;
      // handle_bad_prq_event(): QI_RESP_INVALID when the request is the last of its group
      if (r.reason && last) f.answered = { response: 'invalid', by: `intel-iommu (${r.reason.name ?? 'bad request'}: answered INVALID)` };
      return f;
    }
    if (r.family === 'intel-vtd' && r.reason) {
      return { kind: 'page-request', group: '?', last: true, answered: { response: 'invalid', by: `intel-iommu (${r.reason.name ?? 'bad request'})` }, note: 'descriptor not printed: group index unknown' };
    }
    const grp = numberOf(dec(d, 'grpid'));
    if (grp !== undefined) {
      const last = dec(d, 'last') === true;
      const f: RequestFacts = { kind: 'page-request', group: String(grp), last };
      // arm-smmu-v3 without an IOPF handler denies the group on its last request (PRI_RESP_DENY)
      if (r.family === 'arm-smmu-v3' && last) f.answered = { response: 'invalid', by: 'arm-smmu-v3 (unexpected PRI request: PRI_RESP_DENY)' };
      return f;
    }
    const tag = numberOf(r.registers?.tag);
    if (r.family === 'amd-vi') {
      const f: RequestFacts = { kind: 'page-request', group: tag !== undefined ? String(tag & 0x1ff) : '?', last: tag !== undefined ? (tag & 0x200) !== 0 : true };
      if (/unknown request type/i.test(r.reason?.text ?? '')) {
        f.note = 'PPR entry of an unknown type: Linux drops it without a response';
        return f;
      }
      f.answered = { response: 'failure', by: 'amd-iommu (COMPLETE_PPR with failure status)' };
      return f;
    }
    return { kind: 'page-request', group: '?', last: true, note: 'group index not printed' };
  }
  if (r.family === 'arm-smmu-v3' && r.kind === 'event') {
    const ev = dec(d, 'event') as Record<string, unknown> | undefined;
    if (ev?.stall === true) return { kind: 'stall', group: String(ev.stag ?? '?'), last: true };
    return undefined;
  }
  if (r.family === 'arm-smmu' && r.kind === 'context-fault') {
    const fsr = dec(d, 'fsr') as Record<string, unknown> | undefined;
    const raw = r.registers?.fsr;
    const ss = fsr ? fsr.SS === true : raw !== undefined && (Number.parseInt(raw, 16) & 0x40000000) !== 0;
    if (ss) return { kind: 'stall', group: `cb${r.contextBank ?? '?'}`, last: true };
  }
  return undefined;
}

/** What the analyzer tells the lifecycle tracker (a parallel report records it per part and replays it in order). */
export interface PrSink {
  record(r: FaultRecord): void;
  handlerRemoved(device: string, line: number, time: number | undefined, what: string): void;
  pasidReleased(pasid: string, device: string | undefined, line: number, time: number | undefined, what: string): void;
}

export type PrEvent =
  | { t: 'record'; r: FaultRecord }
  | { t: 'handler'; device: string; line: number; time?: number; what: string }
  | { t: 'pasid'; pasid: string; device?: string; line: number; time?: number; what: string };

/** Keeps the events of one part of the log, in order. */
export class PrRecorder implements PrSink {
  readonly events: PrEvent[] = [];
  record(r: FaultRecord): void { this.events.push({ t: 'record', r }); }
  handlerRemoved(device: string, line: number, time: number | undefined, what: string): void {
    this.events.push(time !== undefined ? { t: 'handler', device, line, time, what } : { t: 'handler', device, line, what });
  }
  pasidReleased(pasid: string, device: string | undefined, line: number, time: number | undefined, what: string): void {
    const e: PrEvent = { t: 'pasid', pasid, line, what };
    if (device !== undefined) e.device = device;
    if (time !== undefined) e.time = time;
    this.events.push(e);
  }
}

/** Replay a part's events into a tracker, lines shifted by `off`. */
export function replayPrEvents(sink: PrSink, events: readonly PrEvent[], off: number): void {
  for (const e of events) {
    if (e.t === 'record') {
      const r = { ...e.r, line: e.r.line + off };
      if (e.r.endLine !== undefined) r.endLine = e.r.endLine + off;
      sink.record(r);
    } else if (e.t === 'handler') sink.handlerRemoved(e.device, e.line + off, e.time, e.what);
    else sink.pasidReleased(e.pasid, e.device, e.line + off, e.time, e.what);
  }
}

export class PageRequestTracker implements PrSink {
  private readonly open = new Map<string, PageRequestGroup>();
  /** keys of groups whose handler went away (device detached, PASID re-allocated): a later response is stale */
  private readonly closedByHandler = new Map<string, number>();
  private readonly counts: Record<PrState, number> = { pending: 0, answered: 0, 'auto-answered': 0, spurious: 0, stale: 0, lost: 0 };
  private readonly samples: PageRequestGroup[] = [];
  private readonly perState: Record<PrState, number> = { pending: 0, answered: 0, 'auto-answered': 0, spurious: 0, stale: 0, lost: 0 };
  private readonly losses: QueueLoss[] = [];
  private readonly gaps: SeqGap[] = [];
  private readonly lastSeq = new Map<string, number>();
  private untracked = 0;

  record(r: FaultRecord): void {
    if (r.kind === 'page-response') { this.response(r); return; }
    if (r.kind === 'queue-error' && hasOverflowReason(r)) { this.loss(r); return; }
    const f = requestFacts(r);
    if (f) this.request(r, f);
  }

  /** The device's fault handler went away (detached from its domain, removed from its group). */
  handlerRemoved(device: string, line: number, time: number | undefined, what: string): void {
    for (const [k, g] of this.open) {
      if (g.device !== device) continue;
      this.open.delete(k);
      this.remember(k, line);
      this.finish(g, 'auto-answered', undefined, `handler removed (${what})`, line, time,
        'the handler went away with this group outstanding: the IOMMU core answers such groups when the device leaves its fault queue (recent kernels); older kernels may leave the device waiting');
    }
  }

  /** A PASID was freed (io_mm_free) or unbound from a device (io_mm_unbind_free, io_mm_detach): its groups lose their handler. */
  pasidReleased(pasid: string, device: string | undefined, line: number, time: number | undefined, what: string): void {
    for (const [k, g] of this.open) {
      if (g.pasid !== pasid || (device !== undefined && g.device !== device)) continue;
      this.open.delete(k);
      this.remember(k, line);
      this.finish(g, 'auto-answered', undefined, `PASID released (${what})`, line, time,
        'the PASID went away with this group outstanding; a response arriving later is stale (the PASID may already belong to another address space)');
    }
  }

  private remember(key: string, line: number): void {
    if (this.closedByHandler.size >= MAX_CLOSED_KEYS) {
      const oldest = this.closedByHandler.keys().next().value;
      if (oldest !== undefined) this.closedByHandler.delete(oldest);
    }
    this.closedByHandler.set(key, line);
  }

  private request(r: FaultRecord, f: RequestFacts): void {
    const dev = deviceKey(r);
    const pasid = r.pasid ?? r.substreamId;
    const key = groupKey(dev, pasid, f.group);
    if (f.seq !== undefined && r.iommu) this.sequence(r.iommu, f.seq, r.line, r.time);
    let g = this.open.get(key);
    if (g && (g.complete || f.kind === 'stall')) {
      // The device reused the group index (or the bank stalled again): the earlier group was answered unseen.
      this.open.delete(key);
      this.finish(g, 'answered', 'unknown', f.kind === 'stall' ? 'not in the log (the bank faulted again, so it was resumed or terminated)' : 'not in the log (the device reused the group index)', r.line, r.time);
      g = undefined;
    }
    if (!g) {
      if (!f.answered && this.open.size >= MAX_OPEN) { this.untracked++; return; }
      g = { kind: f.kind, state: 'pending', family: r.family, group: f.group, requests: 0, complete: false, firstLine: r.line, lastLine: r.line };
      if (r.iommu) g.iommu = r.iommu;
      if (r.device) g.device = r.device;
      if (r.streamId) g.streamId = r.streamId;
      if (pasid) g.pasid = pasid;
      if (r.time !== undefined) g.first = r.time;
      if (r.iova) g.iova = r.iova;
      if (r.access) g.access = r.access;
      if (f.note) g.note = f.note;
      if (!f.answered) this.open.set(key, g);
    }
    g.requests++;
    g.lastLine = r.line;
    if (r.time !== undefined) g.last = r.time;
    if (f.seq !== undefined) g.seq = g.seq ? { first: g.seq.first, last: f.seq } : { first: f.seq, last: f.seq };
    if (f.last) g.complete = true;
    if (f.answered) {
      this.open.delete(key);
      this.finish(g, 'answered', f.answered.response, f.answered.by, r.line, r.time);
    }
  }

  private sequence(iommu: string, seq: number, line: number, time: number | undefined): void {
    const prev = this.lastSeq.get(iommu);
    this.lastSeq.set(iommu, seq);
    if (prev === undefined) return;
    if (seq > prev + 1 && this.gaps.length < MAX_GAPS) this.gaps.push({ iommu, after: prev, next: seq, missing: seq - prev - 1, line });
    if (seq <= prev) {
      // The IOMMU's counter restarted: it was reset or re-initialised; what was outstanding is gone.
      for (const [k, g] of this.open) {
        if (g.iommu !== iommu) continue;
        this.open.delete(k);
        this.remember(k, line);
        this.finish(g, 'lost', undefined, undefined, line, time, `the request sequence of ${iommu} restarted (seq# ${seq} after ${prev}): the IOMMU was reset with this group outstanding`);
      }
    }
  }

  private response(r: FaultRecord): void {
    const d = r.decoded as Record<string, unknown> | undefined;
    const dev = deviceKey(r);
    const pasid = r.pasid;
    if (d?.auto === true) {
      // io-pgfault answered every group of this PASID that it held
      let any = false;
      for (const [k, g] of this.open) {
        if ((g.device ?? '') !== dev || g.pasid !== pasid) continue;
        this.open.delete(k);
        this.finish(g, 'auto-answered', 'failure', `IOMMU core (${r.reason?.name ?? 'iopf aborted'}, line ${r.line})`, r.line, r.time);
        any = true;
      }
      if (!any) this.orphanResponse(r, 'answered', 'failure', 'IOMMU core answered a group that this log does not show (its request was not traced)');
      return;
    }
    const code = typeof d?.response === 'string' ? (d.response as PrResponse) : 'unknown';
    if (typeof d?.stag === 'string') { this.resume(r, d.stag, code); return; }
    const grp = numberOf(d?.grpid);
    const key = groupKey(dev, pasid, grp !== undefined ? String(grp) : '?');
    const g = this.open.get(key);
    if (g) {
      this.open.delete(key);
      this.finish(g, 'answered', code, `dev_page_response (line ${r.line})`, r.line, r.time);
      return;
    }
    const closedAt = this.closedByHandler.get(key);
    if (closedAt !== undefined) {
      this.orphanResponse(r, 'stale', code, `a response to group ${grp} of PASID ${pasid ?? '-'} whose handler went away at line ${closedAt} (detached, or the PASID was freed and re-allocated): it must not reach the new owner of the PASID`);
      return;
    }
    this.orphanResponse(r, 'spurious', code, `no request of PASID ${pasid ?? '-'} group ${grp ?? '?'} is outstanding for ${dev}`);
  }

  /** CMD_RESUME of a stalled SMMUv3 transaction: the stall of that StreamID and STAG. */
  private resume(r: FaultRecord, stag: string, code: PrResponse): void {
    for (const [k, g] of this.open) {
      if (g.kind !== 'stall' || g.group !== stag || g.streamId !== r.streamId) continue;
      this.open.delete(k);
      this.finish(g, 'answered', code, `CMD_RESUME ${String((r.decoded as Record<string, unknown>).resp)} (smmu_resume, line ${r.line})`, r.line, r.time);
      return;
    }
    this.orphanResponse(r, 'spurious', code, `no stalled transaction with STAG ${stag} is outstanding for stream ${r.streamId ?? '?'}`);
  }

  private orphanResponse(r: FaultRecord, state: PrState, response: PrResponse, note: string): void {
    const d = r.decoded as Record<string, unknown> | undefined;
    const grp = numberOf(d?.grpid);
    const g: PageRequestGroup = {
      kind: 'response', state, family: r.family, group: grp !== undefined ? String(grp) : typeof d?.stag === 'string' ? d.stag : '?', requests: 0, complete: false,
      firstLine: r.line, lastLine: r.line, response, answerLine: r.line, note,
    };
    if (r.device) g.device = r.device;
    if (r.streamId) g.streamId = r.streamId;
    if (r.pasid) g.pasid = r.pasid;
    if (r.time !== undefined) { g.first = r.time; g.answerTime = r.time; }
    this.count(g);
  }

  private loss(r: FaultRecord): void {
    const l: QueueLoss = { family: r.family, line: r.line, what: r.reason?.text ?? r.reason?.name ?? 'queue overflow' };
    if (r.iommu) l.iommu = r.iommu;
    if (r.time !== undefined) l.time = r.time;
    this.counts.lost++;
    if (this.losses.length < MAX_LOSSES) this.losses.push(l);
  }

  private finish(g: PageRequestGroup, state: PrState, response: PrResponse | undefined, by: string | undefined, line: number, time: number | undefined, note?: string): void {
    g.state = state;
    if (response) g.response = response;
    if (by) g.answeredBy = by;
    g.answerLine = line;
    if (time !== undefined) g.answerTime = time;
    if (note) g.note = g.note ? `${g.note}; ${note}` : note;
    this.count(g);
  }

  private count(g: PageRequestGroup): void {
    this.counts[g.state]++;
    if (this.perState[g.state] < SAMPLES_PER_STATE) { this.perState[g.state]++; this.samples.push(g); }
  }

  summary(): PageRequestSummary {
    const pending = [...this.open.values()].sort((a, b) => a.firstLine - b.firstLine);
    for (const g of pending) {
      if (g.kind === 'stall' && g.family === 'arm-smmu-v3') {
        g.note = 'no response in the log; Linux prints a stall event only when no handler took it, and then terminates the transaction (CMD_RESUME abort)';
      } else if (g.kind === 'stall') {
        g.note = 'stalled (FSR.SS) with no RESUME visible: Linux arm-smmu terminates on handler return unless the client driver (e.g. Adreno) resumes it later';
      } else if (!g.complete) {
        const loss = this.losses.find((l) => l.line > g.firstLine && (l.iommu === undefined || g.iommu === undefined || l.iommu === g.iommu));
        g.note = loss ? `the group's last request never came; the queue overflow at line ${loss.line} may have dropped it` : 'the group\'s last request was not seen';
      }
    }
    const counts = { ...this.counts, pending: this.counts.pending + pending.length + this.untracked };
    return {
      counts,
      pending,
      samples: [...this.samples].sort((a, b) => a.firstLine - b.firstLine),
      losses: this.losses,
      seqGaps: this.gaps,
      untracked: this.untracked,
    };
  }
}
