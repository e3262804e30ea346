/**
 * Activation: wires the store, tree, hover, details panel and commands. Activation happens only
 * through the extension's own language, view, commands and webview (see package.json).
 */
import * as vscode from 'vscode';
import { walk } from '../core/walk';
import { loadSnapshot } from '../node/load-snapshot';
import { FaultStore, type FaultSource } from './fault-store';
import { FaultTreeProvider } from './fault-tree';
import { FaultHoverProvider } from './hover';
import { DetailsPanel, type RenderedMessage } from './details-panel';
import { SnapshotRegistry } from './snapshot-registry';
import { WalkService } from './walk-service';
import { registerCommands } from './commands';
import { KERNEL_LOG, readSettings, scannedLanguages, SECTION } from './settings';

/** What activate() returns: used by the integration tests and open to other extensions. */
export interface IommuLensApi {
  activationMs: number;
  /** the log the tree shows */
  source(): FaultSource | undefined;
  /** labels/descriptions of the visible tree, 3 levels deep */
  treeSnapshot(): unknown;
  /** durations of recent hovers (ms) */
  hoverTimings(): readonly number[];
  /** the last thing the details page reported drawing */
  lastRendered(): RenderedMessage | undefined;
  onDidRender: vscode.Event<RenderedMessage>;
}

export function activate(ctx: vscode.ExtensionContext): IommuLensApi {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('IOMMU Lens', { log: true });
  ctx.subscriptions.push(log);

  const store = new FaultStore(log);
  const registry = new SnapshotRegistry(ctx.workspaceState);
  const walks = new WalkService({ load: (p) => loadSnapshot(p), walk }, registry, log);
  const tree = new FaultTreeProvider(store);
  const details = new DetailsPanel(ctx.extensionUri, log, () => void vscode.commands.executeCommand('iommuLens.walkAgain'));
  ctx.subscriptions.push(store, registry, walks, tree, details);

  const hover = new FaultHoverProvider(walks);
  let hoverReg: vscode.Disposable | undefined;
  const registerHover = () => {
    hoverReg?.dispose();
    hoverReg = undefined;
    const s = readSettings();
    if (!s.hoverEnabled) return;
    const selector: vscode.DocumentSelector = s.hoverLanguages.map((language) => ({ language }));
    hoverReg = vscode.languages.registerHoverProvider(selector, hover);
  };
  registerHover();
  ctx.subscriptions.push({ dispose: () => hoverReg?.dispose() });

  registerCommands(ctx, { store, tree, details, walks, registry, log });

  // The tree follows the active log editor.
  let pendingScan: ReturnType<typeof setTimeout> | undefined;
  const follow = (ed: vscode.TextEditor | undefined, force = false) => {
    const s = readSettings();
    if (!ed || !s.followActiveEditor || !scannedLanguages(s).has(ed.document.languageId)) return;
    if (ed.document.uri.scheme === 'output' || ed.document.uri.scheme === 'vscode-userdata') return;
    if (!force && store.source?.uri.toString() === ed.document.uri.toString()) return;
    if (pendingScan) clearTimeout(pendingScan);
    pendingScan = setTimeout(() => {
      pendingScan = undefined;
      const tentative = ed.document.languageId !== KERNEL_LOG;
      void store.scanDocument(ed.document, s.backgroundScanBytes, { tentative }).catch((e: unknown) => log.error(`scan failed: ${String(e)}`));
    }, force ? 800 : 50);
  };
  ctx.subscriptions.push(
    vscode.window.onDidChangeActiveTextEditor((ed) => follow(ed)),
    vscode.workspace.onDidSaveTextDocument((doc) => {
      if (store.source?.uri.toString() === doc.uri.toString()) follow(vscode.window.activeTextEditor, true);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.hover`)) registerHover();
      if (e.affectsConfiguration(`${SECTION}.faults.followActiveEditor`)) follow(vscode.window.activeTextEditor);
    }),
    { dispose: () => pendingScan && clearTimeout(pendingScan) },
  );
  follow(vscode.window.activeTextEditor);
  const attached = () => void vscode.commands.executeCommand('setContext', 'iommuLens.snapshotAttached', !!walks.snapshotPath(store.source?.uri));
  ctx.subscriptions.push(store.onDidChange(attached), registry.onDidChange(attached));
  attached();

  const activationMs = performance.now() - t0;
  log.info(`activated in ${activationMs.toFixed(1)} ms`);
  return {
    activationMs,
    source: () => store.source,
    treeSnapshot: () => tree.snapshot(),
    hoverTimings: () => hover.timings,
    lastRendered: () => details.lastRendered,
    onDidRender: details.onDidRender,
  };
}

export function deactivate(): void {
  // Everything is disposed through ctx.subscriptions.
}
