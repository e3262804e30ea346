/**
 * The log the tree shows and its FaultIndex. A small document is scanned from its text; a large
 * one (or a file picked with "Scan Log") is read from disk in the background with cancellable
 * progress, and the tree fills in as records arrive. VS Code does not hand documents over 50 MB
 * to extensions at all, so reading from disk is also the only way to see those.
 */
import * as vscode from 'vscode';
import { stat } from 'node:fs/promises';
import { FaultIndex } from './fault-index';
import { engine, inputFormatModule, scanAsyncModule, scannerModule } from './lazy';
import type { InputFormat } from '../node/input-format';
import { SparseLineIndex } from './line-index';
import type { Analysis } from '../core/analysis/analyzer';
import type * as LogAnalysisModule from './log-analysis';

/** The report's analysis code, evaluated on first use (see extension.ts on activation cost). */
export const logAnalysis = (): typeof LogAnalysisModule => engine().logAnalysis;

export interface FaultSource {
  uri: vscode.Uri;
  /** short name for titles */
  name: string;
  index: FaultIndex;
  state: 'scanning' | 'done' | 'cancelled' | 'failed';
  error?: string;
  /** ms the scan took */
  elapsed?: number;
  /** line offsets of a file read from disk: hovers and details on logs the editor cannot hand over */
  lines?: SparseLineIndex;
  /** a compressed or UTF-16 file: `uri` is then its decompressed text (COMPRESSED_SCHEME) */
  compressed?: string;
  /**
   * The analysis `iommu-lens report` makes of the same log: run after the scan when the log has
   * page requests or stalls (the Pending branch shows their lifecycle), else on Export Report.
   */
  analysis?: Analysis;
  /** the analysis is running */
  analyzing?: Promise<Analysis | undefined>;
}

const REFRESH_MS = 300;

/** The decompressed text of a compressed log file (same path): see extension.ts's content provider. */
export const COMPRESSED_SCHEME = 'iommu-lens-log';

