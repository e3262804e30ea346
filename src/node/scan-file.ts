/**
 * Streams a log file from disk through the scanner on the calling thread, with bounded memory:
 * the file is read in blocks of complete lines and only candidate lines become strings.
 * (parallel-scan.ts does the same on worker threads for large files.)
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { Scanner } from '../core/logs/scanner';
import { keyFinder, keyMatcher, scanBlock, scanBytes } from '../core/logs/chunk-scan';
import type { FaultRecord } from '../core/logs/record';

const BLOCK = 4 << 20;

export interface FileScanStats {
  lines: number;
  bytes: number;
}

/**
 * Scan `path`, calling `emit` for each record in log order. A line longer than `maxLine` bytes
 * is cut at that length (its head is still scanned) so that a file without newlines cannot
 * exhaust memory. `onProgress` gets bytes read so far after each block.
 */
export function scanFileSync(
  path: string,
  emit: (r: FaultRecord) => void,
  opts: { file?: string; maxLine?: number; onProgress?: (bytes: number) => boolean | void; /** false: the regex path (tests) */ simd?: boolean } = {},
): FileScanStats {
  const fd = openSync(path, 'r');
  try {
    const scanner = new Scanner(emit, { file: opts.file ?? path });
    const maxLine = opts.maxLine ?? 1 << 20;
    // With SIMD the block lives in the finder's memory and only candidate lines are decoded.
    const finder = opts.simd === false ? undefined : keyFinder();
    const matcher = finder ? undefined : keyMatcher();
    const buf = finder ? bufferIn(finder.buffer(BLOCK + maxLine)) : Buffer.allocUnsafe(BLOCK + maxLine);
    const decode = (s: number, e: number) => buf.toString('utf8', s, e);
    const scan = (end: number, firstLine: number) => finder
      ? scanBytes(buf, 0, end, scanner, finder, firstLine, decode)
      : scanBlock(buf.toString('utf8', 0, end), scanner, matcher!, firstLine);
    let carry = 0;
    let lines = 0;
    let bytes = 0;
    for (;;) {
      const n = readSync(fd, buf, carry, BLOCK, null);
      bytes += n;
      const end = carry + n;
      if (n === 0) {
        if (carry > 0) lines += scan(carry, lines + 1).lines;
        break;
      }
      const lastNl = buf.lastIndexOf(10, end - 1);
      let cut = lastNl + 1;
      if (lastNl < 0 && end > maxLine) cut = end; // an over-long line: scan what we have as one line
      if (cut > 0) {
        lines += scan(cut, lines + 1).lines;
        if (lastNl < 0) {
          // drop the rest of the over-long line up to its newline
          let skip: number;
          do {
            const m = readSync(fd, buf, 0, BLOCK, null);
            bytes += m;
            if (m === 0) { skip = -1; break; }
            skip = buf.indexOf(10, 0);
            if (skip >= 0 && skip < m) { buf.copy(buf, 0, skip + 1, m); carry = m - skip - 1; break; }
          } while (true);
          if (skip < 0) { carry = 0; break; }
          continue;
        }
      }
      carry = end - cut;
      if (carry > 0) buf.copy(buf, 0, cut, end);
      if (opts.onProgress?.(bytes) === false) break;
    }
    scanner.end();
    return { lines, bytes };
  } finally {
    closeSync(fd);
  }
}

/** A Buffer over the same bytes (no copy), for Buffer's native indexOf/toString. */
export function bufferIn(view: Uint8Array): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}
