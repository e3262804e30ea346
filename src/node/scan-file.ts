/**
 * Streams a log file from disk through the scanner with bounded memory: the file is read in
 * fixed-size chunks and only lines that may matter are decoded to strings.
 */
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { Scanner } from '../core/logs/scanner';
import type { FaultRecord } from '../core/logs/record';

const CHUNK = 1 << 20;

export interface FileScanStats {
  lines: number;
  bytes: number;
}

/**
 * Scan `path`, calling `emit` for each record in log order. Lines longer than `maxLine` bytes are
 * cut (their start is still scanned) so that a corrupt file without newlines cannot exhaust memory.
 */
export function scanFileSync(path: string, emit: (r: FaultRecord) => void, opts: { file?: string; maxLine?: number } = {}): FileScanStats {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const scanner = new Scanner(emit, { file: opts.file ?? path });
    const maxLine = opts.maxLine ?? 64 * 1024;
    let buf = Buffer.allocUnsafe(CHUNK + maxLine);
    let carry = 0; // bytes of an unfinished line kept at the start of buf
    let lineNo = 0;
    let bytes = 0;
    let skipping = false; // inside an over-long line whose head was already pushed
    for (;;) {
      const n = readSync(fd, buf, carry, CHUNK, null);
      bytes += n;
      const end = carry + n;
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(10, start);
        if (nl < 0 || nl >= end) break;
        lineNo++;
        if (skipping) skipping = false;
        else scanner.push(buf.toString('latin1', start, nl), lineNo);
        start = nl + 1;
      }
      if (n === 0) {
        if (start < end && !skipping) { lineNo++; scanner.push(buf.toString('latin1', start, end), lineNo); }
        break;
      }
      carry = end - start;
      if (carry > maxLine) {
        // An over-long line: scan its head now, drop the rest up to the next newline.
        if (!skipping) { lineNo++; scanner.push(buf.toString('latin1', start, start + maxLine), lineNo); skipping = true; }
        carry = 0;
      } else if (carry > 0) buf.copy(buf, 0, start, end);
      if (buf.length < carry + CHUNK) { const b = Buffer.allocUnsafe(carry + CHUNK); buf.copy(b, 0, 0, carry); buf = b; }
    }
    scanner.end();
    return { lines: lineNo, bytes: size };
  } finally {
    closeSync(fd);
  }
}
