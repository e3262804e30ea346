/**
 * Markdown for one fault record: the hover body, the tree tooltip and the Markdown report all
 * use it. Pure (no 'vscode'), so the text is unit-tested. Every string that came from the log is
 * escaped: a hostile log line must not become a link, an image or a command.
 */
import type { FaultRecord } from '../core/logs/record';
import type { DecodedRegister } from '../core/decode/register';
import { registerToMarkdown } from '../core/decode/explain';
import { registersOfFamily } from '../core/decode/registers';
import type { WalkView } from '../core/protocol';

export function escapeMarkdown(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+!|<>~&-]/g, (c) => '\\' + c);
}

function code(s: string): string {
  // Inline code cannot be escaped; strip backticks instead so the span cannot be closed early.
  return '`' + s.replace(/`/g, "'") + '`';
}

/** Identifier rows shown under the heading: only what the record actually carries. */
export function identityRows(r: FaultRecord): [string, string][] {
  const rows: [string, string][] = [];
  const push = (k: string, v: string | number | undefined) => { if (v !== undefined && v !== '') rows.push([k, String(v)]); };
  push('IOMMU', r.iommu);
  push('device', r.device);
  push('stream', r.streamId);
  push('substream', r.substreamId);
  push('PASID', r.pasid);
  push('domain', r.domain);
  push('context bank', r.contextBank);
  push('address', r.iova);
  push('access', r.access);
  push('time', r.time !== undefined ? `${r.time} s` : undefined);
  push('printed by', r.host);
  return rows;
}

export function reasonLine(r: FaultRecord): string | undefined {
  if (!r.reason) return undefined;
  const parts: string[] = [];
  if (r.reason.name) parts.push(code(r.reason.name));
  if (r.reason.code !== undefined && String(r.reason.code) !== r.reason.name) parts.push(`(code ${code(String(r.reason.code))})`);
  if (r.reason.text) parts.push('— ' + escapeMarkdown(r.reason.text));
  return parts.join(' ');
}

export function walkMarkdown(w: WalkView): string {
  if (w.error) return `**Walk** on ${code(w.snapshot)}: could not run — ${escapeMarkdown(w.error)}`;
  const res = w.result;
  if (!res) return '';
  const out: string[] = [];
  if (res.result === 'translated') {
    out.push(`**Walk** ${code(w.request.iova)} → ${code(res.pa ?? '?')}${res.pageSize ? ` (${res.pageSize >= 1 << 20 ? res.pageSize / (1 << 20) + ' MiB' : res.pageSize / 1024 + ' KiB'} page)` : ''}: translates in the snapshot`);
  } else {
    const f = res.fault;
    out.push(`**Walk** ${code(w.request.iova)}: fails at ${f ? code(f.stage) : 'an unknown stage'}${f?.level !== undefined ? ` level ${f.level}` : ''}` +
      (f ? ` — ${code(f.reason.name)} ${escapeMarkdown(f.reason.text)}` : ''));
  }
  out.push(`${res.steps.length} step${res.steps.length === 1 ? '' : 's'} read from ${code(w.snapshot)}`);
  if (res.culprit) out.push(`**Suspected culprit:** ${escapeMarkdown(res.culprit.party)} (${res.culprit.confidence} confidence) — ${escapeMarkdown(res.culprit.why)}`);
  return out.join('\n\n');
}

export interface RecordMarkdownOptions {
  /** heading level prefix; the hover uses none, the report uses ### */
  heading?: string;
  walk?: WalkView;
  /** already-built command link appended at the end (trusted markdown, built by the caller) */
  links?: string[];
}

export function recordMarkdown(r: FaultRecord, regs: DecodedRegister[], opts: RecordMarkdownOptions = {}): string {
  const out: string[] = [];
  const head = `${opts.heading ?? ''}${opts.heading ? ' ' : ''}**${escapeMarkdown(r.family)}** ${escapeMarkdown(r.kind)}`;
  out.push(head + (r.endLine && r.endLine !== r.line ? ` (lines ${r.line}–${r.endLine})` : ` (line ${r.line})`));
  const reason = reasonLine(r);
  if (reason) out.push(reason);
  const rows = identityRows(r);
  // One line, so the register tables (what the hover is for) stay in view without scrolling.
  if (rows.length) out.push(rows.map(([k, v]) => `${k} ${code(v)}`).join(' · '));
  for (const d of regs) out.push(registerToMarkdown(d));
  if (r.registers) {
    const known = registersOfFamily(r.family);
    const undecoded = Object.entries(r.registers).filter(([k]) => !known.has(k));
    if (undecoded.length) out.push('raw: ' + undecoded.map(([k, v]) => code(`${k}=${v}`)).join(' '));
  }
  if (opts.walk) out.push(walkMarkdown(opts.walk));
  if (opts.links?.length) out.push(opts.links.join(' · '));
  return out.join('\n\n');
}
