/**
 * Activation: wires the store, tree, hover, details panel and commands. Activation happens only
 * through the extension's own language, view, commands and webview (see package.json).
 */
import * as vscode from 'vscode';
// Right after VS Code's API object is made for this extension (its cost is VS Code's, not ours)
// and before any other module of the bundle runs.
import { moduleStart, moduleStartCpu } from './load-clock';
import { COMPRESSED_SCHEME, FaultStore, type FaultSource } from './fault-store';
import { FaultTreeProvider } from './fault-tree';
import type { FaultHoverProvider, Timings } from './hover';
import { engine, hoverModule } from './lazy';
import { DetailsPanel, type RenderedMessage } from './details-panel';
import { SnapshotRegistry } from './snapshot-registry';
import { WalkService } from './walk-service';
import { registerCommands } from './commands';
import { KERNEL_LOG, readSettings, scannedLanguages, SECTION } from './settings';

/** What activate() returns: used by the integration tests and open to other extensions. */
export interface IommuLensApi {
  /** ms of the extension's own code: from its first module's evaluation to the end of activate() */
  activationMs: number;
  /** the part of activationMs spent inside activate() */
  activateCallMs: number;
  /** CPU time of the extension host over the same span (activationMs also counts waiting for a core) */
  activationCpuMs: number;
  /** the log the tree shows */
  source(): FaultSource | undefined;
  /** labels/descriptions of the visible tree, 3 levels deep */
  treeSnapshot(): unknown;
  /** durations of recent hovers (ms): wall and CPU */
  hoverTimings(): Timings;
  /** durations of recent hovers on lines read from disk (iommuLens.describeLine) */
  fileHoverTimings(): Timings;
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
  // The walk engines and the snapshot readers are a third of the bundle and serve only logs with
  // a snapshot: esbuild turns these require()s into modules evaluated on first use, which keeps
  // them out of the activation time.
  const walks = new WalkService({
    load: (p) => engine().snapshotLoader.loadSnapshot(p),
    walk: (snap, req) => engine().walkEngine.walk(snap, req),
  }, registry, log);
  const tree = new FaultTreeProvider(store);
  const details = new DetailsPanel(ctx.extensionUri, log, () => void vscode.commands.executeCommand('iommuLens.walkAgain'));
  ctx.subscriptions.push(store, registry, walks, tree, details);

  // Created at the first hover: the recognisers and register tables it needs load then.
  let hoverImpl: FaultHoverProvider | undefined;
  const hover = () => (hoverImpl ??= new (hoverModule().FaultHoverProvider)(walks));
  const hoverProxy: vscode.HoverProvider = { provideHover: (doc, pos, token) => hover().provideHover(doc, pos, token) };
  let hoverReg: vscode.Disposable | undefined;
  const registerHover = () => {
    hoverReg?.dispose();
    hoverReg = undefined;
    const s = readSettings();
    if (!s.hoverEnabled) return;
    const selector: vscode.DocumentSelector = s.hoverLanguages.map((language) => ({ language }));
    hoverReg = vscode.languages.registerHoverProvider(selector, hoverProxy);
  };
  registerHover();
  ctx.subscriptions.push({ dispose: () => hoverReg?.dispose() });

  registerCommands(ctx, { store, tree, details, walks, registry, log });

  // Compressed logs scanned from disk are shown as their decompressed text (read-only).
  ctx.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(COMPRESSED_SCHEME, {
    provideTextDocumentContent: (uri) => engine().inputFormat.textOf(uri.fsPath),
  }));

  // The hover text of a line of a log the editor cannot hand to extensions (over 50 MB): the
  // tree's background scan noted where its lines start, so only the line's neighbourhood is read.
  ctx.subscriptions.push(vscode.commands.registerCommand('iommuLens.describeLine', async (uriArg: unknown, lineArg: unknown) => {
    const uri = typeof uriArg === 'string' ? vscode.Uri.parse(uriArg) : uriArg instanceof vscode.Uri ? uriArg : undefined;
    const line = Number(lineArg);
    if (!uri || !Number.isInteger(line) || line < 1) return undefined;
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (doc) return (await hover().provideHover(doc, new vscode.Position(line - 1, 0), new vscode.CancellationTokenSource().token))?.contents
      .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : '')).join('\n');
    const src = store.source;
    if (!src?.lines || src.uri.toString() !== uri.toString()) return undefined;
    return (await hover().describeFileLine(src.lines, uri, line))?.md.value;
  }));

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

  const end = performance.now();
  const cpu = process.cpuUsage(moduleStartCpu);
  const activationMs = end - moduleStart;
  const activationCpuMs = (cpu.user + cpu.system) / 1000;
  log.info(`activated: ${activationMs.toFixed(1)} ms of extension code, ${activationCpuMs.toFixed(1)} ms CPU (${(end - t0).toFixed(1)} ms in activate())`);
  return {
    activationMs,
    activateCallMs: end - t0,
    activationCpuMs,
    fileHoverTimings: () => hover().fileTimings,
    source: () => store.source,
    treeSnapshot: () => tree.snapshot(),
    hoverTimings: () => hover().timings,
    lastRendered: () => details.lastRendered,
    onDidRender: details.onDidRender,
  };
}

export function deactivate(): void {
  // Everything is disposed through ctx.subscriptions.
}
