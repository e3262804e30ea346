/**
 * The report as a small neutral document (headings, paragraphs, tables, lists, quoted log
 * text), so that Markdown and HTML carry exactly the same content. Text stays plain here: each
 * renderer escapes every string itself.
 */
import type { Report, ReportGroup } from './report';
import type { Storm } from './storms';
import type { StormAdvice } from './storm-advice';
import type { PageRequestGroup } from './page-requests';

export type Inline = string | { code: string } | { strong: string };

export type Block =
  | { t: 'h'; level: 1 | 2 | 3; text: string }
  | { t: 'p'; parts: Inline[] }
  | { t: 'table'; head: string[]; rows: Inline[][]; right?: number[] }
  | { t: 'list'; items: Inline[][] }
  | { t: 'section'; title: string; open: boolean; blocks: Block[] };

function sec(v: number | undefined): string {
  return v === undefined ? '-' : `${v.toFixed(6)} s`;
}

function at(axis: 'time' | 'lines', v: number): string {
  return axis === 'time' ? `${v.toFixed(6)} s` : `line ${v}`;
}

function rate(s: Storm): string {
  return s.axis === 'time' ? `${s.peakRate.toFixed(1)}/s` : `${s.peakRate} per window of lines`;
}

function stormRows(storms: Storm[]): Inline[][] {
  return storms.map((s) => [
    `${at(s.axis, s.start)} – ${at(s.axis, s.end)}${s.ongoing ? ' (ongoing at end of log)' : ''}${s.estimated ? ' (estimated from ratelimit notices)' : ''}`,
    `${s.startLine}–${s.endLine}`,
    rate(s),
    String(s.printed),
    String(s.suppressed),
    s.pages.distinct ? `${s.pages.distinct}${s.pages.untracked ? ` (+${s.pages.untracked} faults on untracked pages)` : ''}` : '-',
    s.pages.ranges.slice(0, 3).map((r) => `${r.start}–${r.end}`).join(', ') || '-',
    (s.topSources ?? []).slice(0, 4).map((t) => `${t.source} (${t.records})`).join(', ') || '-',
  ]);
}

const STORM_HEAD = ['when', 'lines', 'peak rate', 'printed', 'suppressed', 'distinct pages', 'hottest ranges', 'top sources'];

function adviceBlocks(a: StormAdvice): Block[] {
  return [{
    t: 'list',
    items: [
      [{ strong: 'Silence it:' }, ' ', a.silence],
      [{ strong: 'Trade-off:' }, ' ', a.tradeOff],
      [{ strong: 'Or at the device:' }, ' ', a.device],
      [{ strong: 'Re-enable when:' }, ' ', a.reEnable],
    ],
  }];
}

function prRow(g: PageRequestGroup): Inline[] {
  return [
    g.state + (g.response ? ` (${g.response})` : ''),
    g.kind,
    g.device ?? (g.streamId ? `${g.iommu ?? ''} sid ${g.streamId}` : g.iommu ?? '-'),
    g.pasid ?? '-',
    g.group,
    String(g.requests),
    `${g.firstLine}${g.lastLine !== g.firstLine ? `–${g.lastLine}` : ''}${g.answerLine !== undefined && g.answerLine !== g.lastLine ? ` → ${g.answerLine}` : ''}`,
    g.seq ? `${g.seq.first}${g.seq.last !== g.seq.first ? `–${g.seq.last}` : ''}` : '-',
    [g.answeredBy, g.note].filter(Boolean).join('; ') || '-',
  ];
}

const PR_HEAD = ['state', 'kind', 'device / stream', 'PASID', 'group', 'requests', 'lines', 'seq#', 'detail'];

