/**
 * The "IOMMU Faults" tree: Pending at the top, then IOMMU instance → device/stream →
 * kind/reason → occurrences. One node class per level, each producing its own TreeItem.
 */
import * as vscode from 'vscode';
import type { FaultRecord } from '../core/logs/record';
import { FaultIndex, matchesFilter, timeRange, type DeviceGroup, type Group, type IommuGroup, type KindGroup } from './fault-index';
import type { FaultSource, FaultStore } from './fault-store';
import { explainModule, recordMarkdownModule } from './lazy';
import type { PageRequestGroup, PageRequestSummary } from '../core/analysis/page-requests';

export const VIEW_ID = 'iommuLens.faults';

abstract class Node {
  abstract readonly id: string;
  constructor(readonly parent: Node | undefined) {}
  abstract item(src: FaultSource): vscode.TreeItem;
  children(_src: FaultSource, _filter: string): Node[] {
    return [];
  }
}

function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}

function groupDescription(g: Group): string {
  const t = timeRange(g);
  return t ? `${g.count} · ${t}` : String(g.count);
}

function revealCommand(src: FaultSource, line: number, endLine?: number): vscode.Command {
  return { command: 'iommuLens.revealLine', title: vscode.l10n.t('Show in Log'), arguments: [src.uri.toString(), line, endLine ?? line] };
}

export class RecordNode extends Node {
  readonly id: string;
  constructor(parent: Node, readonly record: FaultRecord) {
    super(parent);
    this.id = `${parent.id}|r:${record.line}`;
  }
  item(src: FaultSource): vscode.TreeItem {
    const r = this.record;
    const it = new vscode.TreeItem(vscode.l10n.t('line {0}', r.line), vscode.TreeItemCollapsibleState.None);
    it.id = this.id;
    const bits = [r.iova, r.access, r.time !== undefined ? `${r.time} s` : undefined].filter(Boolean);
    it.description = bits.join(' · ');
    it.iconPath = new vscode.ThemeIcon('debug-breakpoint-log');
    it.contextValue = 'fault';
    it.command = revealCommand(src, r.line, r.endLine);
    return it;
  }
  /** Tooltips decode registers: done lazily (resolveTreeItem) since most are never hovered. */
  tooltip(): vscode.MarkdownString {
    const md = new vscode.MarkdownString(recordMarkdownModule().recordMarkdown(this.record, explainModule().decodeRecordRegisters(this.record)));
    md.supportThemeIcons = true;
    return md;
  }
}

class MoreNode extends Node {
  readonly id: string;
  constructor(parent: Node, private readonly hidden: number) {
    super(parent);
    this.id = `${parent.id}|more`;
  }
  item(): vscode.TreeItem {
    const it = new vscode.TreeItem(vscode.l10n.t('… {0} more (see Export Report)', this.hidden));
    it.id = this.id;
    it.iconPath = new vscode.ThemeIcon('ellipsis');
    return it;
  }
}

