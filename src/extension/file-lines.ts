/**
 * Reads a few lines of a log file from disk through its SparseLineIndex: one seek, then at most
 * EVERY + the wanted lines, whatever the size of the file. Synchronous on purpose: a hover-sized
 * read is a few hundred KiB at most and an await would cost more than the read.
 * Decoded as latin1 like the background scan, so offsets never split a character.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { EVERY, type SparseLineIndex } from './line-index';

const BLOCK = 64 * 1024;
const MAX_LINE = 64 * 1024;

/**
 * Lines `from`..`to` (1-based, inclusive) of the indexed file; a shorter array when the file
 * ends first. Lines longer than 64 KiB are cut.
 */
export function readIndexedLines(index: SparseLineIndex, from: number, to: number): string[] {
  if (to < from || from < 1) return [];
  const start = index.seek(from);
  // Past the indexed part (a scan still running): never read more than one block per line asked.
  const budget = (from - start.line + (to - from + 1) + EVERY) * MAX_LINE;
  const fd = openSync(index.path, 'r');
  try {
    const out: string[] = [];
    const buf = Buffer.allocUnsafe(BLOCK);
    let pos = start.offset;
    let line = start.line;
    let pending: Buffer[] = [];
    let pendingLen = 0;
    let read = 0;
    let eof = false;
    while (line <= to && read < budget) {
      const n = readSync(fd, buf, 0, BLOCK, pos);
      if (n <= 0) { eof = true; break; }
      pos += n;
      read += n;
      let s = 0;
      for (;;) {
        const nl = buf.indexOf(10, s);
        if (nl < 0 || nl >= n) break;
        if (line >= from) {
          const tail = buf.subarray(s, nl);
          const text = pendingLen ? Buffer.concat([...pending, tail]).toString('latin1', 0, MAX_LINE) : tail.toString('latin1', 0, Math.min(tail.length, MAX_LINE));
          out.push(text.endsWith('\r') ? text.slice(0, -1) : text);
        }
        pending = [];
        pendingLen = 0;
        line++;
        s = nl + 1;
        if (line > to) break;
      }
      if (line > to) break;
      if (s < n && line >= from && pendingLen < MAX_LINE) {
        pending.push(Buffer.from(buf.subarray(s, n)));
        pendingLen += n - s;
      }
    }
    // A last line without a newline.
    if (eof && line <= to && line >= from && pendingLen) out.push(Buffer.concat(pending).toString('latin1', 0, MAX_LINE));
    return out;
  } finally {
    closeSync(fd);
  }
}