export class FaultStore implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<FaultSource | undefined>();
  readonly onDidChange = this.changed.event;
  private current: FaultSource | undefined;
  private cts: vscode.CancellationTokenSource | undefined;
  private lastFire = 0;

  constructor(private readonly log: vscode.LogOutputChannel) {}

  get source(): FaultSource | undefined {
    return this.current;
  }

  dispose(): void {
    this.cts?.cancel();
    this.changed.dispose();
  }

  /**
   * Scan an open document: from its text when small, else from disk.
   * `tentative` is for documents that are not known to be kernel logs (any .log or .txt the user
   * opens): they are scanned only when small, and replace what the tree shows only if they
   * contain faults, so opening notes.txt does not wipe the fault view.
   */
  async scanDocument(doc: vscode.TextDocument, backgroundBytes: number, opts: { tentative?: boolean } = {}): Promise<FaultSource | undefined> {
    if (doc.uri.scheme === 'file') {
      const size = await stat(doc.uri.fsPath).then((s) => s.size, () => 0);
      if (size > backgroundBytes) return opts.tentative ? undefined : this.scanFile(doc.uri);
    }
    const t0 = Date.now();
    const index = new FaultIndex();
    const src: FaultSource = { uri: doc.uri, name: baseName(doc.uri), index, state: 'scanning' };
    const { Scanner } = scannerModule();
    const scanner = new Scanner((r) => index.add(r), { file: doc.uri.scheme === 'file' ? doc.uri.fsPath : doc.uri.toString() });
    const n = doc.lineCount;
    for (let i = 0; i < n; i++) scanner.push(doc.lineAt(i).text, i + 1);
    scanner.end();
    index.lines = n;
    src.state = 'done';
    src.elapsed = Date.now() - t0;
    this.log.info(`scanned ${src.name} from the editor: ${index.total} records in ${n} lines, ${src.elapsed} ms`);
    if (opts.tentative && index.total === 0 && index.suppressed === 0 && this.current) return src;
    this.cts?.cancel();
    this.current = src;
    this.changed.fire(src);
    if (index.pending.count) await this.analyze(src, doc);
    return src;
  }

  /**
   * The report's analysis of a source (cached): from the document's lines when it is open, else
   * read from disk in the background. Fires a change so the Pending branch picks it up.
   */
  analyze(src: FaultSource, doc?: vscode.TextDocument): Promise<Analysis | undefined> {
    if (src.analysis) return Promise.resolve(src.analysis);
    if (src.analyzing) return src.analyzing;
    const t0 = Date.now();
    const la = logAnalysis();
    const name = la.sourceName(src.uri);
    const run = async (): Promise<Analysis | undefined> => {
      const open = doc ?? vscode.workspace.textDocuments.find((d) => d.uri.toString() === src.uri.toString());
      // VS Code counts the empty line after a final newline; the CLI's reader does not.
      if (open) return la.analyzeLines(name, open.lineCount - (open.lineCount > 0 && open.lineAt(open.lineCount - 1).text === '' ? 1 : 0), (i) => open.lineAt(i).text);
      if (src.uri.scheme !== 'file') return la.analyzeLines(name, 0, () => '');
      return la.analyzeFile(src.uri.fsPath, () => this.current !== src);
    };
    src.analyzing = run().then((a) => {
      if (a) {
        src.analysis = a;
        const pr = a.pageRequests.counts;
        this.log.info(`analysed ${src.name}: ${a.records} records, ${a.groups.length} groups, page requests/stalls ${Object.entries(pr).map(([k, v]) => `${k} ${v}`).join(', ')}, ${Date.now() - t0} ms`);
        if (this.current === src) this.changed.fire(src);
      }
      return a;
    }, (e: unknown) => {
      this.log.error(`analysis of ${src.name} failed: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }).finally(() => { src.analyzing = undefined; });
    return src.analyzing;
  }

  /** Scan a file from disk in the background with a cancellable progress notification. */
  scanFile(uri: vscode.Uri): Promise<FaultSource> {
    this.cts?.cancel();
    const cts = new vscode.CancellationTokenSource();
    this.cts = cts;
    const index = new FaultIndex();
    let format: InputFormat | undefined;
    try { format = inputFormatModule().inputFormat(uri.fsPath); } catch { /* the scan reports it */ }
    const compressed = format !== undefined && format !== 'text';
    // A compressed log is shown (reveal, details) as its decompressed text, from a virtual document.
    const shown = compressed ? uri.with({ scheme: COMPRESSED_SCHEME }) : uri;
    const src: FaultSource = { uri: shown, name: baseName(uri), index, state: 'scanning', ...(compressed ? { compressed: format } : {}) };
    this.current = src;
    this.changed.fire(src);
    const t0 = Date.now();
    const lineIndexP = compressed ? Promise.resolve(undefined) : stat(uri.fsPath).then((st) => new SparseLineIndex(uri.fsPath, st.size, st.mtimeMs), () => undefined);
    return Promise.resolve(vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Scanning {0} for IOMMU faults', src.name), cancellable: true },
      async (progress, token) => {
        const sub = token.onCancellationRequested(() => cts.cancel());
        let reported = 0;
        try {
          const lines = await lineIndexP;
          if (lines) src.lines = lines;
          const res = await scanAsyncModule().scanFileAsync(uri.fsPath, (r) => index.add(r), {
            ...(lines ? { index: lines } : {}),
            ...(format ? { format } : {}),
            cancelled: () => cts.token.isCancellationRequested,
            progress: (p) => {
              index.lines = p.lines;
              // bytes of a decompressed stream have no share of the file's size
              const pct = p.size && !src.compressed ? (100 * p.bytes) / p.size : 0;
              progress.report({ increment: pct - reported, message: vscode.l10n.t('{0} faults, {1} lines', index.total, p.lines) });
              reported = pct;
              this.fireThrottled(src);
            },
          });
          index.lines = res.lines;
          src.state = res.cancelled ? 'cancelled' : 'done';
          if (res.error) {
            src.error = res.error;
            this.log.warn(`${uri.fsPath}: ${res.error}`);
            void vscode.window.showWarningMessage(vscode.l10n.t('{0}: {1}', src.name, res.error));
          }
        } catch (e) {
          src.state = 'failed';
          src.error = e instanceof Error ? e.message : String(e);
          this.log.error(`scan of ${uri.fsPath} failed: ${src.error}`);
          void vscode.window.showErrorMessage(vscode.l10n.t('Could not scan {0}: {1}', src.name, src.error));
        } finally {
          sub.dispose();
          if (this.cts === cts) this.cts = undefined;
        }
        src.elapsed = Date.now() - t0;
        this.log.info(`scanned ${uri.fsPath} from disk: ${index.total} records in ${index.lines} lines, ${src.elapsed} ms (${src.state})`);
        if (this.current === src) this.changed.fire(src);
        if (src.state === 'done' && index.pending.count && this.current === src) await this.analyze(src);
        return src;
      }));
  }

  clear(): void {
    this.cts?.cancel();
    this.current = undefined;
    this.changed.fire(undefined);
  }

  private fireThrottled(src: FaultSource): void {
    const now = Date.now();
    if (now - this.lastFire < REFRESH_MS || this.current !== src) return;
    this.lastFire = now;
    this.changed.fire(src);
  }
}

export function baseName(uri: vscode.Uri): string {
  const p = uri.path;
  return p.slice(p.lastIndexOf('/') + 1) || p;
}
