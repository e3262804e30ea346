/**
 * Groups the records of one log for the tree: IOMMU instance → device/stream → kind/reason.
 * Kept free of 'vscode' so it is unit-tested directly. Memory stays bounded on fault storms:
 * each group counts every record but keeps only its first SAMPLE records.
 */
import type { FaultRecord } from '../core/logs/record';

export const SAMPLE = 200;
/** distinct groups kept; a hostile log with millions of distinct devices folds the rest into "(other)" */
export const MAX_GROUPS = 20_000;
const OTHER = '(other: too many distinct groups)';

export interface Group {
  /** stable id: keeps tree expansion state across refreshes */
  id: string;
  label: string;
  count: number;
  first?: number;
  last?: number;
  firstLine: number;
  lastLine: number;
  /** first records of the group, in log order */
  samples: FaultRecord[];
}

export interface KindGroup extends Group {
  kind: string;
  reasonName?: string;
  reasonText?: string;
}

export interface DeviceGroup extends Group {
  kinds: Map<string, KindGroup>;
}

export interface IommuGroup extends Group {
  family: string;
  iommu?: string;
  devices: Map<string, DeviceGroup>;
}

/** Records still waiting for a response: page requests and stalled transactions. */
export interface PendingGroup extends Group {
  pageRequests: number;
  stalls: number;
}

/** How the tree names the requester of a record. */
export function deviceLabel(r: FaultRecord): string {
  if (r.device) return r.device;
  if (r.streamId !== undefined) return `stream ${r.streamId}`;
  if (r.contextBank !== undefined) return `context bank ${r.contextBank}`;
  if (r.domain !== undefined) return `domain ${r.domain}`;
  return '(requester not printed)';
}

export function kindLabel(r: FaultRecord): string {
  const reason = r.reason?.name ?? (r.reason?.code !== undefined ? String(r.reason.code) : undefined);
  return reason ? `${r.kind}: ${reason}` : r.kind;
}

export function iommuLabel(r: FaultRecord): string {
  return r.iommu ?? '(instance not printed)';
}

/**
 * A stalled transaction waits for software to resume or terminate it. Detected from what the
 * record carries: SMMUv2 FSR.SS (bit 30), an SMMUv3 event with its Stall bit (the decoders put
 * it in `decoded`), or a printed `stall` flag.
 */
export function isStall(r: FaultRecord): boolean {
  if (r.family === 'arm-smmu' && r.registers?.['fsr']) {
    const v = Number.parseInt(r.registers['fsr'], 16);
    if (Number.isFinite(v) && (v & (1 << 30)) !== 0) return true;
  }
  const d = r.decoded as Record<string, unknown> | undefined;
  if (!d) return false;
  const flagged = (o: Record<string, unknown>) => o['stall'] === true || o['Stall'] === true || o['STALL'] === true || o['SS'] === true;
  if (flagged(d)) return true;
  // decoders nest fields per register (event1.STALL, fsr.SS)
  for (const v of Object.values(d)) if (v && typeof v === 'object' && flagged(v as Record<string, unknown>)) return true;
  return false;
}

export function isPageRequest(r: FaultRecord): boolean {
  return r.kind === 'page-request';
}

function newGroup<T extends Group>(id: string, label: string, r: FaultRecord, extra: Omit<T, keyof Group>): T {
  return { id, label, count: 0, firstLine: r.line, lastLine: r.line, samples: [], ...extra } as unknown as T;
}

function add(g: Group, r: FaultRecord): void {
  g.count++;
  g.lastLine = r.line;
  if (r.time !== undefined) {
    if (g.first === undefined || r.time < g.first) g.first = r.time;
    if (g.last === undefined || r.time > g.last) g.last = r.time;
  }
  if (g.samples.length < SAMPLE) g.samples.push(r);
}

export class FaultIndex {
  readonly iommus = new Map<string, IommuGroup>();
  readonly pending: PendingGroup;
  total = 0;
  suppressed = 0;
  /** groups created so far, at every level */
  private groups = 0;
  /** lines scanned so far (set by the scanner driver) */
  lines = 0;
  first?: number;
  last?: number;

