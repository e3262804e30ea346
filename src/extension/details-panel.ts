/**
 * Host side of the "Fault Details" webview panel: one panel, reused. The page keeps what it shows
 * in its own persisted state (getState/setState), so after a window reload the serializer only
 * has to give it back its HTML; no retainContextWhenHidden needed.
 */
import * as vscode from 'vscode';
import { DETAILS_VIEW_TYPE, isFromWebview, type FaultDetails, type FromWebview, type ToWebview } from '../core/protocol';

export type RenderedMessage = Extract<FromWebview, { type: 'rendered' }>;

export class DetailsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private pending: FaultDetails | undefined;
  private ready = false;
  /** the log of the details last sent: the only document the page may ask to reveal */
  private shownUri: string | undefined;
  private readonly rendered = new vscode.EventEmitter<RenderedMessage>();
  /** fires when the page has drawn what it was sent */
  readonly onDidRender = this.rendered.event;
  lastRendered: RenderedMessage | undefined;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    private readonly onWalkAgain: () => void,
  ) {
    this.subs.push(this.rendered, vscode.window.registerWebviewPanelSerializer(DETAILS_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel) => {
        this.adopt(panel);
      },
    }));
  }

  dispose(): void {
    this.panel?.dispose();
    for (const s of this.subs) s.dispose();
  }

  show(details: FaultDetails): void {
    if (!this.panel) {
      const panel = vscode.window.createWebviewPanel(DETAILS_VIEW_TYPE, vscode.l10n.t('Fault Details'),
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, this.options());
      this.adopt(panel);
    } else this.panel.reveal(undefined, true);
    this.panel!.title = vscode.l10n.t('Fault Details: {0}', details.title).slice(0, 80);
    this.pending = details;
    this.shownUri = details.uri;
    if (this.ready) this.flush();
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      enableCommandUris: false,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    panel.webview.options = this.options();
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'images', 'icon.png');
    panel.webview.html = this.html(panel.webview);
    // A hidden webview loses its page (no retainContextWhenHidden); it reloads when shown and
    // says 'ready' again, so messages wait until then instead of going to a page that is gone.
    panel.onDidChangeViewState((e) => {
      if (!e.webviewPanel.visible) this.ready = false;
    });
    panel.onDidDispose(() => {
      if (this.panel === panel) { this.panel = undefined; this.ready = false; }
    });
    panel.webview.onDidReceiveMessage((m: unknown) => this.receive(m));
  }

  private flush(): void {
    if (!this.panel || !this.pending) return;
    const msg: ToWebview = { type: 'show', details: this.pending };
    this.pending = undefined;
    void this.panel.webview.postMessage(msg);
  }

  private receive(m: unknown): void {
    if (!isFromWebview(m)) { this.log.warn('ignored a malformed message from the details page'); return; }
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.flush();
        break;
      case 'rendered':
        this.lastRendered = m;
        this.log.debug(`details page drew "${m.title}": ${m.registers} registers, ${m.steps} walk steps (${m.theme})`);
        this.rendered.fire(m);
        break;
      case 'revealLine':
        // Only the log the page was given (or, for a page restored after a reload, a local log).
        if (m.uri === this.shownUri || (this.shownUri === undefined && /^(?:file|untitled|vscode-remote):/.test(m.uri))) {
          void vscode.commands.executeCommand('iommuLens.revealLine', m.uri, m.line);
        } else this.log.warn(`details page asked to open ${m.uri}, which it was not shown`);
        break;
      case 'walkAgain':
        this.onWalkAgain();
        break;
    }
  }

  private html(webview: vscode.Webview): string {
    const nonce = makeNonce();
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'webview', 'style.css'));
    // Log text is untrusted: no inline script or style, nothing but our own bundle can run.
    const csp = [
      "default-src 'none'",
      `img-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `style-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>Fault Details</title>
</head>
<body>
<main id="app" aria-live="polite"><p class="empty">Select a fault in the IOMMU Faults view, or hover a fault line and choose “Show walk”.</p></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
  }
}

function makeNonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  const rnd = new Uint8Array(32);
  globalThis.crypto.getRandomValues(rnd);
  for (const b of rnd) s += chars[b % chars.length];
  return s;
}
