/**
 * Reading a few lines of a log for the details page: from the open document when there is one,
 * else streamed from disk (VS Code never opens documents over 50 MB for extensions).
 */
import * as vscode from 'vscode';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { SourceLine } from '../core/protocol';
import type { SparseLineIndex } from './line-index';
import { readIndexedLines } from './file-lines';

const MAX_TEXT = 4096; // a single corrupt line must not bloat the page

function openDocument(uri: vscode.Uri): vscode.TextDocument | undefined {
  return vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
}

/** Lines by 1-based number; missing lines are left out. */
export async function readSourceLines(uri: vscode.Uri, wanted: number[], index?: SparseLineIndex): Promise<SourceLine[]> {
  const set = [...new Set(wanted.filter((n) => Number.isInteger(n) && n >= 1))].sort((a, b) => a - b);
  if (!set.length) return [];
  const doc = openDocument(uri);
  if (doc) return set.filter((n) => n <= doc.lineCount).map((n) => ({ line: n, text: doc.lineAt(n - 1).text.slice(0, MAX_TEXT) }));
  if (index && uri.scheme === 'file' && index.path === uri.fsPath) return readByIndex(index, set);
  if (uri.scheme !== 'file') {
    const d = await vscode.workspace.openTextDocument(uri);
    return set.filter((n) => n <= d.lineCount).map((n) => ({ line: n, text: d.lineAt(n - 1).text.slice(0, MAX_TEXT) }));
  }
  const out: SourceLine[] = [];
  const last = set[set.length - 1]!;
  const stream = createReadStream(uri.fsPath, { encoding: 'latin1' });
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  let i = 0;
  try {
    for await (const text of rl) {
      n++;
      if (n === set[i]) { out.push({ line: n, text: text.slice(0, MAX_TEXT) }); i++; }
      if (n >= last) break;
    }
  } finally {
    rl.close();
    stream.destroy();
  }
  return out;
}

/** Seeks to each run of nearby lines instead of reading the file up to the last one. */
function readByIndex(index: SparseLineIndex, sorted: number[]): SourceLine[] {
  const out: SourceLine[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1]! - sorted[i]! < 64) j++;
    const from = sorted[i]!;
    const texts = readIndexedLines(index, from, sorted[j]!);
    for (let k = i; k <= j; k++) {
      const t = texts[sorted[k]! - from];
      if (t !== undefined) out.push({ line: sorted[k]!, text: t.slice(0, MAX_TEXT) });
    }
    i = j + 1;
  }
  return out;
}

export function lineRange(from: number, to: number): number[] {
  const out: number[] = [];
  for (let n = from; n <= to && out.length < 64; n++) out.push(n);
  return out;
}
