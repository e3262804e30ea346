/**
 * Hover on a fault line: only that record is decoded (the scanner runs on the hovered line and a
 * few neighbours, so multi-line prints are assembled), never the whole document.
 */
import * as vscode from 'vscode';
import { decodeRecordRegisters } from '../core/decode/explain';
import { recordAtLine } from './record-at-line';
import { recordMarkdown } from './record-markdown';
import type { WalkService } from './walk-service';
import { readSettings } from './settings';

/** Commands a hover link may run; anything else in the Markdown stays a dead link. */
export const HOVER_COMMANDS = ['iommuLens.showWalk', 'iommuLens.showDetails'];

export function commandLink(title: string, command: string, args: unknown[]): string {
  return `[${title}](command:${command}?${encodeURIComponent(JSON.stringify(args))})`;
}

export class FaultHoverProvider implements vscode.HoverProvider {
  /** durations of the last hovers in ms, for the integration test's p99 */
  readonly timings: number[] = [];

  constructor(private readonly walks: WalkService) {}

  async provideHover(doc: vscode.TextDocument, pos: vscode.Position, token: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    const t0 = performance.now();
    try {
      const rec = recordAtLine(pos.line, doc.lineCount, (i) => doc.lineAt(i).text);
      if (!rec || token.isCancellationRequested) return undefined;
      const regs = decodeRecordRegisters(rec);
      const s = readSettings();
      const walk = s.hoverWalk ? await this.walks.walkRecord(rec, doc.uri) : undefined;
      if (token.isCancellationRequested) return undefined;
      const at = { uri: doc.uri.toString(), line: rec.line };
      const links = [commandLink(vscode.l10n.t('Show details'), 'iommuLens.showDetails', [at])];
      if (walk) links.unshift(commandLink(vscode.l10n.t('Show walk'), 'iommuLens.showWalk', [at]));
      const md = new vscode.MarkdownString(recordMarkdown(rec, regs, { ...(walk ? { walk } : {}), links }), true);
      md.isTrusted = { enabledCommands: HOVER_COMMANDS };
      const first = rec.line - 1;
      const last = (rec.endLine ?? rec.line) - 1;
      const range = new vscode.Range(first, 0, last, doc.lineAt(last).text.length);
      return new vscode.Hover(md, range);
    } finally {
      this.timings.push(performance.now() - t0);
      if (this.timings.length > 1000) this.timings.splice(0, this.timings.length - 1000);
    }
  }
}