function groupBlocks(g: ReportGroup): Block[] {
  const b: Block[] = [];
  const ident: Inline[][] = [
    ['family', g.family],
    ['printed by', g.printedBy.join(', ') || '-'],
    ['records', String(g.records)],
    ['lines', `${g.firstLine}–${g.lastLine} (first: ${g.sampleLines.join(', ')})`],
    ['time', g.first !== undefined ? `${sec(g.first)} – ${sec(g.last)}` : '-'],
    ['kinds', g.kinds.map((k) => `${k.kind} ×${k.count}`).join(', ')],
    ['access', g.access.map((k) => `${k.access} ×${k.count}`).join(', ') || '-'],
  ];
  if (g.iommu) ident.splice(1, 0, ['IOMMU', g.iommu]);
  if (g.device) ident.push(['device', g.device]);
  if (g.streamId) ident.push(['stream ID', g.streamId]);
  if (g.contextBanks?.length) ident.push(['context banks', g.contextBanks.join(', ')]);
  if (g.pasids.length) ident.push(['PASIDs', g.pasids.join(', ')]);
  if (g.domains.length) ident.push(['domains', g.domains.join(', ')]);
  if (g.drivers.length) ident.push(['drivers', g.drivers.join(', ')]);
  b.push({ t: 'table', head: ['', ''], rows: ident });
  b.push({ t: 'h', level: 3, text: 'Suspected culprit' });
  b.push({ t: 'p', parts: [{ strong: g.verdict.party }, ` — confidence ${g.verdict.confidence}, from ${g.verdict.basis === 'none' ? 'no usable evidence' : g.verdict.basis}.`] });
  b.push({ t: 'list', items: g.verdict.why.map((w) => [w]) });
  if (g.walks) {
    b.push({ t: 'p', parts: [`Snapshot walks: ${g.walks.walked} distinct page${g.walks.walked === 1 ? '' : 's'} walked${g.walks.notWalked ? `, ${g.walks.notWalked} not walked (limit)` : ''}.`] });
    b.push({
      t: 'table', head: ['pages', 'result', 'stage', 'reason', 'party (confidence)', 'example'], right: [0],
      rows: g.walks.outcomes.map((o) => [String(o.pages), o.result, o.stage ?? '-', o.reason ?? '-', `${o.party} (${o.confidence})`,
        `${o.example.iova}${o.example.pa ? ` → ${o.example.pa}` : ''}${o.example.failingStep ? `: ${o.example.failingStep}` : ''}`]),
    });
  } else if (g.walkSkipped) {
    b.push({ t: 'p', parts: [`Snapshot not walked for this group: ${g.walkSkipped}.`] });
  }
  if (g.reasons.length) {
    b.push({ t: 'h', level: 3, text: 'Reasons' });
    b.push({ t: 'table', head: ['count', 'reason', 'text'], right: [0], rows: g.reasons.map((r) => [String(r.count), `${r.name ?? r.code ?? '?'}${r.stage ? ` (${r.stage})` : ''}`, r.text ?? '']) });
  }
  if (g.pages.distinct || g.pages.untracked) {
    b.push({ t: 'h', level: 3, text: 'Pages touched' });
    b.push({ t: 'p', parts: [`${g.pages.distinct} distinct 4 KiB pages${g.pages.untracked ? ` tracked (+${g.pages.untracked} faults on pages past the tracking cap)` : ''}; lowest ${g.pages.lowest ?? '-'}, highest ${g.pages.highest ?? '-'}.`] });
    b.push({ t: 'table', head: ['range', 'pages', 'faults'], right: [1, 2], rows: g.pages.ranges.map((r) => [`${r.start}–${r.end}`, String(r.pages), String(r.faults)]) });
  }
  if (g.storms.length) {
    b.push({ t: 'h', level: 3, text: 'Storms' });
    b.push({ t: 'table', head: STORM_HEAD, right: [3, 4], rows: stormRows(g.storms) });
    if (g.advice) b.push(...adviceBlocks(g.advice));
  }
  if (g.symptoms.length) {
    b.push({ t: 'h', level: 3, text: 'Symptoms after these faults' });
    b.push({
      t: 'table', head: ['line', 'after', 'matched by', 'symptom', 'message'],
      rows: g.symptoms.map((s) => [
        `${s.line}${s.count > 1 ? ` (+${s.count - 1} lines to ${s.lastLine})` : ''}`,
        `${s.deltaSeconds !== undefined ? `${s.deltaSeconds} s, ` : ''}${s.deltaLines} lines`,
        s.match,
        s.what,
        { code: s.text },
      ]),
    });
    if (g.symptomTotal > g.symptoms.length) b.push({ t: 'p', parts: [`… ${g.symptomTotal - g.symptoms.length} more symptoms not listed.`] });
  }
  if (g.xen) {
    b.push({ t: 'h', level: 3, text: 'Xen context' });
    const items: Inline[][] = g.xen.notes.map((n) => [n]);
    if (g.xen.domains.length) items.unshift([`Domains: ${g.xen.domains.map((d) => d.label).join(', ')}`]);
    b.push({ t: 'list', items });
  }
  return b;
}

