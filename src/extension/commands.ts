/**
 * The "IOMMU" commands. Each returns what it produced, so other extensions and the integration
 * tests can use them without reading the UI.
 */
import * as vscode from 'vscode';
import { writeFile } from 'node:fs/promises';
import type { FaultRecord } from '../core/logs/record';
import { recordToJson } from '../core/logs/record';
import { decodeRegister, type DecodedRegister } from '../core/decode/register';
import { explainModule, recordAtLineModule, registersModule } from './lazy';
import { parseHex } from '../core/logs/normalize';
import type { FaultDetails, WalkView } from '../core/protocol';
import { deviceLabel, kindLabel, type KindGroup } from './fault-index';
import type { FaultStore } from './fault-store';
import { KindNode, RecordNode, VIEW_ID, type FaultTreeNode, type FaultTreeProvider } from './fault-tree';
import type { DetailsPanel } from './details-panel';
import type { WalkService } from './walk-service';
import type { SnapshotRegistry } from './snapshot-registry';
import { parseWalkInput, requestFromRecord } from './walk-request';
import { lineRange, readSourceLines } from './source-lines';
import type { ReportFormat } from './log-analysis';
import { logAnalysis } from './fault-store';
import { KERNEL_LOG, readSettings, scannedLanguages } from './settings';

/** A record's place: what hover links and the webview pass around (JSON-safe). */
export interface RecordRef {
  uri: string;
  /** 1-based line of the record's first line */
  line: number;
}

interface Deps {
  store: FaultStore;
  tree: FaultTreeProvider;
  details: DetailsPanel;
  walks: WalkService;
  registry: SnapshotRegistry;
  log: vscode.LogOutputChannel;
}

function isRef(a: unknown): a is RecordRef {
  return typeof a === 'object' && a !== null && typeof (a as RecordRef).uri === 'string' && typeof (a as RecordRef).line === 'number';
}

async function recordFromRef(ref: RecordRef): Promise<{ record: FaultRecord; uri: vscode.Uri } | undefined> {
  const uri = vscode.Uri.parse(ref.uri);
  const doc = await vscode.workspace.openTextDocument(uri);
  const rec = recordAtLineModule().recordAtLine(ref.line - 1, doc.lineCount, (i) => doc.lineAt(i).text, uri.scheme === 'file' ? uri.fsPath : undefined);
  return rec ? { record: rec, uri } : undefined;
}