  constructor() {
    this.pending = { id: 'pending', label: 'Pending', count: 0, firstLine: 0, lastLine: 0, samples: [], pageRequests: 0, stalls: 0 };
  }

  /** Add one record to its groups (and to Pending when it waits for a response). */
  add(r: FaultRecord): void {
    if (r.kind === 'storm-suppressed') {
      const n = Number((r.decoded as { suppressed?: unknown } | undefined)?.suppressed ?? 0);
      if (Number.isFinite(n)) this.suppressed += n;
      return;
    }
    this.total++;
    if (r.time !== undefined) {
      if (this.first === undefined || r.time < this.first) this.first = r.time;
      if (this.last === undefined || r.time > this.last) this.last = r.time;
    }
    let ik = `${r.family}|${r.iommu ?? ''}`;
    if (!this.iommus.has(ik) && this.groups >= MAX_GROUPS) ik = `${r.family}|${OTHER}`;
    let ig = this.iommus.get(ik);
    if (!ig) {
      this.groups++;
      ig = newGroup<IommuGroup>(`i:${ik}`, ik.endsWith(OTHER) ? OTHER : iommuLabel(r), r, { family: r.family, iommu: r.iommu, devices: new Map() });
      this.iommus.set(ik, ig);
    }
    add(ig, r);
    let dk = deviceLabel(r);
    if (!ig.devices.has(dk) && this.groups >= MAX_GROUPS) dk = OTHER;
    let dg = ig.devices.get(dk);
    if (!dg) {
      this.groups++;
      dg = newGroup<DeviceGroup>(`${ig.id}|d:${dk}`, dk, r, { kinds: new Map() });
      ig.devices.set(dk, dg);
    }
    add(dg, r);
    let kk = kindLabel(r);
    if (!dg.kinds.has(kk) && this.groups >= MAX_GROUPS) kk = OTHER;
    let kg = dg.kinds.get(kk);
    if (!kg) {
      this.groups++;
      kg = newGroup<KindGroup>(`${dg.id}|k:${kk}`, kk, r, { kind: r.kind, reasonName: r.reason?.name, reasonText: r.reason?.text });
      dg.kinds.set(kk, kg);
    }
    add(kg, r);
    const pr = isPageRequest(r);
    const st = !pr && isStall(r);
    if (pr || st) {
      if (this.pending.count === 0) this.pending.firstLine = r.line;
      add(this.pending, r);
      if (pr) this.pending.pageRequests++;
      else this.pending.stalls++;
    }
  }

  /** Groups in display order: most records first, ties by first appearance. */
  static sorted<T extends Group>(groups: Iterable<T>): T[] {
    return [...groups].sort((a, b) => b.count - a.count || a.firstLine - b.firstLine);
  }

  /** Every kind group with its device and IOMMU parents (for reports and filters). */
  *leaves(): Generator<{ iommu: IommuGroup; device: DeviceGroup; kind: KindGroup }> {
    for (const iommu of FaultIndex.sorted(this.iommus.values()))
      for (const device of FaultIndex.sorted(iommu.devices.values()))
        for (const kind of FaultIndex.sorted(device.kinds.values())) yield { iommu, device, kind };
  }
}

/** Case-insensitive filter over the labels a user sees (family, instance, device, kind, reason). */
export function matchesFilter(filter: string, iommu: IommuGroup, device?: DeviceGroup, kind?: KindGroup): boolean {
  const f = filter.trim().toLowerCase();
  if (!f) return true;
  const hay = [iommu.family, iommu.label, device?.label, kind?.label, kind?.reasonText].filter(Boolean).join(' ').toLowerCase();
  return f.split(/\s+/).every((w) => hay.includes(w));
}

/** "12.345678 s" or "12.3–45.6 s"; undefined when the log has no timestamps. */
export function timeRange(g: { first?: number; last?: number }): string | undefined {
  if (g.first === undefined) return undefined;
  // six decimals, as the kernel prints its timestamps
  const f = (v: number) => v.toFixed(6);
  if (g.last === undefined || g.last === g.first) return `${f(g.first)} s`;
  return `${f(g.first)}–${f(g.last)} s`;
}