export function reportDocument(r: Report): Block[] {
  const out: Block[] = [];
  out.push({ t: 'h', level: 1, text: `IOMMU fault report: ${r.source}` });
  const t = r.totals;
  out.push({ t: 'p', parts: [
    `Generated ${r.generated} by IOMMU Lens. ${t.records} fault records in ${t.lines} lines, ${t.groups} groups` +
    (t.suppressed ? `; ${t.suppressed} more suppressed by printk ratelimit (${t.suppressedNotices} notices)` : '') +
    (t.first !== undefined ? `; ${sec(t.first)} – ${sec(t.last)}` : '') + '.',
  ] });
  if (r.snapshot) out.push({ t: 'p', parts: ['Snapshot: ', { code: r.snapshot.name }, ` (${r.snapshot.model}${r.snapshot.iommu ? `, ${r.snapshot.iommu}` : ''})`] });
  for (const n of r.notes) out.push({ t: 'p', parts: [n] });

  out.push({ t: 'h', level: 2, text: 'Summary' });
  out.push({
    t: 'table', head: ['group', 'records', 'lines', 'suspected culprit', 'confidence', 'storms', 'symptoms'], right: [1],
    rows: r.groups.map((g) => [g.title, String(g.records), `${g.firstLine}–${g.lastLine}`, g.verdict.party, g.verdict.confidence, String(g.storms.length), String(g.symptomTotal)]),
  });

  const stormy = r.iommus.filter((i) => i.storms.length || i.suppressedOutside);
  out.push({ t: 'h', level: 2, text: 'Storms per IOMMU' });
  if (!stormy.length) out.push({ t: 'p', parts: ['No storm: no IOMMU reached the storm rate, and no ratelimit notice implies one.'] });
  for (const i of stormy) {
    out.push({ t: 'h', level: 3, text: `${i.family} ${i.iommu ?? '(instance not printed)'}` });
    out.push({ t: 'p', parts: [`${i.records} records printed; ${i.storms.length} storm${i.storms.length === 1 ? '' : 's'}${i.stormsDropped ? ` (+${i.stormsDropped} not listed)` : ''}${i.suppressedOutside ? `; ${i.suppressedOutside} suppressed faults outside any storm` : ''}.`] });
    if (i.storms.length) out.push({ t: 'table', head: STORM_HEAD, right: [3, 4], rows: stormRows(i.storms) });
    if (i.advice) out.push(...adviceBlocks(i.advice));
  }

  const pr = r.pageRequests;
  out.push({ t: 'h', level: 2, text: 'Page requests and stalls' });
  const c = pr.counts;
  out.push({ t: 'p', parts: [`pending ${c.pending}, answered ${c.answered}, auto-answered ${c['auto-answered']}, spurious responses ${c.spurious}, stale responses ${c.stale}, lost (queue overflow or restart) ${c.lost}.`] });
  if (pr.pending.length) {
    out.push({ t: 'h', level: 3, text: 'Pending at the end of the log' });
    out.push({ t: 'table', head: PR_HEAD, rows: pr.pending.slice(0, 500).map(prRow) });
  }
  if (pr.samples.length) {
    out.push({ t: 'h', level: 3, text: 'Finished (samples of each state)' });
    out.push({ t: 'table', head: PR_HEAD, rows: pr.samples.map(prRow) });
  }
  if (pr.losses.length) {
    out.push({ t: 'h', level: 3, text: 'Queue overflows' });
    out.push({ t: 'table', head: ['line', 'time', 'IOMMU', 'what'], rows: pr.losses.map((l) => [String(l.line), sec(l.time), `${l.family} ${l.iommu ?? ''}`, l.what]) });
  }
  if (pr.seqGaps.length) {
    out.push({ t: 'h', level: 3, text: 'Sequence gaps (prq_report seq#)' });
    out.push({ t: 'table', head: ['line', 'IOMMU', 'after', 'next', 'missing'], right: [4], rows: pr.seqGaps.map((s) => [String(s.line), s.iommu, String(s.after), String(s.next), String(s.missing)]) });
  }

  out.push({ t: 'h', level: 2, text: 'Groups' });
  for (const g of r.groups) out.push({ t: 'section', title: `${g.title} — ${g.records} records, ${g.verdict.confidence} confidence: ${g.verdict.party}`, open: false, blocks: groupBlocks(g) });

  const s = r.symptoms;
  out.push({ t: 'h', level: 2, text: 'Symptoms' });
  out.push({ t: 'p', parts: [`${s.seen} symptom lines, ${s.attributed} attached to fault groups, ${s.unattributed.length} with no fault of the same device before them.`] });
  if (s.unattributed.length) {
    out.push({ t: 'table', head: ['line', 'symptom', 'device', 'message'], rows: s.unattributed.map((h) => [String(h.line), h.what, h.device ?? h.driver ?? '-', { code: h.text }]) });
  }
  return out;
}
