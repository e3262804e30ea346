/**
 * Finds the record a given line belongs to by scanning only a window around it, so a hover
 * costs the same on a 10-line log as on a 10-million-line one. Multi-line prints (SMMUv3 raw
 * event dwords, the SMMUv2 6.11+ three-line print, Xen's two-line VT-d print) start at most a
 * few lines above the hovered one; BEFORE covers the longest of them with room for interleaving.
 */
import { Scanner } from '../core/logs/scanner';
import type { FaultRecord } from '../core/logs/record';

export const BEFORE = 12;
export const AFTER = 12;

/**
 * @param line 0-based line to look at
 * @param lineCount number of lines in the document
 * @param getLine returns the text of a 0-based line
 * @returns the record whose lines include `line` (line numbers are 1-based document lines)
 */
export function recordAtLine(line: number, lineCount: number, getLine: (i: number) => string, file?: string): FaultRecord | undefined {
  const from = Math.max(0, line - BEFORE);
  const to = Math.min(lineCount - 1, line + AFTER);
  const target = line + 1;
  let found: FaultRecord | undefined;
  const scanner = new Scanner((r) => {
    if (!found && r.line <= target && (r.endLine ?? r.line) >= target) found = r;
  }, file !== undefined ? { file } : {});
  for (let i = from; i <= to; i++) scanner.push(getLine(i), i + 1);
  scanner.end();
  return found;
}

/** All records in a range of lines (the details page's neighbours, the report of a selection). */
export function recordsInLines(from: number, to: number, getLine: (i: number) => string): FaultRecord[] {
  const out: FaultRecord[] = [];
  const scanner = new Scanner((r) => out.push(r));
  for (let i = from; i <= to; i++) scanner.push(getLine(i), i + 1);
  scanner.end();
  return out;
}
