/**
 * The culprit report: an Analysis turned into per-group verdicts, with storm advice and, when a
 * snapshot is attached, a walk of every distinct faulting page of each group. `buildReport` is
 * what `iommu-lens report` and the editor's Export Report both call; the renderers
 * (render-markdown.ts, render-html.ts, render-json.ts) only format what it returns.
 */
import type { Snapshot } from '../snapshot/types';
import type { Access, Culprit, WalkRequest, WalkResult } from '../walk/types';
import { walk } from '../walk';
import { parseHex } from '../logs/normalize';
import type { Analysis, IommuSummary } from './analyzer';
import type { FaultGroup } from './groups';
import type { PageRequestSummary } from './page-requests';
import type { SymptomHit } from './symptoms';
import { stormAdvice, type StormAdvice } from './storm-advice';

export interface ReportOptions {
  /** the log's path or URI, as the user named it */
  source: string;
  /** ISO time of the report (default: now) */
  generated?: string;
  snapshot?: Snapshot;
  /** how the snapshot is named in the report (default: its path) */
  snapshotName?: string;
  /** groups in the report, most records first (default 200) */
  maxGroups?: number;
  /** distinct pages walked per group, most faults first (default 256) */
  walksPerGroup?: number;
}

export interface WalkOutcome {
  result: 'translated' | 'fault';
  stage?: string;
  reason?: string;
  party: string;
  confidence: Culprit['confidence'];
  pages: number;
  /** one page with this outcome, with the failing step */
  example: { iova: string; failingStep?: string; pa?: string };
}

export interface WalkSummary {
  walked: number;
  /** tracked pages of the group not walked (--walk-pages limit); faults past the tracking cap are pages.untracked */
  notWalked: number;
  outcomes: WalkOutcome[];
}

export interface Verdict {
  party: string;
  confidence: Culprit['confidence'];
  /** where the verdict comes from */
  basis: 'log' | 'snapshot' | 'log+snapshot' | 'none';
  /** the reasoning, one statement per entry */
  why: string[];
}

export interface ReportGroup extends Omit<FaultGroup, 'pageSamples'> {
  title: string;
  verdict: Verdict;
  walks?: WalkSummary;
  /** why the snapshot was not walked for this group */
  walkSkipped?: string;
  advice?: StormAdvice;
}

export interface ReportIommu extends IommuSummary {
  advice?: StormAdvice;
}

export interface Report {
  format: 'iommu-lens-report';
  version: 1;
  source: string;
  generated: string;
  snapshot?: { name: string; model: string; iommu?: string };
  totals: {
    lines: number;
    records: number;
    suppressed: number;
    suppressedNotices: number;
    groups: number;
    first?: number;
    last?: number;
  };
  iommus: ReportIommu[];
  groups: ReportGroup[];
  /** groups left out of the report (beyond maxGroups), and their records */
  omitted: { groups: number; records: number };
  pageRequests: PageRequestSummary;
  symptoms: { seen: number; attributed: number; unattributed: SymptomHit[] };
  notes: string[];
}

const FAMILY_MODELS: Record<string, string> = { 'arm-smmu': 'arm-smmu-v2', 'arm-smmu-v3': 'arm-smmu-v3', 'intel-vtd': 'intel-vtd', 'amd-vi': 'amd-vi' };
const RANK: Record<Culprit['confidence'], number> = { low: 0, medium: 1, high: 2 };
const BY_RANK: Culprit['confidence'][] = ['low', 'medium', 'high'];

export function groupTitle(g: FaultGroup): string {
  const who = g.device ?? (g.streamId !== undefined ? `stream ${g.streamId}` : g.contextBanks?.length ? `context bank ${g.contextBanks.join(',')}` : 'unknown device');
  return `${g.family}${g.iommu ? ` ${g.iommu}` : ''}: ${who}`;
}

/** Why a snapshot cannot be walked for this group, or undefined when it can. */
function notApplicable(snap: Snapshot, g: FaultGroup): string | undefined {
  const want = FAMILY_MODELS[g.family];
  if (want && want !== snap.model) return `the snapshot models ${snap.model}, the faults come from ${g.family}`;
  if (!want && snap.model !== 'arm-lpae' && snap.model !== 'arm-v7s') return `the snapshot (${snap.model}) does not describe a ${g.family} IOMMU`;
  if (snap.name && g.iommu && snap.name !== g.iommu) return `the snapshot is of ${snap.name}, the faults come from ${g.iommu}`;
  if (!g.pageSamples.length) return 'no faulting address was printed';
  return undefined;
}

