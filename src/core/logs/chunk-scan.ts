/**
 * Scans a block of complete log lines held as one string, parsing only the lines that contain a
 * recogniser key. Lines that cannot matter never become strings of their own, which is what
 * keeps multi-GB scans close to grep speed.
 */
import type { Scanner } from './scanner';
import { allKeys } from './scanner';

/** One regular expression matching any key: a plain alternation of literals, linear by construction. */
export function keyMatcher(keys: readonly string[] = allKeys()): RegExp {
  const alts = [...keys].sort((a, b) => b.length - a.length).map((k) => k.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'));
  return new RegExp(alts.join('|'), 'g');
}

export interface ChunkScanResult {
  /** lines in the block (a last line without terminator counts) */
  lines: number;
}

/**
 * Push every candidate line of `text` (lines numbered from `firstLine`) into the scanner. While a
 * multi-line record is open, every following line is pushed too, key or not.
 */
export function scanBlock(text: string, scanner: Scanner, matcher: RegExp, firstLine = 1): ChunkScanResult {
  const n = text.length;
  let lineNo = firstLine - 1; // lines fully before `pos`
  let pos = 0;
  // A record left open by the previous block takes this block's first lines, key or not.
  while (scanner.wantsEveryLine && pos < n) {
    let le = text.indexOf('\n', pos);
    if (le < 0) le = n;
    lineNo++;
    scanner.push(text.slice(pos, le), lineNo);
    pos = le + 1;
  }
  matcher.lastIndex = pos;
  for (;;) {
    if (pos >= n) break;
    const m = matcher.exec(text);
    if (!m) break;
    const ls = text.lastIndexOf('\n', m.index) + 1;
    // Count the lines skipped since the last pushed line.
    for (let nl = text.indexOf('\n', pos); nl >= 0 && nl < ls; nl = text.indexOf('\n', nl + 1)) lineNo++;
    pos = ls;
    do {
      let le = text.indexOf('\n', pos);
      if (le < 0) le = n;
      lineNo++;
      scanner.push(text.slice(pos, le), lineNo);
      pos = le + 1;
    } while (scanner.wantsEveryLine && pos < n);
    if (pos >= n) break;
    matcher.lastIndex = pos;
  }
  if (pos < n) {
    for (let nl = text.indexOf('\n', pos); nl >= 0; nl = text.indexOf('\n', nl + 1)) { lineNo++; pos = nl + 1; }
    if (pos < n) lineNo++; // unterminated last line
  }
  return { lines: lineNo - firstLine + 1 };
}