export class KindNode extends Node {
  readonly id: string;
  constructor(parent: DeviceNode, readonly group: KindGroup) {
    super(parent);
    this.id = group.id;
  }
  item(src: FaultSource): vscode.TreeItem {
    const g = this.group;
    const it = new vscode.TreeItem(g.label, vscode.TreeItemCollapsibleState.Collapsed);
    it.id = this.id;
    it.description = groupDescription(g);
    const storm = g.count >= 100;
    it.iconPath = new vscode.ThemeIcon(storm ? 'flame' : 'error', new vscode.ThemeColor(storm ? 'problemsWarningIcon.foreground' : 'problemsErrorIcon.foreground'));
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${plural(g.count, 'record')}** of `).appendText(g.label);
    if (g.reasonText) md.appendMarkdown('\n\n').appendText(g.reasonText);
    const t = timeRange(g);
    md.appendMarkdown(`\n\nlines ${g.firstLine}–${g.lastLine}${t ? `, ${t}` : ''}${storm ? '\n\n$(flame) fault storm' : ''}`);
    md.supportThemeIcons = true;
    it.tooltip = md;
    it.contextValue = 'faultGroup';
    it.command = revealCommand(src, g.firstLine);
    return it;
  }
  override children(): Node[] {
    const out: Node[] = this.group.samples.map((r) => new RecordNode(this, r));
    if (this.group.count > this.group.samples.length) out.push(new MoreNode(this, this.group.count - this.group.samples.length));
    return out;
  }
}

export class DeviceNode extends Node {
  readonly id: string;
  constructor(parent: IommuNode, readonly group: DeviceGroup) {
    super(parent);
    this.id = group.id;
  }
  item(): vscode.TreeItem {
    const g = this.group;
    const it = new vscode.TreeItem(g.label, vscode.TreeItemCollapsibleState.Expanded);
    it.id = this.id;
    it.description = groupDescription(g);
    it.iconPath = new vscode.ThemeIcon(g.label.startsWith('stream') ? 'symbol-numeric' : 'circuit-board');
    it.contextValue = 'device';
    return it;
  }
  override children(_src: FaultSource, filter: string): Node[] {
    const iommu = (this.parent as IommuNode).group;
    return FaultIndex.sorted(this.group.kinds.values())
      .filter((k) => matchesFilter(filter, iommu, this.group, k))
      .map((k) => new KindNode(this, k));
  }
}

export class IommuNode extends Node {
  readonly id: string;
  constructor(readonly group: IommuGroup) {
    super(undefined);
    this.id = group.id;
  }
  item(): vscode.TreeItem {
    const g = this.group;
    const it = new vscode.TreeItem(g.label, vscode.TreeItemCollapsibleState.Expanded);
    it.id = this.id;
    it.description = `${g.family} · ${groupDescription(g)}`;
    it.iconPath = new vscode.ThemeIcon('server-environment');
    it.contextValue = 'iommu';
    return it;
  }
  override children(_src: FaultSource, filter: string): Node[] {
    return FaultIndex.sorted(this.group.devices.values())
      .filter((d) => [...d.kinds.values()].some((k) => matchesFilter(filter, this.group, d, k)))
      .map((d) => new DeviceNode(this, d));
  }
}

/** Page-request / stall states that deserve a look even though they are finished. */
const FLAGGED = new Set(['spurious', 'stale', 'lost']);

/** One page-request group or stalled transaction, with its lifecycle state from the analysis. */
export class PrGroupNode extends Node {
  readonly id: string;
  constructor(parent: Node, readonly group: PageRequestGroup) {
    super(parent);
    this.id = `${parent.id}|pr:${group.firstLine}:${group.state}:${group.group}`;
  }
  item(src: FaultSource): vscode.TreeItem {
    const g = this.group;
    const it = new vscode.TreeItem(vscode.l10n.t('line {0}', g.firstLine), vscode.TreeItemCollapsibleState.None);
    it.id = this.id;
    const who = g.device ?? (g.streamId ? `stream ${g.streamId}` : g.iommu);
    it.description = [g.state, g.kind === 'stall' ? 'stall' : g.kind, g.iova, who, g.pasid ? `PASID ${g.pasid}` : undefined].filter(Boolean).join(' · ');
    const flagged = FLAGGED.has(g.state);
    it.iconPath = flagged
      ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'))
      : new vscode.ThemeIcon('watch');
    const { escapeMarkdown } = recordMarkdownModule();
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${escapeMarkdown(g.kind)}** ${escapeMarkdown(g.state)} (lines ${g.firstLine}–${g.lastLine})`);
    if (g.note) md.appendMarkdown(`\n\n${escapeMarkdown(g.note)}`);
    if (g.answeredBy) md.appendMarkdown(`\n\n${escapeMarkdown(vscode.l10n.t('Answered by: {0}', g.answeredBy))}${g.answerLine ? ` (line ${g.answerLine})` : ''}`);
    it.tooltip = md;
    it.contextValue = flagged ? 'pageRequestFlagged' : 'pageRequest';
    it.command = revealCommand(src, g.firstLine, g.lastLine);
    return it;
  }
}

function lifecycleDescription(pr: PageRequestSummary, stalls: number, pageRequests: number): string {
  const c = pr.counts;
  const parts: string[] = [];
  const pendingStalls = pr.pending.filter((g) => g.kind === 'stall').length;
  const pendingPr = c.pending - pendingStalls;
  if (pendingPr) parts.push(plural(pendingPr, 'page request') + ' ' + vscode.l10n.t('pending'));
  if (pendingStalls) parts.push(plural(pendingStalls, 'stalled transaction') + ' ' + vscode.l10n.t('pending'));
  if (!c.pending) parts.push(vscode.l10n.t('none pending ({0} stalls, {1} page requests seen)', stalls, pageRequests));
  for (const st of ['spurious', 'stale', 'lost'] as const) if (c[st]) parts.push(`${c[st]} ${st}`);
  const done = c.answered + c['auto-answered'];
  if (done) parts.push(`${done} ${vscode.l10n.t('answered')}`);
  return parts.join(' · ');
}

