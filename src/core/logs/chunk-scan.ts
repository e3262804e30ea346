/**
 * Scans a block of complete log lines, parsing only the lines that contain a recogniser key.
 * Two paths give the same lines to the scanner: scanBytes (WebAssembly SIMD finder over the raw
 * bytes: only candidate lines are ever decoded) and scanBlock (one alternation regex over the
 * block decoded as a string), the fallback where WebAssembly SIMD is missing.
 */
import type { Scanner } from './scanner';
import { allKeys } from './scanner';
import { KeyFinder } from './simd/key-finder';

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

/** The SIMD finder for the registry's keys, or undefined where only the regex path works. */
export function keyFinder(keys: readonly string[] = allKeys()): KeyFinder | undefined {
  return KeyFinder.create(keys);
}

let textDecoder: TextDecoder | undefined;

/**
 * scanBlock over bytes: the same lines reach the scanner with the same numbers, but only the
 * candidate lines (and lines an open record asks for) are decoded. `bytes` must be a view from
 * `finder.buffer()`; `decode(start, end)` turns a line's bytes into a string (UTF-8 by default).
 */
export function scanBytes(
  bytes: Uint8Array, start: number, end: number, scanner: Scanner, finder: KeyFinder, firstLine = 1,
  decode?: (start: number, end: number) => string,
): ChunkScanResult {
  const dec = decode ?? ((s: number, e: number) => (textDecoder ??= new TextDecoder()).decode(bytes.subarray(s, e)));
  // The finder can also name the keys of each line, if it searches for the scanner's own keys.
  const hints = sameKeys(finder, scanner);
  let lineNo = firstLine - 1;
  let pos = start;
  const pushLine = () => {
    let le = bytes.indexOf(10, pos);
    if (le < 0 || le > end) le = end;
    lineNo++;
    if (hints) scanner.push(dec(pos, le), lineNo, finder.keysIn(pos, le));
    else scanner.push(dec(pos, le), lineNo);
    pos = le + 1;
  };
  // A record left open by the previous block takes this block's first lines, key or not.
  while (scanner.wantsEveryLine && pos < end) pushLine();
  if (pos >= end) return { lines: lineNo - firstLine + 1 };
  const newlines = finder.forEachCandidate(bytes, pos, end, lineNo - firstLine + 1, (ls, idx) => {
    if (ls < pos) return; // already pushed for an open record
    lineNo = firstLine - 1 + idx;
    pos = ls;
    do pushLine(); while (scanner.wantsEveryLine && pos < end);
  });
  return { lines: newlines + (bytes[end - 1] !== 10 ? 1 : 0) };
}

const checked = new WeakMap<Scanner, KeyFinder>();
function sameKeys(finder: KeyFinder, scanner: Scanner): boolean {
  if (checked.get(scanner) === finder) return true;
  const a = finder.keys, b = scanner.keyList;
  const same = a.length === b.length && a.every((k, i) => k === b[i]);
  if (same) checked.set(scanner, finder);
  return same;
}