function accessOfText(a: string | undefined): Access | undefined {
  if (!a) return undefined;
  if (a.includes('write')) return 'write';
  if (a.includes('exec')) return 'exec';
  return a.includes('read') ? 'read' : undefined;
}

function requestFor(g: FaultGroup, iova: string, access: string | undefined, pasid: string | undefined): WalkRequest | undefined {
  const v = parseHex(iova);
  if (v === undefined) return undefined;
  const req: WalkRequest = { iova: v };
  if (g.device && /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(g.device)) req.device = g.device;
  const sid = parseHex(g.streamId);
  if (sid !== undefined && sid <= 0xffffffffn) req.streamId = Number(sid);
  if (g.contextBanks?.length === 1) req.contextBank = g.contextBanks[0]!;
  const p = parseHex(pasid);
  if (p !== undefined && p <= 0xfffffn) req.pasid = Number(p);
  const acc = accessOfText(access);
  if (acc) req.access = acc;
  return req;
}

function failingStep(r: WalkResult): string | undefined {
  const s = [...r.steps].reverse().find((x) => !x.ok) ?? r.steps[r.steps.length - 1];
  if (!s) return undefined;
  return `${s.structure}${s.level !== undefined ? ` level ${s.level}` : ''}${s.address ? ` at ${s.address}` : ''}${s.value !== undefined ? ` = ${s.value}` : ''}${s.rule ? ` (${s.rule})` : ''}`;
}

function walkGroup(snap: Snapshot, g: FaultGroup, max: number): WalkSummary {
  const byOutcome = new Map<string, WalkOutcome>();
  let walked = 0;
  for (const p of g.pageSamples.slice(0, max)) {
    const req = requestFor(g, p.iova, p.access, p.pasid);
    if (!req) continue;
    const r = walk(snap, req, { faulted: true });
    walked++;
    const c = r.culprit!;
    const key = `${r.result}\u0000${r.fault?.stage ?? ''}\u0000${r.fault?.reason.name ?? ''}\u0000${c.party}`;
    const o = byOutcome.get(key);
    if (o) { o.pages++; continue; }
    const out: WalkOutcome = { result: r.result, party: c.party, confidence: c.confidence, pages: 1, example: { iova: p.iova } };
    if (r.fault) { out.stage = r.fault.stage; out.reason = `${r.fault.reason.name}: ${r.fault.reason.text}`; }
    const fs = failingStep(r);
    if (fs && r.result === 'fault') out.example.failingStep = fs;
    if (r.pa) out.example.pa = r.pa;
    byOutcome.set(key, out);
  }
  return {
    walked,
    notWalked: Math.max(0, g.pages.distinct - walked),
    outcomes: [...byOutcome.values()].sort((a, b) => b.pages - a.pages),
  };
}

