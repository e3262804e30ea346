/**
 * The analysis of `iommu-lens report` for the log the tree shows: the same LogAnalyzer, report
 * builder and renderers as the CLI, so Export Report writes what the CLI prints, and the tree's
 * Pending branch shows the page-request / stall lifecycle the report computes.
 * Loaded on first use (extension.ts keeps it out of activation).
 */
import type * as vscode from 'vscode';
import { LogAnalyzer, type Analysis } from '../core/analysis/analyzer';
import { buildReport } from '../core/analysis/report';
import { reportToMarkdown } from '../core/analysis/render-markdown';
import { reportToHtml } from '../core/analysis/render-html';
import { reportToJson } from '../core/analysis/render-json';
import { loadSnapshot } from '../node/load-snapshot';
import { scanFileAsync } from './scan-async';

export type ReportFormat = 'markdown' | 'html' | 'json';

export const REPORT_EXTENSIONS: Record<ReportFormat, string> = { markdown: 'md', html: 'html', json: 'json' };

/** How the report names the log: the path, as `iommu-lens report PATH` would. */
export function sourceName(uri: vscode.Uri): string {
  return uri.scheme === 'file' ? uri.fsPath : uri.toString();
}

/** Analyse a file from disk in the background (chunks, yielding between them), as the CLI reads it. */
export async function analyzeFile(path: string, cancelled?: () => boolean): Promise<Analysis | undefined> {
  const analyzer = new LogAnalyzer({ file: path });
  const res = await scanFileAsync(path, () => undefined, { scanner: analyzer, encoding: 'utf8', ...(cancelled ? { cancelled } : {}) });
  if (res.cancelled) return undefined;
  return analyzer.result(res.lines);
}

/** Analyse the lines of an open document. */
export function analyzeLines(name: string, lineCount: number, getLine: (i: number) => string): Analysis {
  const analyzer = new LogAnalyzer({ file: name });
  for (let i = 0; i < lineCount; i++) analyzer.push(getLine(i), i + 1);
  analyzer.end();
  return analyzer.result(lineCount);
}

/** The report text, with every distinct faulting page walked when a snapshot manifest is given. */
export function renderReport(format: ReportFormat, analysis: Analysis, source: string, snapshotManifest?: string): string {
  const snap = snapshotManifest ? loadSnapshot(snapshotManifest) : undefined;
  try {
    const report = buildReport(analysis, { source, ...(snap ? { snapshot: snap, snapshotName: snapshotManifest! } : {}) });
    return format === 'html' ? reportToHtml(report) : format === 'json' ? reportToJson(report) : reportToMarkdown(report);
  } finally {
    snap?.close();
  }
}