export function registerCommands(ctx: vscode.ExtensionContext, d: Deps): void {
  const { store, tree, details, walks, registry, log } = d;
  /** what the details page shows now, so "Walk again" can redo it */
  let shown: { record?: FaultRecord; uri?: vscode.Uri } | undefined;

  /** The log a command is about: the log in the active editor, else the one the tree shows. */
  const currentLog = (): vscode.Uri | undefined => {
    const doc = vscode.window.activeTextEditor?.document;
    if (doc && scannedLanguages(readSettings()).has(doc.languageId)) return doc.uri;
    return store.source?.uri;
  };

  const reg = (id: string, fn: (...args: any[]) => unknown) => ctx.subscriptions.push(vscode.commands.registerCommand(id, fn));

  /** The record a command was invoked on: a tree node, a hover link, the cursor line. */
  async function resolveTarget(arg: unknown): Promise<{ record: FaultRecord; uri: vscode.Uri } | undefined> {
    if (arg instanceof RecordNode && store.source) return { record: arg.record, uri: store.source.uri };
    if (arg instanceof KindNode && store.source) return { record: arg.group.samples[0]!, uri: store.source.uri };
    if (isRef(arg)) return recordFromRef(arg);
    const ed = vscode.window.activeTextEditor;
    if (ed) {
      const doc = ed.document;
      const rec = recordAtLineModule().recordAtLine(ed.selection.active.line, doc.lineCount, (i) => doc.lineAt(i).text, doc.uri.scheme === 'file' ? doc.uri.fsPath : undefined);
      if (rec) return { record: rec, uri: doc.uri };
    }
    return undefined;
  }

  function groupOf(r: FaultRecord, uri: vscode.Uri): KindGroup | undefined {
    const src = store.source;
    if (!src || src.uri.toString() !== uri.toString()) return undefined;
    return src.index.iommus.get(`${r.family}|${r.iommu ?? ''}`)?.devices.get(deviceLabel(r))?.kinds.get(kindLabel(r));
  }

  async function detailsFor(record: FaultRecord, uri: vscode.Uri, walk: WalkView | undefined): Promise<FaultDetails> {
    const group = groupOf(record, uri);
    const related = group ? group.samples.filter((s) => s.line !== record.line).slice(0, 20).map((s) => s.line) : [];
    const own = lineRange(record.line, record.endLine ?? record.line);
    const indexed = store.source?.uri.toString() === uri.toString() ? store.source.lines : undefined;
    const texts = await readSourceLines(uri, [...own, ...related], indexed).catch(() => []);
    const byLine = new Map(texts.map((t) => [t.line, t]));
    const fd: FaultDetails = {
      title: `${record.family} ${kindLabel(record)}${record.iova ? ' @ ' + record.iova : ''}`,
      uri: uri.toString(),
      record,
      registers: explainModule().decodeRecordRegisters(record),
      lines: own.map((n) => byLine.get(n) ?? { line: n, text: '' }),
    };
    if (related.length) fd.related = related.map((n) => byLine.get(n) ?? { line: n, text: '' });
    if (group) fd.groupCount = group.count;
    if (walk) fd.walk = walk;
    return fd;
  }

  async function ensureSnapshot(uri: vscode.Uri | undefined): Promise<string | undefined> {
    const have = walks.snapshotPath(uri);
    if (have) return have;
    const pick = await vscode.window.showInformationMessage(
      vscode.l10n.t('No snapshot is attached to this log. Attach a snapshot manifest (*.iommu.json) to walk addresses.'),
      vscode.l10n.t('Attach Snapshot…'));
    if (!pick) return undefined;
    await vscode.commands.executeCommand('iommuLens.attachSnapshot', undefined, uri?.toString());
    return walks.snapshotPath(uri);
  }

  async function showRecord(arg: unknown, withWalk: 'if-attached' | 'required'): Promise<FaultDetails | undefined> {
    const t = await resolveTarget(arg);
    if (!t) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Put the cursor on an IOMMU fault line, or pick a fault in the IOMMU Faults view.'));
      return undefined;
    }
    let walk: WalkView | undefined;
    if (withWalk === 'required') {
      const manifest = await ensureSnapshot(t.uri);
      if (!manifest) return undefined;
      const req = requestFromRecord(t.record);
      if (!req) {
        void vscode.window.showWarningMessage(vscode.l10n.t('This fault print carries no address to walk.'));
      } else walk = await walks.walkRecord(t.record, t.uri, { explain: true }) ?? await walks.walk(manifest, req);
    } else walk = await walks.walkRecord(t.record, t.uri);
    const fd = await detailsFor(t.record, t.uri, walk);
    shown = { record: t.record, uri: t.uri };
    details.show(fd);
    return fd;
  }

  reg('iommuLens.showDetails', (arg?: unknown) => showRecord(arg, 'if-attached'));
  reg('iommuLens.showWalk', (arg?: unknown) => showRecord(arg, 'required'));

  reg('iommuLens.walkAddress', async (arg?: unknown): Promise<WalkView | undefined> => {
    if (typeof arg !== 'string') {
      const t = arg !== undefined ? await resolveTarget(arg) : undefined;
      if (t) return (await showRecord(arg, 'required'))?.walk;
    }
    const logUri = currentLog();
    let text = typeof arg === 'string' ? arg : undefined;
    if (text === undefined) {
      const near = await resolveTarget(undefined);
      const suggestion = near?.record.iova ? [near.record.iova,
        near.record.streamId !== undefined ? `stream=${near.record.streamId}` : '',
        near.record.device ? `device=${near.record.device}` : '',
        near.record.pasid !== undefined ? `pasid=${near.record.pasid}` : '',
        near.record.contextBank !== undefined ? `cb=${near.record.contextBank}` : ''].filter(Boolean).join(' ') : '';
      text = await vscode.window.showInputBox({
        title: vscode.l10n.t('IOMMU: Walk Address'),
        prompt: vscode.l10n.t('Address and identifiers: ADDR [stream=N] [device=BDF] [pasid=N] [cb=N] [access=read|write|exec]'),
        value: suggestion,
        validateInput: (v) => parseWalkInput(v).error,
      });
      if (text === undefined) return undefined;
    }
    const parsed = parseWalkInput(text);
    if (!parsed.request) { void vscode.window.showErrorMessage(parsed.error!); return undefined; }
    const manifest = await ensureSnapshot(logUri);
    if (!manifest) return undefined;
    const view = await walks.walk(manifest, parsed.request);
    const fd: FaultDetails = { title: `walk ${view.request.iova}`, registers: [], lines: [], walk: view };
    shown = { uri: logUri };
    details.show(fd);
    return view;
  });

  reg('iommuLens.walkAgain', async () => {
    if (shown?.record && shown.uri) {
      return showRecord({ uri: shown.uri.toString(), line: shown.record.line }, 'required');
    }
    return vscode.commands.executeCommand('iommuLens.walkAddress');
  });

  reg('iommuLens.attachSnapshot', async (arg?: unknown, logArg?: unknown): Promise<string | undefined> => {
    const logUri = typeof logArg === 'string' ? vscode.Uri.parse(logArg)
      : currentLog();
    let manifest: string | undefined;
    if (typeof arg === 'string') manifest = arg;
    else if (arg instanceof vscode.Uri) manifest = arg.fsPath;
    else {
      const picked = await vscode.window.showOpenDialog({
        title: vscode.l10n.t('Attach IOMMU snapshot manifest'),
        canSelectMany: false,
        filters: { [vscode.l10n.t('IOMMU snapshot manifest')]: ['json'] },
        ...(logUri && logUri.scheme === 'file' ? { defaultUri: vscode.Uri.joinPath(logUri, '..') } : {}),
      });
      manifest = picked?.[0]?.fsPath;
    }
    if (!manifest) return undefined;
    await registry.attach(manifest, logUri);
    void vscode.commands.executeCommand('setContext', 'iommuLens.snapshotAttached', true);
    log.info(`attached snapshot ${manifest}${logUri ? ' to ' + logUri.toString() : ''}`);
    if (arg === undefined) void vscode.window.showInformationMessage(vscode.l10n.t('Snapshot {0} attached. Hovers and Walk Address now use it.', manifest));
    return manifest;
  });

  reg('iommuLens.detachSnapshot', async () => {
    const logUri = currentLog();
    await registry.detach(logUri);
    void vscode.commands.executeCommand('setContext', 'iommuLens.snapshotAttached', !!walks.snapshotPath(logUri));
  });

  reg('iommuLens.decodeRegister', async (familyArg?: string, keyArg?: string, valueArg?: string): Promise<DecodedRegister | undefined> => {
    const { REGISTERS } = registersModule();
    if (!REGISTERS.length) {
      void vscode.window.showWarningMessage(vscode.l10n.t('No register descriptions are available in this build.'));
      return undefined;
    }
    let desc = REGISTERS.find((r) => r.family === familyArg && (r.key === keyArg || r.id === keyArg));
    if (!desc) {
      const pick = await vscode.window.showQuickPick(REGISTERS.map((r) => ({ label: r.name, description: r.family, detail: r.title, r })), {
        title: vscode.l10n.t('IOMMU: Decode Register Value'), placeHolder: vscode.l10n.t('Register'), matchOnDescription: true, matchOnDetail: true,
      });
      if (!pick) return undefined;
      desc = pick.r;
    }
    const d0 = desc;
    let text = valueArg;
    if (text === undefined) {
      text = await vscode.window.showInputBox({
        title: vscode.l10n.t('Decode {0} ({1})', d0.name, d0.family), prompt: vscode.l10n.t('Value (hex, 0x…)'),
        validateInput: (v) => (parseHex(v) === undefined ? vscode.l10n.t('not a hex value') : undefined),
      });
      if (text === undefined) return undefined;
    }
    const v = parseHex(text);
    if (v === undefined) { void vscode.window.showErrorMessage(vscode.l10n.t('Not a hex value: {0}', text)); return undefined; }
    const decoded = decodeRegister(d0, v);
    details.show({ title: `${d0.family} ${d0.name} = ${decoded.value}`, registers: [decoded], lines: [] });
    return decoded;
  });

  reg('iommuLens.scanLog', async (arg?: unknown) => {
    let target: vscode.Uri | undefined;
    if (arg instanceof vscode.Uri) target = arg;
    else if (typeof arg === 'string') target = arg.includes('://') ? vscode.Uri.parse(arg) : vscode.Uri.file(arg);
    const s = readSettings();
    let src;
    if (!target) {
      const doc = vscode.window.activeTextEditor?.document;
      if (doc) src = await store.scanDocument(doc, s.backgroundScanBytes);
      else {
        const picked = await vscode.window.showOpenDialog({ title: vscode.l10n.t('Scan a log for IOMMU faults'), canSelectMany: false });
        if (!picked?.[0]) return undefined;
        src = await store.scanFile(picked[0]);
      }
    } else {
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === target!.toString());
      src = open ? await store.scanDocument(open, s.backgroundScanBytes) : target.scheme === 'file' ? await store.scanFile(target) : await store.scanDocument(await vscode.workspace.openTextDocument(target), s.backgroundScanBytes);
    }
    if (!src) return undefined;
    void vscode.commands.executeCommand(`${VIEW_ID}.focus`);
    return { file: src.uri.toString(), records: src.index.total, lines: src.index.lines, suppressed: src.index.suppressed, state: src.state, elapsedMs: src.elapsed };
  });

  reg('iommuLens.exportReport', async (formatArg?: ReportFormat, targetArg?: string): Promise<string | undefined> => {
    const src = store.source;
    if (!src) { void vscode.window.showInformationMessage(vscode.l10n.t('Scan a log first (IOMMU: Scan Log).')); return undefined; }
    let format = formatArg;
    if (!format) {
      const pick = await vscode.window.showQuickPick([
        { label: 'Markdown', f: 'markdown' as const }, { label: 'HTML', f: 'html' as const }, { label: 'JSON', f: 'json' as const }],
      { title: vscode.l10n.t('IOMMU: Export Report'), placeHolder: vscode.l10n.t('Format') });
      if (!pick) return undefined;
      format = pick.f;
    }
    const manifest = walks.snapshotPath(src.uri);
    const la = logAnalysis();
    // The same analysis, report and renderers as `iommu-lens report LOG [--snapshot S]`.
    const analysis = src.analysis ?? await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Analysing {0}', src.name) },
      () => store.analyze(src));
    if (!analysis) { void vscode.window.showErrorMessage(vscode.l10n.t('Could not analyse {0} (see the IOMMU Lens output)', src.name)); return undefined; }
    let text: string;
    try {
      text = la.renderReport(format, analysis, la.sourceName(src.uri), manifest);
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Could not build the report: {0}', e instanceof Error ? e.message : String(e)));
      return undefined;
    }
    let target = targetArg ? vscode.Uri.file(targetArg) : undefined;
    if (!target) {
      const base = src.uri.scheme === 'file' ? src.uri.fsPath.replace(/\.[^./]{1,10}$/, '') : src.name;
      target = await vscode.window.showSaveDialog({
        title: vscode.l10n.t('Save IOMMU fault report'),
        defaultUri: vscode.Uri.file(`${base}.iommu-report.${la.REPORT_EXTENSIONS[format]}`),
        filters: { [format.toUpperCase()]: [la.REPORT_EXTENSIONS[format]] },
      });
      if (!target) return undefined;
    }
    await writeFile(target.fsPath, text, 'utf8');
    log.info(`wrote ${format} report of ${src.name} to ${target.fsPath}`);
    if (!targetArg) {
      const open = await vscode.window.showInformationMessage(vscode.l10n.t('Report saved to {0}', target.fsPath), vscode.l10n.t('Open'));
      if (open) await vscode.window.showTextDocument(target);
    }
    return target.fsPath;
  });

  reg('iommuLens.revealLine', async (uriArg: string, line: number, endLine?: number) => {
    if (typeof uriArg !== 'string' || !Number.isInteger(line) || line < 1) return;
    const uri = vscode.Uri.parse(uriArg);
    const doc = await vscode.workspace.openTextDocument(uri);
    const first = Math.min(line, doc.lineCount) - 1;
    const last = Math.min(Math.max(endLine ?? line, line), doc.lineCount) - 1;
    const range = new vscode.Range(first, 0, last, doc.lineAt(last).text.length);
    await vscode.window.showTextDocument(doc, { selection: range, preserveFocus: false, preview: true });
  });

  reg('iommuLens.copyAsJson', async (node?: FaultTreeNode) => {
    let text: string | undefined;
    if (node instanceof RecordNode) text = recordToJson(node.record);
    else if (node instanceof KindNode) text = node.group.samples.map(recordToJson).join('\n');
    else {
      const t = await resolveTarget(node);
      if (t) text = recordToJson(t.record);
    }
    if (text === undefined) return undefined;
    await vscode.env.clipboard.writeText(text + '\n');
    return text;
  });

  reg('iommuLens.filterFaults', async (arg?: string) => {
    const f = typeof arg === 'string' ? arg : await vscode.window.showInputBox({
      title: vscode.l10n.t('Filter IOMMU faults'),
      prompt: vscode.l10n.t('Words that must all appear in the family, IOMMU, device, kind or reason (empty clears the filter)'),
      value: tree.filter,
    });
    if (f === undefined) return;
    tree.setFilter(f);
  });
  reg('iommuLens.clearFilter', () => tree.setFilter(''));

  reg('iommuLens.setLanguage', async () => {
    const doc = vscode.window.activeTextEditor?.document;
    if (doc) await vscode.languages.setTextDocumentLanguage(doc, KERNEL_LOG);
  });
}