function verdictFor(g: FaultGroup, walks: WalkSummary | undefined): Verdict {
  const log = g.logCulprit;
  const top = walks?.outcomes[0];
  if (top && walks) {
    const why: string[] = [];
    const share = `${top.pages} of ${walks.walked} walked page${walks.walked === 1 ? '' : 's'}`;
    why.push(top.result === 'translated'
      ? `${share} translate in the snapshot${top.example.pa ? ` (e.g. ${top.example.iova} -> ${top.example.pa})` : ''}`
      : `${share} fail at the ${top.stage} stage: ${top.reason}${top.example.failingStep ? `; e.g. ${top.example.iova}: ${top.example.failingStep}` : ''}`);
    let conf = RANK[top.confidence];
    if (walks.outcomes.length > 1) {
      why.push(`other pages: ${walks.outcomes.slice(1).map((o) => `${o.pages} ${o.result === 'translated' ? 'translate' : `fail at ${o.stage}`}`).join(', ')}`);
      conf = Math.max(0, conf - 1);
    }
    let basis: Verdict['basis'] = 'snapshot';
    if (log) {
      if (log.party === top.party) { basis = 'log+snapshot'; conf = Math.max(conf, RANK[log.confidence] + 1); why.push(`the log's reason agrees: ${log.why}`); }
      else why.push(`the log alone suggested: ${log.party} (${log.why}); the walk of the snapshot is preferred`);
    }
    return { party: top.party, confidence: BY_RANK[Math.min(2, conf)]!, basis, why };
  }
  if (log) return { party: log.party, confidence: log.confidence, basis: 'log', why: [log.why] };
  const kinds = g.kinds.map((k) => k.kind);
  const r = g.reasons[0];
  if (kinds.every((k) => k === 'page-request' || k === 'page-response')) {
    return { party: 'page-request handling (see Page requests and stalls)', confidence: 'low', basis: 'none', why: ['recoverable faults: what matters is whether each group got a response'] };
  }
  if (kinds.includes('command-error') || kinds.includes('queue-error')) {
    return {
      party: 'host IOMMU driver or the IOMMU itself (command/queue handling), not a device driver',
      confidence: 'low',
      basis: 'log',
      why: [`${r?.name ?? kinds.join(', ')}${r?.text ? `: ${r.text}` : ''}`],
    };
  }
  return { party: 'undetermined', confidence: 'low', basis: 'none', why: [r ? `the printed reason (${r.name ?? r.code ?? '?'}) does not name a translation stage` : 'no reason was printed'] };
}

export function buildReport(a: Analysis, opts: ReportOptions): Report {
  const maxGroups = opts.maxGroups ?? 200;
  const walksPerGroup = opts.walksPerGroup ?? 256;
  const snap = opts.snapshot;
  const groups: ReportGroup[] = [];
  for (const g of a.groups.slice(0, maxGroups)) {
    const { pageSamples: _samples, ...rest } = g;
    let walks: WalkSummary | undefined;
    let walkSkipped: string | undefined;
    if (snap) {
      walkSkipped = notApplicable(snap, g);
      if (!walkSkipped) walks = walkGroup(snap, g, walksPerGroup);
    }
    const rg: ReportGroup = { ...rest, title: groupTitle(g), verdict: verdictFor(g, walks) };
    if (walks) rg.walks = walks;
    if (walkSkipped) rg.walkSkipped = walkSkipped;
    if (g.storms.length) rg.advice = stormAdvice(g.family, g.printedBy.includes('xen') ? 'xen' : 'linux');
    groups.push(rg);
  }
  const omittedGroups = a.groups.slice(maxGroups);
  const iommus: ReportIommu[] = a.iommus.map((i) => (i.storms.length ? { ...i, advice: stormAdvice(i.family, i.printedBy.includes('xen') ? 'xen' : 'linux') } : { ...i }));
  const notes: string[] = [];
  if (a.foldedGroups) notes.push(`${a.foldedGroups} records of devices beyond the group limit are counted in the "(other)" group.`);
  if (omittedGroups.length) notes.push(`${omittedGroups.length} smaller groups are not listed (limit ${maxGroups}).`);
  if (a.pageRequests.untracked) notes.push(`${a.pageRequests.untracked} page-request groups were past the tracking limit: counted as pending, not listed.`);
  if (!snap) notes.push('No snapshot attached: culprits come from the printed reasons only. Attach one (--snapshot) to walk every faulting page.');
  const r: Report = {
    format: 'iommu-lens-report',
    version: 1,
    source: opts.source,
    generated: opts.generated ?? new Date().toISOString(),
    totals: {
      lines: a.lines, records: a.records, suppressed: a.suppressed, suppressedNotices: a.suppressedNotices, groups: a.groups.length,
      ...(a.first !== undefined ? { first: a.first, last: a.last! } : {}),
    },
    iommus,
    groups,
    omitted: { groups: omittedGroups.length, records: omittedGroups.reduce((s, g) => s + g.records, 0) },
    pageRequests: a.pageRequests,
    symptoms: a.symptoms,
    notes,
  };
  if (snap) r.snapshot = { name: opts.snapshotName ?? snap.path, model: snap.model, ...(snap.name ? { iommu: snap.name } : {}) };
  return r;
}
