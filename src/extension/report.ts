/**
 * "Export Report": the current log's faults as Markdown, HTML or JSON. Pure (no 'vscode').
 * HTML is a standalone file that escapes every string from the log and carries no script.
 */
import type { FaultRecord } from '../core/logs/record';
import { recordToJson } from '../core/logs/record';
import { decodeRecordRegisters } from '../core/decode/explain';
import { FaultIndex, timeRange } from './fault-index';
import { escapeMarkdown, recordMarkdown, identityRows } from './record-markdown';

export type ReportFormat = 'markdown' | 'html' | 'json';

export const REPORT_EXTENSIONS: Record<ReportFormat, string> = { markdown: 'md', html: 'html', json: 'json' };

export interface ReportMeta {
  /** the log's path or URI */
  source: string;
  /** ISO time of the export */
  generated: string;
  snapshot?: string;
}

function summaryRows(idx: FaultIndex): { iommu: string; family: string; device: string; kind: string; reason?: string; count: number; lines: string; time?: string; example: FaultRecord }[] {
  const out = [];
  for (const { iommu, device, kind } of idx.leaves()) {
    out.push({
      iommu: iommu.label, family: iommu.family, device: device.label, kind: kind.label,
      ...(kind.reasonText ? { reason: kind.reasonText } : {}),
      count: kind.count, lines: `${kind.firstLine}–${kind.lastLine}`,
      ...(timeRange(kind) ? { time: timeRange(kind)! } : {}),
      example: kind.samples[0]!,
    });
  }
  return out;
}

export function reportJson(idx: FaultIndex, meta: ReportMeta): string {
  const groups = summaryRows(idx).map(({ example, ...g }) => ({ ...g, example: JSON.parse(recordToJson(example)) as unknown }));
  return JSON.stringify({
    format: 'iommu-lens-report', version: 1, ...meta,
    lines: idx.lines, records: idx.total, suppressed: idx.suppressed,
    ...(idx.first !== undefined ? { first: idx.first, last: idx.last } : {}),
    pending: { pageRequests: idx.pending.pageRequests, stalls: idx.pending.stalls },
    groups,
  }, null, 2) + '\n';
}

export function reportMarkdown(idx: FaultIndex, meta: ReportMeta): string {
  const out: string[] = [];
  out.push(`# IOMMU fault report: ${escapeMarkdown(meta.source)}`, '');
  out.push(`Generated ${meta.generated} by IOMMU Lens. ${idx.total} fault records in ${idx.lines} lines` +
    (idx.suppressed ? `, ${idx.suppressed} more suppressed by printk ratelimit` : '') +
    (timeRange(idx) ? `, ${timeRange(idx)}` : '') + '.');
  if (meta.snapshot) out.push('', `Snapshot: \`${meta.snapshot.replace(/`/g, "'")}\``);
  if (idx.pending.count) out.push('', `Pending (detected, not matched with responses): ${idx.pending.pageRequests} page requests, ${idx.pending.stalls} stalled transactions.`);
  const rows = summaryRows(idx);
  if (rows.length) {
    out.push('', '## Summary', '', '| IOMMU | family | device/stream | kind | count | lines | time |', '|---|---|---|---|---:|---|---|');
    for (const r of rows) out.push(`| ${escapeMarkdown(r.iommu)} | ${escapeMarkdown(r.family)} | ${escapeMarkdown(r.device)} | ${escapeMarkdown(r.kind)} | ${r.count} | ${r.lines} | ${r.time ?? ''} |`);
    out.push('', '## Groups');
    for (const r of rows) {
      out.push('', recordMarkdown(r.example, decodeRecordRegisters(r.example), { heading: '###' }), '', `_${r.count} record${r.count === 1 ? '' : 's'} like this one, lines ${r.lines}._`);
    }
  }
  return out.join('\n') + '\n';
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function reportHtml(idx: FaultIndex, meta: ReportMeta): string {
  const rows = summaryRows(idx);
  const parts: string[] = [];
  parts.push(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">`,
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>IOMMU fault report: ${esc(meta.source)}</title>`,
    `<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:72em}table{border-collapse:collapse}td,th{border:1px solid #8884;padding:2px 8px;text-align:left;vertical-align:top}code{font-family:ui-monospace,monospace}.n{text-align:right}</style>`,
    `</head><body>`, `<h1>IOMMU fault report</h1>`,
    `<p>${esc(meta.source)}<br>Generated ${esc(meta.generated)} by IOMMU Lens. ${idx.total} fault records in ${idx.lines} lines${idx.suppressed ? `, ${idx.suppressed} more suppressed by printk ratelimit` : ''}${timeRange(idx) ? `, ${esc(timeRange(idx)!)}` : ''}.</p>`);
  if (meta.snapshot) parts.push(`<p>Snapshot: <code>${esc(meta.snapshot)}</code></p>`);
  if (idx.pending.count) parts.push(`<p>Pending (detected, not matched with responses): ${idx.pending.pageRequests} page requests, ${idx.pending.stalls} stalled transactions.</p>`);
  if (rows.length) {
    parts.push('<h2>Summary</h2><table><tr><th>IOMMU</th><th>family</th><th>device/stream</th><th>kind</th><th>count</th><th>lines</th><th>time</th></tr>');
    for (const r of rows) parts.push(`<tr><td>${esc(r.iommu)}</td><td>${esc(r.family)}</td><td>${esc(r.device)}</td><td>${esc(r.kind)}</td><td class="n">${r.count}</td><td>${r.lines}</td><td>${esc(r.time ?? '')}</td></tr>`);
    parts.push('</table><h2>Groups</h2>');
    for (const r of rows) {
      const ex = r.example;
      parts.push(`<h3>${esc(ex.family)} ${esc(ex.kind)} — ${esc(r.device)} <small>(${r.count}×, lines ${r.lines})</small></h3>`);
      if (ex.reason) parts.push(`<p>${esc([ex.reason.name, ex.reason.code !== undefined ? `(code ${ex.reason.code})` : '', ex.reason.text].filter(Boolean).join(' '))}</p>`);
      const id = identityRows(ex);
      if (id.length) parts.push('<table>' + id.map(([k, v]) => `<tr><th>${esc(k)}</th><td><code>${esc(v)}</code></td></tr>`).join('') + '</table>');
      for (const d of decodeRecordRegisters(ex)) {
        const fields = d.fields.filter((f) => f.active || f.valueName !== undefined);
        parts.push(`<p><b>${esc(d.name)}</b> <code>${esc(d.value)}</code> — ${esc(d.title)}</p>`);
        if (fields.length) parts.push('<table><tr><th>field</th><th>bits</th><th>value</th><th>meaning</th></tr>' +
          fields.map((f) => `<tr><td>${esc(f.name)}</td><td>${esc(f.bits)}</td><td><code>${esc(f.value)}</code>${f.valueName ? ' ' + esc(f.valueName) : ''}</td><td>${esc(f.meaning)}</td></tr>`).join('') + '</table>');
      }
    }
  }
  parts.push('</body></html>');
  return parts.join('\n') + '\n';
}

export function buildReport(format: ReportFormat, idx: FaultIndex, meta: ReportMeta): string {
  switch (format) {
    case 'json': return reportJson(idx, meta);
    case 'html': return reportHtml(idx, meta);
    default: return reportMarkdown(idx, meta);
  }
}