export class PendingNode extends Node {
  readonly id: string;
  constructor(src: FaultSource) {
    super(undefined);
    // Per log: a new log's Pending opens by itself instead of keeping the last log's state.
    this.id = `pending:${src.uri.toString()}`;
  }
  item(src: FaultSource): vscode.TreeItem {
    const p = src.index.pending;
    const pr = src.analysis?.pageRequests;
    // Open when something is still waiting or a response looks wrong: that is what to look at first.
    const open = !!pr && (pr.pending.length > 0 || pr.samples.some((g) => FLAGGED.has(g.state)));
    const it = new vscode.TreeItem(vscode.l10n.t('Pending'), open ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
    it.id = this.id;
    if (pr) {
      it.description = lifecycleDescription(pr, p.stalls, p.pageRequests);
      it.tooltip = new vscode.MarkdownString(vscode.l10n.t(
        'Page requests and stalled transactions, matched with their responses as `iommu-lens report` does: pending ones (no response in the log) first, then spurious responses (nothing asked), stale ones (answered after the PASID or handler went away) and lost ones.'));
    } else {
      const parts: string[] = [];
      if (p.pageRequests) parts.push(plural(p.pageRequests, 'page request'));
      if (p.stalls) parts.push(plural(p.stalls, 'stalled transaction'));
      parts.push(vscode.l10n.t('matching responses…'));
      it.description = parts.join(' · ');
      it.tooltip = new vscode.MarkdownString(vscode.l10n.t('Page requests and stalled transactions found in the log; their responses are being matched.'));
    }
    it.iconPath = new vscode.ThemeIcon('watch', new vscode.ThemeColor('problemsWarningIcon.foreground'));
    it.contextValue = 'pending';
    return it;
  }
  override children(src: FaultSource): Node[] {
    const pr = src.analysis?.pageRequests;
    if (pr) {
      const flagged = pr.samples.filter((g) => FLAGGED.has(g.state));
      const out: Node[] = [...pr.pending, ...flagged].map((g) => new PrGroupNode(this, g));
      const more = pr.untracked + Math.max(0, pr.counts.pending - pr.pending.length);
      if (more > 0) out.push(new MoreNode(this, more));
      return out;
    }
    const g = src.index.pending;
    const out: Node[] = g.samples.map((r) => new RecordNode(this, r));
    if (g.count > g.samples.length) out.push(new MoreNode(this, g.count - g.samples.length));
    return out;
  }
}

export class FaultTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<Node>;
  private filterText = '';
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly store: FaultStore) {
    this.view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
    this.subs.push(this.view, this.changed, store.onDidChange(() => this.refresh()));
    this.refresh();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }

  get filter(): string {
    return this.filterText;
  }

  setFilter(f: string): void {
    this.filterText = f.trim();
    void vscode.commands.executeCommand('setContext', 'iommuLens.filtered', this.filterText !== '');
    this.refresh();
  }

  refresh(): void {
    const src = this.store.source;
    const idx = src?.index;
    this.view.badge = idx && idx.total ? { value: idx.total, tooltip: vscode.l10n.t('{0} IOMMU fault records in {1}', idx.total, src!.name) } : undefined;
    const desc: string[] = [];
    if (src) desc.push(src.name);
    if (this.filterText) desc.push(vscode.l10n.t('filter: {0}', this.filterText));
    this.view.description = desc.join(' · ');
    if (!src) this.view.message = undefined;
    else if (src.state === 'scanning') this.view.message = vscode.l10n.t('Scanning… {0} records in {1} lines so far', idx!.total, idx!.lines);
    else if (src.state === 'failed') this.view.message = vscode.l10n.t('Scan failed: {0}', src.error ?? '');
    else if (idx!.total === 0) this.view.message = vscode.l10n.t('No IOMMU fault records in {0} ({1} lines).', src.name, idx!.lines);
    else {
      const t = timeRange(idx!);
      const extra = idx!.suppressed ? vscode.l10n.t(', {0} more suppressed by ratelimit', idx!.suppressed) : '';
      this.view.message = `${plural(idx!.total, 'record')}${extra}${t ? ` · ${t}` : ''}${src.state === 'cancelled' ? ' · ' + vscode.l10n.t('scan cancelled') : ''}`;
    }
    void vscode.commands.executeCommand('setContext', 'iommuLens.hasFaults', !!idx?.total);
    this.changed.fire(undefined);
  }

  getTreeItem(n: Node): vscode.TreeItem {
    return n.item(this.store.source!);
  }

  resolveTreeItem(item: vscode.TreeItem, n: Node): vscode.TreeItem {
    if (n instanceof RecordNode && !item.tooltip) item.tooltip = n.tooltip();
    return item;
  }

  getChildren(n?: Node): Node[] {
    const src = this.store.source;
    if (!src) return [];
    if (n) return n.children(src, this.filterText);
    const out: Node[] = [];
    if (src.index.pending.count) out.push(new PendingNode(src));
    for (const g of FaultIndex.sorted(src.index.iommus.values())) {
      if ([...g.devices.values()].some((d) => [...d.kinds.values()].some((k) => matchesFilter(this.filterText, g, d, k)))) out.push(new IommuNode(g));
    }
    return out;
  }

  getParent(n: Node): Node | undefined {
    return n.parent;
  }

  /** A flat description of the visible tree (labels and descriptions), for tests and logs. */
  snapshot(depth = 3): { label: string; description?: string; children?: unknown[] }[] {
    const src = this.store.source;
    if (!src) return [];
    const walk = (nodes: Node[], d: number): { label: string; description?: string; children?: unknown[] }[] => nodes.map((n) => {
      const it = n.item(src);
      const label = typeof it.label === 'string' ? it.label : it.label?.label ?? '';
      const o: { label: string; description?: string; children?: unknown[] } = { label };
      if (typeof it.description === 'string') o.description = it.description;
      if (d > 1) { const c = n.children(src, this.filterText); if (c.length) o.children = walk(c, d - 1); }
      return o;
    });
    return walk(this.getChildren(), depth);
  }
}

export type FaultTreeNode = Node;
