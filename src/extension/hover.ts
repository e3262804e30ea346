/**
 * Hover on a fault line: only that record is decoded (the scanner runs on the hovered line and a
 * few neighbours, so multi-line prints are assembled), never the whole document. The same text is
 * available for lines of files too large for the editor to hand over (over 50 MB): those lines
 * are read from disk through the line index the background scan builds.
 */
import * as vscode from 'vscode';
import { decodeRecordRegisters } from '../core/decode/explain';
import { recordAtLine, BEFORE, AFTER } from './record-at-line';
import { recordMarkdown } from './record-markdown';
import type { WalkService } from './walk-service';
import { readSettings } from './settings';
import type { SparseLineIndex } from './line-index';
import { readIndexedLines } from './file-lines';

/** Commands a hover link may run; anything else in the Markdown stays a dead link. */
export const HOVER_COMMANDS = ['iommuLens.showWalk', 'iommuLens.showDetails'];

export function commandLink(title: string, command: string, args: unknown[]): string {
  return `[${title}](command:${command}?${encodeURIComponent(JSON.stringify(args))})`;
}

const KEEP = 1000;

/**
 * Durations of recent calls: wall time, and the CPU time the extension host spent meanwhile, which
 * is the provider's own cost even when a busy machine keeps the thread waiting for a core.
 */
export class Timings {
  readonly wall: number[] = [];
  readonly cpu: number[] = [];

  start(): () => void {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    return () => {
      const c = process.cpuUsage(c0);
      this.wall.push(performance.now() - t0);
      this.cpu.push((c.user + c.system) / 1000);
      if (this.wall.length > KEEP) { this.wall.splice(0, this.wall.length - KEEP); this.cpu.splice(0, this.cpu.length - KEEP); }
    };
  }
}

export interface Described {
  md: vscode.MarkdownString;
  /** 0-based first and last line of the record */
  first: number;
  last: number;
}

export class FaultHoverProvider implements vscode.HoverProvider {
  /** the last editor hovers, for the integration test's p99 */
  readonly timings = new Timings();
  /** the last hovers on lines read from disk (describeFileLine) */
  readonly fileTimings = new Timings();

  constructor(private readonly walks: WalkService) {}

  async provideHover(doc: vscode.TextDocument, pos: vscode.Position, token: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    const done = this.timings.start();
    try {
      const d = await this.describe(doc.lineCount, (i) => doc.lineAt(i).text, pos.line, doc.uri, token);
      if (!d) return undefined;
      return new vscode.Hover(d.md, new vscode.Range(d.first, 0, d.last, doc.lineAt(d.last).text.length));
    } finally {
      done();
    }
  }

  /** The hover text of a 1-based line of a file on disk, reading only that line's neighbourhood. */
  async describeFileLine(index: SparseLineIndex, uri: vscode.Uri, line: number): Promise<Described | undefined> {
    const done = this.fileTimings.start();
    try {
      const from = Math.max(1, line - BEFORE);
      const texts = readIndexedLines(index, from, line + AFTER);
      if (line - from >= texts.length) return undefined; // past the end of the file
      return await this.describe(from - 1 + texts.length, (i) => texts[i - (from - 1)] ?? '', line - 1, uri);
    } finally {
      done();
    }
  }

  private async describe(lineCount: number, getLine: (i: number) => string, line0: number, uri: vscode.Uri, token?: vscode.CancellationToken): Promise<Described | undefined> {
    const rec = recordAtLine(line0, lineCount, getLine);
    if (!rec || token?.isCancellationRequested) return undefined;
    const regs = decodeRecordRegisters(rec);
    const s = readSettings();
    const walk = s.hoverWalk ? await this.walks.walkRecord(rec, uri) : undefined;
    if (token?.isCancellationRequested) return undefined;
    const at = { uri: uri.toString(), line: rec.line };
    const links = [commandLink(vscode.l10n.t('Show details'), 'iommuLens.showDetails', [at])];
    if (walk) links.unshift(commandLink(vscode.l10n.t('Show walk'), 'iommuLens.showWalk', [at]));
    const md = new vscode.MarkdownString(recordMarkdown(rec, regs, { ...(walk ? { walk } : {}), links }), true);
    md.isTrusted = { enabledCommands: HOVER_COMMANDS };
    return { md, first: rec.line - 1, last: (rec.endLine ?? rec.line) - 1 };
  }
}
